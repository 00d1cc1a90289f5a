import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failsTransiently, parseRecipientScript, plannedReceipts, recipientScriptJson } from './recipient-script.js';

test('each documented script parses and plans its receipts', () => {
  const cases: Array<[unknown, ReturnType<typeof plannedReceipts>]> = [
    [{ delivered_after: 0.5, read_after: 2 }, [{ status: 'delivered', afterMs: 500 }, { status: 'read', afterMs: 2000 }]],
    [{ delivered_after: 0.5 }, [{ status: 'delivered', afterMs: 500 }]],
    [{ read_after: 3 }, [{ status: 'delivered', afterMs: 3000 }, { status: 'read', afterMs: 3000 }]],
    [{ reject: { code: 1020, reason: 'Invalid params' } }, []],
    [
      { undeliverable_after: 3, error: { code: 1300, reason: 'Not part of the provider network' } },
      [{ status: 'undeliverable', afterMs: 3000, error: { code: 1300, reason: 'Not part of the provider network' } }],
    ],
    [{ undeliverable_after: 0 }, [{ status: 'undeliverable', afterMs: 0, error: { code: 1300, reason: 'Not part of the provider network' } }]],
    [{ silent: true }, []],
  ];
  for (const [body, receipts] of cases) {
    const parsed = parseRecipientScript(body);
    assert.ok(parsed.ok, JSON.stringify(body));
    assert.deepEqual(plannedReceipts(parsed.value, 1), receipts, JSON.stringify(body));
  }
});

test('a reject without a reason gets the code\'s short text', () => {
  const parsed = parseRecipientScript({ reject: { code: 1240 } });
  assert.deepEqual(parsed, { ok: true, value: { kind: 'reject', error: { code: 1240, reason: 'Illegal number' } } });
});

test('bad scripts name the field', () => {
  const cases: Array<[unknown, string[]]> = [
    ['x', ['body']],
    [{}, ['body']],
    [{ delivered_after: -1 }, ['delivered_after']],
    [{ delivered_after: '1' }, ['delivered_after']],
    [{ delivered_after: 2, read_after: 1 }, ['read_after']],
    [{ reject: { code: 'x' } }, ['reject.code']],
    [{ reject: 5 }, ['reject']],
    [{ reject: { code: 1020 }, silent: true }, ['reject']],
    [{ silent: false }, ['silent']],
    [{ delivered_after: 1, error: { code: 1300 } }, ['error']],
    [{ delivered_afer: 1 }, ['delivered_afer', 'body']],
    [{ transient_failures: 0 }, ['transient_failures']],
    [{ transient_failures: 2.5 }, ['transient_failures']],
    [{ transient_failures: 101 }, ['transient_failures']],
    [{ transient_failures: 3, retry_after: -1 }, ['retry_after']],
    [{ transient_failures: 3, retry_after: 3601 }, ['retry_after']],
    [{ retry_after: 2, delivered_after: 1 }, ['retry_after']],
  ];
  for (const [body, names] of cases) {
    const parsed = parseRecipientScript(body);
    assert.equal(parsed.ok, false, JSON.stringify(body));
    if (!parsed.ok) assert.deepEqual(parsed.errors.map((e) => e.name), names, JSON.stringify(body));
  }
});

test('transient failures: each message\'s first tries fail, then the scripted behaviour applies', () => {
  const parsed = parseRecipientScript({ transient_failures: 3, retry_after: 2, delivered_after: 1 });
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value, { kind: 'deliver', deliveredAfter: 1, transient: { count: 3, retryAfterSeconds: 2 } });
  assert.deepEqual([1, 2, 3, 4, 5].map((attempt) => failsTransiently(parsed.value, attempt)), [true, true, true, false, false]);
  assert.deepEqual(plannedReceipts(parsed.value, 9), [{ status: 'delivered', afterMs: 1000 }]);
  assert.deepEqual(recipientScriptJson(parsed.value), { delivered_after: 1, transient_failures: 3, retry_after: 2 });
});

test('transient failures alone fall back to the network default; they combine with any behaviour', () => {
  const alone = parseRecipientScript({ transient_failures: 1 });
  assert.ok(alone.ok);
  assert.deepEqual(plannedReceipts(alone.value, 4), [{ status: 'delivered', afterMs: 4000 }], 'sandbox.default_delivered_after');
  assert.deepEqual(recipientScriptJson(alone.value), { transient_failures: 1 });
  const rejecting = parseRecipientScript({ transient_failures: 2, reject: { code: 1020 } });
  assert.ok(rejecting.ok);
  assert.deepEqual(rejecting.value, { kind: 'reject', error: { code: 1020, reason: 'Invalid params' }, transient: { count: 2 } });
  const unscripted = parseRecipientScript({ delivered_after: 1 });
  assert.ok(unscripted.ok);
  assert.equal(failsTransiently(unscripted.value, 1), false);
});
