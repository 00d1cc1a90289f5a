import { performance } from 'node:perf_hooks';
import { Agent, type Dispatcher, request } from 'undici';
import type { WallClock } from '../core/clock.js';
import { WebhookAddressPolicy } from './address-policy.js';
import { ADDRESS_REFUSED, guardedLookup } from './guarded-lookup.js';
import { parseRetryAfter } from '../core/retry-after.js';
import { type AttemptOutcome, WEBHOOK_TIMEOUT_MS } from './retry-policy.js';

/** One webhook POST. `body` is sent byte for byte, so a `payload_hash` over it stays valid. */
export interface WebhookRequest {
  url: string;
  body: string;
  /** The full header value, e.g. from `signWebhook`; omitted for unsigned webhooks. */
  authorization?: string;
}

export interface WebhookResponseInfo {
  outcome: AttemptOutcome;
  /** Wall-clock time of the whole attempt in (fractional) milliseconds. */
  durationMs: number;
  /** The receiver's Retry-After, in seconds; only reported on a 429 or 503. */
  retryAfterSeconds?: number;
}

export interface WebhookSenderOptions {
  /** Reads an HTTP-date Retry-After against it. */
  clock: WallClock;
  /** Overall limit for one attempt, from connecting to draining the response. */
  timeoutMs?: number;
  /** Most connections kept open to one origin; further requests wait for a free one. */
  connections?: number;
  /** Which addresses may be connected to; default: public ones and loopback. */
  addresses?: WebhookAddressPolicy;
}

export interface WebhookSender {
  /** Makes one attempt. Never rejects: every failure becomes an outcome. */
  send(req: WebhookRequest): Promise<WebhookResponseInfo>;
  /** Waits for attempts in flight, then closes the pooled connections. */
  close(): Promise<void>;
}

const USER_AGENT = 'opendispatch';
const DEFAULT_CONNECTIONS = 32;
/** Receivers owe us nothing but a status; reading more would only let them hold us up. */
const MAX_RESPONSE_BYTES = 64 * 1024;
/** undici's own timeout errors, for the day they fire before our overall timeout. */
const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * A webhook POSTer with keep-alive pooling. Create one per process and share it: the pool
 * bounds the connections to each receiver, so a slow receiver cannot take unbounded sockets.
 */
export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  const addresses = options.addresses ?? new WebhookAddressPolicy();
  const agent = new Agent({
    connections: options.connections ?? DEFAULT_CONNECTIONS,
    // Every new connection resolves through the policy; literal addresses are checked in attempt().
    connect: { timeout: timeoutMs, lookup: guardedLookup(addresses) },
  });
  let closing: Promise<void> | undefined;

  return {
    async send(req) {
      const startedAt = performance.now();
      const result = await attempt(agent, addresses, req, timeoutMs, options.clock);
      return { ...result, durationMs: performance.now() - startedAt };
    },
    // Closing twice must not fail: shutdown paths often overlap.
    close: () => (closing ??= agent.close()),
  };
}

type AttemptResult = Omit<WebhookResponseInfo, 'durationMs'>;
type ResponseData = Dispatcher.ResponseData;

async function attempt(agent: Agent, addresses: WebhookAddressPolicy, req: WebhookRequest, timeoutMs: number, clock: WallClock): Promise<AttemptResult> {
  const target = parseWebhookUrl(req.url);
  if ('error' in target) return { outcome: { kind: 'network-error', error: target.error } };
  const verdict = addresses.checkHost(target.url.hostname);
  if (!verdict.allowed) return { outcome: { kind: 'refused', error: `the receiver's address is refused: ${verdict.reason}` } };

  // One signal bounds the whole attempt, including a receiver that accepts the connection
  // and then never answers, or answers and never finishes the body.
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await request(target.url, {
      dispatcher: agent,
      method: 'POST',
      headers: requestHeaders(req),
      body: req.body,
      signal,
    });
    await discardBody(response.body, signal);
    return resultOf(response.statusCode, response.headers, clock.wallNow());
  } catch (error) {
    return { outcome: outcomeOfError(error, signal) };
  }
}

/** Only absolute http(s) URLs can receive webhooks; anything else fails like a network error. */
function parseWebhookUrl(raw: string): { url: URL } | { error: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { error: `invalid webhook URL: ${JSON.stringify(raw)}` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { error: `unsupported webhook URL scheme: ${url.protocol}` };
  }
  return { url };
}

function requestHeaders(req: WebhookRequest): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
  };
  if (req.authorization !== undefined) headers.authorization = req.authorization;
  return headers;
}

/**
 * Reads and drops the response body. A fully read body lets the connection go back to the
 * pool; past the limit (or on timeout) undici destroys the connection instead.
 */
async function discardBody(body: ResponseData['body'], signal: AbortSignal): Promise<void> {
  try {
    await body.dump({ limit: MAX_RESPONSE_BYTES, signal });
  } catch {
    // The status has arrived and decides the outcome; a body cut short changes nothing.
  }
}

function resultOf(statusCode: number, headers: ResponseData['headers'], nowMs: number): AttemptResult {
  const delivered = statusCode >= 200 && statusCode < 300;
  const outcome: AttemptOutcome = { kind: delivered ? 'delivered' : 'http-error', statusCode };
  const retryAfterSeconds = asksToWait(statusCode) ? parseRetryAfter(headers['retry-after'], nowMs) : undefined;
  return retryAfterSeconds === undefined ? { outcome } : { outcome, retryAfterSeconds };
}

/** Retry-After means "come back later" only on these two; elsewhere it is not ours to honour. */
function asksToWait(statusCode: number): boolean {
  return statusCode === 429 || statusCode === 503;
}

function outcomeOfError(error: unknown, signal: AbortSignal): AttemptOutcome {
  const refused = refusedBy(error);
  if (refused) return { kind: 'refused', error: refused.message };
  if (signal.aborted || TIMEOUT_CODES.has(errorCode(error) ?? '')) return { kind: 'timeout' };
  return { kind: 'network-error', error: describeError(error) };
}

/** A one-line reason for the attempt log, e.g. `connect ECONNREFUSED 127.0.0.1:9`. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // Happy-eyeballs failures are AggregateErrors with an empty message but a code.
  const message = error.message || error.name;
  const code = errorCode(error);
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message;
}

/** The policy's refusal, wherever undici wrapped it (a connect error may carry it as its cause). */
function refusedBy(error: unknown): Error | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 4; current = current.cause, depth += 1) {
    if (errorCode(current) === ADDRESS_REFUSED) return current;
  }
  return undefined;
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
