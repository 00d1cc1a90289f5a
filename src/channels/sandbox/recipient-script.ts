import type { MessageError } from '../../core/message-status.js';
import { invalid, valid, type InvalidParameter, type Validation } from '../../core/validation.js';

/**
 * How a sandbox recipient behaves, as scripted with `PUT /sandbox/recipients/{channel}/{address}`:
 *   {"delivered_after": 0.5, "read_after": 2}     delivered at 0.5 s, read at 2 s
 *   {"delivered_after": 0.5}                        delivered, never read (the default, 1 s)
 *   {"reject": {"code": 1020, "reason": "…"}}       refused when sent
 *   {"undeliverable_after": 3, "error": {…}}        accepted, then undeliverable
 *   {"silent": true}                                stays submitted
 */
export type RecipientScript =
  | { kind: 'deliver'; deliveredAfter: number; readAfter?: number }
  | { kind: 'reject'; error: MessageError }
  | { kind: 'undeliverable'; after: number; error: MessageError }
  | { kind: 'silent' };

/** A receipt the sandbox network will send back, `afterMs` after the message was submitted. */
export interface PlannedReceipt {
  status: 'delivered' | 'read' | 'undeliverable';
  afterMs: number;
  error?: MessageError;
}

const MAX_DELAY_SECONDS = 7 * 86400;
const DEFAULT_UNDELIVERABLE_ERROR: MessageError = { code: 1300, reason: 'Not part of the provider network' };
const KNOWN_FIELDS = new Set(['delivered_after', 'read_after', 'reject', 'undeliverable_after', 'error', 'silent']);

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
  const script = parseMode(fields, errors);
  return errors.length > 0 || !script ? invalid(errors) : valid(script);
}

function parseMode(fields: Record<string, unknown>, errors: InvalidParameter[]): RecipientScript | undefined {
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
  const readAfter = fields.read_after === undefined ? undefined : parseDelay('read_after', fields.read_after, errors);
  const deliveredAfter = fields.delivered_after === undefined ? undefined : parseDelay('delivered_after', fields.delivered_after, errors);
  if (fields.delivered_after === undefined && fields.read_after === undefined) {
    errors.push({ name: 'body', reason: 'script one of delivered_after, read_after, reject, undeliverable_after, silent' });
    return undefined;
  }
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
  switch (script.kind) {
    case 'deliver':
      return { delivered_after: script.deliveredAfter, ...(script.readAfter !== undefined && { read_after: script.readAfter }) };
    case 'reject':
      return { reject: { code: script.error.code, reason: script.error.reason } };
    case 'undeliverable':
      return { undeliverable_after: script.after, error: { code: script.error.code, reason: script.error.reason } };
    case 'silent':
      return { silent: true };
  }
}

/** The receipts a script produces for one submitted message. */
export function plannedReceipts(script: RecipientScript): PlannedReceipt[] {
  switch (script.kind) {
    case 'deliver':
      return [
        { status: 'delivered', afterMs: script.deliveredAfter * 1000 },
        ...(script.readAfter === undefined ? [] : [{ status: 'read' as const, afterMs: script.readAfter * 1000 }]),
      ];
    case 'undeliverable':
      return [{ status: 'undeliverable', afterMs: script.after * 1000, error: script.error }];
    case 'reject':
    case 'silent':
      return [];
  }
}
