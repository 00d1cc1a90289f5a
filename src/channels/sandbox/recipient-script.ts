import type { MessageError } from '../../core/message-status.js';
import { invalid, valid, type InvalidParameter, type Validation } from '../../core/validation.js';

/**
 * How a sandbox recipient behaves, as scripted with `PUT /sandbox/recipients/{channel}/{address}`:
 *   {"delivered_after": 0.5, "read_after": 2}     delivered at 0.5 s, read at 2 s
 *   {"delivered_after": 0.5}                        delivered, never read (the default, 1 s)
 *   {"reject": {"code": 1020, "reason": "…"}}       refused when sent
 *   {"undeliverable_after": 3, "error": {…}}        accepted, then undeliverable
 *   {"silent": true}                                stays submitted
 *   {"transient_failures": 3, "retry_after": 2}    each message's first 3 sends fail as a provider
 *                                                   503 asking for 2 s, then as scripted (combines
 *                                                   with any of the above)
 */
export type RecipientBehaviour =
  /** `deliveredAfter` absent: the network's default (sandbox.default_delivered_after). */
  | { kind: 'deliver'; deliveredAfter?: number; readAfter?: number }
  | { kind: 'reject'; error: MessageError }
  | { kind: 'undeliverable'; after: number; error: MessageError }
  | { kind: 'silent' };

export interface TransientFailures {
  count: number;
  retryAfterSeconds?: number;
}

export type RecipientScript = RecipientBehaviour & { transient?: TransientFailures };

/** A receipt the sandbox network will send back, `afterMs` after the message was submitted. */
export interface PlannedReceipt {
  status: 'delivered' | 'read' | 'undeliverable';
  afterMs: number;
  error?: MessageError;
}

const MAX_DELAY_SECONDS = 7 * 86400;
const MAX_TRANSIENT_FAILURES = 100;
const MAX_RETRY_AFTER_SECONDS = 3600;
const DEFAULT_UNDELIVERABLE_ERROR: MessageError = { code: 1300, reason: 'Not part of the provider network' };
const KNOWN_FIELDS = new Set(['delivered_after', 'read_after', 'reject', 'undeliverable_after', 'error', 'silent', 'transient_failures', 'retry_after']);

export function parseRecipientScript(body: unknown): Validation<RecipientScript> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return invalid([{ name: 'body', reason: 'must be a JSON object' }]);
  }
  const fields = body as Record<string, unknown>;
  const errors: InvalidParameter[] = Object.keys(fields)
    .filter((key) => !KNOWN_FIELDS.has(key))
    .map((key) => ({ name: key, reason: `is not a script field (${[...KNOWN_FIELDS].join(', ')})` }));

  const modes = ['reject', 'undeliverable_after', 'silent'].filter((key) => fields[key] !== undefined);
  if (modes.length > 1 || (modes.length === 1 && (fields.delivered_after !== undefined || fields.read_after !== undefined))) {
    errors.push({ name: modes[0] ?? 'body', reason: 'choose one behaviour: delivered_after/read_after, reject, undeliverable_after or silent' });
    return invalid(errors);
  }
  const transient = parseTransient(fields, errors);
  // Transient failures alone are a script (a bad count is reported under its own name).
  const behaviour = parseBehaviour(fields, errors, fields.transient_failures !== undefined);
  if (errors.length > 0 || !behaviour) return invalid(errors);
  return valid(transient ? { ...behaviour, transient } : behaviour);
}

function parseTransient(fields: Record<string, unknown>, errors: InvalidParameter[]): TransientFailures | undefined {
  if (fields.transient_failures === undefined) {
    if (fields.retry_after !== undefined) errors.push({ name: 'retry_after', reason: 'only goes with transient_failures' });
    return undefined;
  }
  const count = fields.transient_failures;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_TRANSIENT_FAILURES) {
    errors.push({ name: 'transient_failures', reason: `must be an integer from 1 to ${MAX_TRANSIENT_FAILURES}` });
    return undefined;
  }
  if (fields.retry_after === undefined) return { count };
  const retryAfter = fields.retry_after;
  if (typeof retryAfter !== 'number' || !Number.isFinite(retryAfter) || retryAfter < 0 || retryAfter > MAX_RETRY_AFTER_SECONDS) {
    errors.push({ name: 'retry_after', reason: `must be a number of seconds from 0 to ${MAX_RETRY_AFTER_SECONDS}` });
    return undefined;
  }
  return { count, retryAfterSeconds: retryAfter };
}

