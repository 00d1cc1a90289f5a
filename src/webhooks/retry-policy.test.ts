import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AttemptOutcome,
  isRetryable,
  retryDelayMs,
  shouldGiveUp,
  WEBHOOK_TIMEOUT_MS,
} from './retry-policy.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

describe('isRetryable', () => {
  const cases: Array<[string, AttemptOutcome, boolean]> = [
    ['200 delivered', { kind: 'delivered', statusCode: 200 }, false],
    ['204 delivered', { kind: 'delivered', statusCode: 204 }, false],
    ['network error', { kind: 'network-error', error: 'connect ECONNREFUSED 127.0.0.1:1' }, true],
    ['timeout', { kind: 'timeout' }, true],
    ['301 redirect', { kind: 'http-error', statusCode: 301 }, false],
    ['302 redirect', { kind: 'http-error', statusCode: 302 }, false],
    ['400 bad request', { kind: 'http-error', statusCode: 400 }, false],
    ['401 unauthorised', { kind: 'http-error', statusCode: 401 }, false],
    ['403 forbidden', { kind: 'http-error', statusCode: 403 }, false],
    ['404 not found', { kind: 'http-error', statusCode: 404 }, false],
    ['408 request timeout', { kind: 'http-error', statusCode: 408 }, true],
    ['410 gone', { kind: 'http-error', statusCode: 410 }, false],
    ['413 too large', { kind: 'http-error', statusCode: 413 }, false],
    ['422 unprocessable', { kind: 'http-error', statusCode: 422 }, false],
    ['429 too many requests', { kind: 'http-error', statusCode: 429 }, true],
    ['499 client closed', { kind: 'http-error', statusCode: 499 }, false],
    ['500 internal error', { kind: 'http-error', statusCode: 500 }, true],
    ['502 bad gateway', { kind: 'http-error', statusCode: 502 }, true],
    ['503 unavailable', { kind: 'http-error', statusCode: 503 }, true],
    ['504 gateway timeout', { kind: 'http-error', statusCode: 504 }, true],
    ['599 network timeout', { kind: 'http-error', statusCode: 599 }, true],
  ];
  for (const [name, outcome, expected] of cases) {
    it(`${name} → ${expected ? 'retry' : 'stop'}`, () => {
      assert.equal(isRetryable(outcome), expected);
    });
  }
});

describe('retryDelayMs', () => {
  it('follows the schedule 5 s, doubling, capped at 15 min', () => {
    const expected = [
      5 * SECOND, // after attempt 1
      10 * SECOND,
      20 * SECOND,
      40 * SECOND,
      80 * SECOND,
      160 * SECOND,
      320 * SECOND,
      640 * SECOND, // after attempt 8
      15 * MINUTE, // 1280 s would exceed the cap
      15 * MINUTE,
      15 * MINUTE,
    ];
    const actual = expected.map((_, i) => retryDelayMs(i + 1));
    assert.deepEqual(actual, expected);
  });

  it('stays at 15 min however many attempts were made', () => {
    for (const attempt of [20, 96, 1_000, 10_000]) {
      assert.equal(retryDelayMs(attempt), 15 * MINUTE, `attempt ${attempt}`);
    }
  });

  const retryAfterCases: Array<[string, number, number | undefined, number]> = [
    ['absent', 1, undefined, 5 * SECOND],
    ['shorter than the schedule', 1, 2, 5 * SECOND],
    ['equal to the schedule', 2, 10, 10 * SECOND],
    ['longer than the schedule', 1, 60, 60 * SECOND],
    ['longer, late in the schedule', 4, 120, 120 * SECOND],
    ['zero', 3, 0, 20 * SECOND],
    ['negative', 1, -30, 5 * SECOND],
    ['exactly 15 min', 1, 900, 15 * MINUTE],
    ['beyond 15 min is capped', 1, 3_600, 15 * MINUTE],
    ['beyond 15 min at the cap', 12, 86_400, 15 * MINUTE],
    ['not a number', 1, Number.NaN, 5 * SECOND],
  ];
  for (const [name, attempt, retryAfter, expected] of retryAfterCases) {
    it(`Retry-After ${name}: attempt ${attempt}, ${retryAfter} s → ${expected} ms`, () => {
      assert.equal(retryDelayMs(attempt, retryAfter), expected);
    });
  }

  it('rejects attempt numbers below 1 or not whole', () => {
    for (const attempt of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => retryDelayMs(attempt), RangeError, `attempt ${attempt}`);
    }
  });
});

describe('shouldGiveUp', () => {
  const createdAt = Date.UTC(2024, 0, 1);
  const cases: Array<[string, number, boolean]> = [
    ['right away', 0, false],
    ['after an hour', HOUR, false],
    ['1 ms before 24 h', 24 * HOUR - 1, false],
    ['exactly 24 h', 24 * HOUR, false],
    ['1 ms past 24 h', 24 * HOUR + 1, true],
    ['a day later still', 48 * HOUR, true],
  ];
  for (const [name, offset, expected] of cases) {
    it(`next attempt ${name} → ${expected ? 'give up' : 'keep going'}`, () => {
      assert.equal(shouldGiveUp(createdAt, createdAt + offset), expected);
    });
  }

  it('gives up after the schedule runs past 24 h, having tried about 100 times', () => {
    let attempts = 1;
    let at = createdAt;
    while (!shouldGiveUp(createdAt, at + retryDelayMs(attempts))) {
      at += retryDelayMs(attempts);
      attempts += 1;
    }
    // 8 doubling gaps cover 1275 s; the remaining ~85125 s fit 94 gaps of 15 min.
    assert.equal(attempts, 1 + 8 + 94);
    assert.ok(at - createdAt <= 24 * HOUR);
  });
});

it('a receiver has 10 s to answer', () => {
  assert.equal(WEBHOOK_TIMEOUT_MS, 10 * SECOND);
});
