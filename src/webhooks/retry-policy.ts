/**
 * When to retry an outbound webhook and when to stop (DESIGN §3 "Webhooks out").
 * Pure functions: the delivery worker supplies the clock and stores the attempts.
 */

/** What one delivery attempt came to. */
export type AttemptOutcome =
  | { kind: 'delivered'; statusCode: number }
  | { kind: 'http-error'; statusCode: number }
  | { kind: 'network-error'; error: string }
  | { kind: 'timeout' }
  /** The receiver's address is one webhooks may not reach (address-policy.ts): permanent. */
  | { kind: 'refused'; error: string };

/** A receiver gets this long to answer one attempt. */
export const WEBHOOK_TIMEOUT_MS = 10_000;

const SECOND_MS = 1_000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;

/** Delay after the first failed attempt; it doubles after each further failure. */
export const FIRST_RETRY_DELAY_MS = 5 * SECOND_MS;
/** Longest gap between attempts, for the schedule and for a receiver's Retry-After alike. */
export const MAX_RETRY_DELAY_MS = 15 * MINUTE_MS;
/** No attempt is made later than this after the webhook was created. */
export const GIVE_UP_AFTER_MS = 24 * HOUR_MS;

/**
 * Whether the outcome should be retried. Network errors, timeouts, 408, 429 and 5xx are
 * transient. Other 4xx mean the receiver rejects this request and would do so again. A 3xx
 * also fails for good, because webhooks do not follow redirects. 2xx is delivered.
 */
export function isRetryable(outcome: AttemptOutcome): boolean {
  switch (outcome.kind) {
    case 'delivered':
    case 'refused':
      return false;
    case 'network-error':
    case 'timeout':
      return true;
    case 'http-error':
      return isRetryableStatus(outcome.statusCode);
  }
}

function isRetryableStatus(statusCode: number): boolean {
  // `>= 500` rather than `< 600`: an odd status beyond 599 is the server's trouble too, and
  // retrying costs less than losing a webhook.
  return statusCode === 408 || statusCode === 429 || statusCode >= 500;
}

/**
 * Delay before attempt number `attempt + 1`, given that `attempt` attempts (at least 1) have
 * been made: 5 s, 10 s, 20 s, … doubling up to 15 min, then every 15 min. A Retry-After (in
 * seconds) that the receiver sent with a 429 or 503 wins when it asks for longer, up to 15 min.
 */
export function retryDelayMs(attempt: number, retryAfterSeconds?: number): number {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt must be an integer >= 1, got ${attempt}`);
  }
  return Math.max(scheduledDelayMs(attempt), retryAfterMs(retryAfterSeconds));
}

function scheduledDelayMs(attempt: number): number {
  // 2 ** large is Infinity, which the cap absorbs, so no overflow guard is needed.
  return Math.min(FIRST_RETRY_DELAY_MS * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS);
}

/** The receiver's requested delay, capped so that it cannot stall delivery; 0 when absent. */
function retryAfterMs(retryAfterSeconds: number | undefined): number {
  if (retryAfterSeconds === undefined || !Number.isFinite(retryAfterSeconds)) return 0;
  return Math.min(Math.max(retryAfterSeconds, 0) * SECOND_MS, MAX_RETRY_DELAY_MS);
}

/**
 * Whether to give up instead of scheduling the next attempt: true when that attempt would be
 * due more than 24 h after the webhook was created. Exactly 24 h is still attempted.
 */
export function shouldGiveUp(createdAtMs: number, nextAttemptAtMs: number): boolean {
  return nextAttemptAtMs - createdAtMs > GIVE_UP_AFTER_MS;
}