function parseBehaviour(fields: Record<string, unknown>, errors: InvalidParameter[], transient: boolean): RecipientBehaviour | undefined {
  if (fields.silent !== undefined) {
    if (fields.silent !== true) errors.push({ name: 'silent', reason: 'must be true' });
    return { kind: 'silent' };
  }
  if (fields.reject !== undefined) {
    const error = parseError('reject', fields.reject, errors);
    return error && { kind: 'reject', error };
  }
  if (fields.undeliverable_after !== undefined) {
    const after = parseDelay('undeliverable_after', fields.undeliverable_after, errors);
    const error = fields.error === undefined ? DEFAULT_UNDELIVERABLE_ERROR : parseError('error', fields.error, errors);
    return after !== undefined && error ? { kind: 'undeliverable', after, error } : undefined;
  }
  if (fields.error !== undefined) errors.push({ name: 'error', reason: 'only goes with undeliverable_after' });
  if (fields.delivered_after === undefined && fields.read_after === undefined) {
    // Transient failures alone: after them, the network's default behaviour.
    if (transient) return { kind: 'deliver' };
    errors.push({ name: 'body', reason: 'script one of delivered_after, read_after, reject, undeliverable_after, silent, transient_failures' });
    return undefined;
  }
  const readAfter = fields.read_after === undefined ? undefined : parseDelay('read_after', fields.read_after, errors);
  const deliveredAfter = fields.delivered_after === undefined ? undefined : parseDelay('delivered_after', fields.delivered_after, errors);
  // A bad delay has been reported under its own name.
  if (deliveredAfter === undefined && readAfter === undefined) return undefined;
  if (deliveredAfter !== undefined && readAfter !== undefined && readAfter < deliveredAfter) {
    errors.push({ name: 'read_after', reason: 'must not be earlier than delivered_after' });
  }
  // A message read without an explicit delivery time is delivered when it is read.
  return { kind: 'deliver', deliveredAfter: deliveredAfter ?? readAfter!, ...(readAfter !== undefined && { readAfter }) };
}

function parseDelay(name: string, value: unknown, errors: InvalidParameter[]): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_DELAY_SECONDS) {
    errors.push({ name, reason: `must be a number of seconds from 0 to ${MAX_DELAY_SECONDS}` });
    return undefined;
  }
  return value;
}

function parseError(name: string, value: unknown, errors: InvalidParameter[]): MessageError | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    errors.push({ name, reason: 'must be an object {code, reason}' });
    return undefined;
  }
  const { code, reason } = value as Record<string, unknown>;
  let ok = true;
  if (typeof code !== 'number' || !Number.isInteger(code) || code < 1000 || code > 9999) {
    errors.push({ name: `${name}.code`, reason: 'must be a Nexmo error code (an integer such as 1020)' });
    ok = false;
  }
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > 200)) {
    errors.push({ name: `${name}.reason`, reason: 'must be a string of at most 200 characters' });
    ok = false;
  }
  return ok ? { code: code as number, reason: (reason as string | undefined) ?? defaultReason(code as number) } : undefined;
}

/** Short texts of the Nexmo messages error codes most used in scripts (reference §2.7). */
const REASONS: Record<number, string> = {
  1000: 'Throttled',
  1020: 'Invalid params',
  1050: 'Number barred',
  1170: 'Invalid or missing MSISDN',
  1180: 'Absent subscriber - temporary',
  1190: 'Absent subscriber - permanent',
  1240: 'Illegal number',
  1250: 'Unroutable',
  1300: 'Not part of the provider network',
  1340: 'Outside of the allowed window',
};

function defaultReason(code: number): string {
  return REASONS[code] ?? 'Error';
}

/** The script in its wire form, as `PUT /sandbox/recipients/…` takes it, with defaults filled in. */
export function recipientScriptJson(script: RecipientScript): Record<string, unknown> {
  const transient = script.transient && {
    transient_failures: script.transient.count,
    ...(script.transient.retryAfterSeconds !== undefined && { retry_after: script.transient.retryAfterSeconds }),
  };
  return { ...behaviourJson(script), ...transient };
}

function behaviourJson(behaviour: RecipientBehaviour): Record<string, unknown> {
  switch (behaviour.kind) {
    case 'deliver':
      return {
        ...(behaviour.deliveredAfter !== undefined && { delivered_after: behaviour.deliveredAfter }),
        ...(behaviour.readAfter !== undefined && { read_after: behaviour.readAfter }),
      };
    case 'reject':
      return { reject: { code: behaviour.error.code, reason: behaviour.error.reason } };
    case 'undeliverable':
      return { undeliverable_after: behaviour.after, error: { code: behaviour.error.code, reason: behaviour.error.reason } };
    case 'silent':
      return { silent: true };
  }
}

/** The receipts a script produces for one submitted message. */
export function plannedReceipts(behaviour: RecipientBehaviour, defaultDeliveredAfterSeconds: number): PlannedReceipt[] {
  switch (behaviour.kind) {
    case 'deliver':
      return [
        { status: 'delivered', afterMs: (behaviour.deliveredAfter ?? defaultDeliveredAfterSeconds) * 1000 },
        ...(behaviour.readAfter === undefined ? [] : [{ status: 'read' as const, afterMs: behaviour.readAfter * 1000 }]),
      ];
    case 'undeliverable':
      return [{ status: 'undeliverable', afterMs: behaviour.after * 1000, error: behaviour.error }];
    case 'reject':
    case 'silent':
      return [];
  }
}

/** Whether this try of a message is one of the scripted transient failures (tries count from 1). */
export function failsTransiently(script: RecipientScript, attempt: number): boolean {
  return script.transient !== undefined && attempt <= script.transient.count;
}
