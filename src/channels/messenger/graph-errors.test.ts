import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyGraphError, graphErrorOf } from './graph-errors.js';

test('Graph errors are classified by code and subcode (channels reference §1.2)', () => {
  const cases: Array<[number, number | undefined, number | undefined, { retryable: boolean; code: number; aboutProvider?: boolean }]> = [
    [400, undefined, 1200, { retryable: true, code: 1000 }],
    [400, undefined, 4, { retryable: true, code: 1000 }],
    [400, 2018022, 4, { retryable: true, code: 1000 }],
    [400, undefined, 613, { retryable: true, code: 1000 }],
    [400, 2018354, 4, { retryable: false, code: 1241 }],
    [400, 2018352, 9, { retryable: false, code: 1241 }],
    [400, 2018278, 10, { retryable: false, code: 1340 }],
    [400, 2018065, 10, { retryable: false, code: 1340 }],
    [400, 2018108, 10, { retryable: false, code: 1260 }],
    [400, undefined, 190, { retryable: false, code: 1370, aboutProvider: true }],
    [400, 2018001, 100, { retryable: false, code: 1300 }],
    [400, 2018109, 100, { retryable: false, code: 1381 }],
    [400, 2018034, 100, { retryable: false, code: 1020 }],
    [400, 1545041, 200, { retryable: false, code: 1260 }],
    [400, 2018021, 200, { retryable: false, code: 1350, aboutProvider: true }],
    [400, 2018028, 200, { retryable: false, code: 1331, aboutProvider: true }],
    [400, undefined, 230, { retryable: false, code: 1331, aboutProvider: true }],
    [400, undefined, 551, { retryable: false, code: 1260 }],
    [500, undefined, undefined, { retryable: true, code: 1331 }],
    [503, undefined, 1, { retryable: false, code: 1331, aboutProvider: true }],
    [429, undefined, undefined, { retryable: true, code: 1331 }],
    [400, undefined, 12345, { retryable: false, code: 1331 }],
  ];
  for (const [status, subcode, code, expected] of cases) {
    const failure = classifyGraphError(status, { code, subcode }, 1);
    assert.deepEqual({ retryable: failure.retryable, code: failure.error.code, ...(failure.aboutProvider && { aboutProvider: true }) }, expected, `${status} ${code}/${subcode}`);
  }
});

test('the unexpected error 2 is retried a few times, then taken as an unreachable person', () => {
  assert.equal(classifyGraphError(500, { code: 2 }, 1).retryable, true);
  assert.equal(classifyGraphError(500, { code: 2 }, 2).retryable, true);
  assert.deepEqual(classifyGraphError(500, { code: 2 }, 3), { retryable: false, error: { code: 1260, reason: 'Destination unreachable: Messenger kept reporting an unexpected error (2)' } });
});

test("Meta's error text is never passed on", () => {
  const body = JSON.stringify({ error: { message: '(#10) secret internals <script>', type: 'OAuthException', code: 10, error_subcode: 2018278, fbtrace_id: 'x' } });
  const failure = classifyGraphError(400, graphErrorOf(body), 1);
  assert.doesNotMatch(failure.error.reason, /script|internals/);
});

test('a body that is not a Graph error reads as no code at all', () => {
  assert.deepEqual(graphErrorOf('<html>bad gateway</html>'), {});
  assert.deepEqual(graphErrorOf('null'), {});
  assert.deepEqual(graphErrorOf('{"error":{"code":"10"}}'), { code: undefined, subcode: undefined });
});
