import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRecipientScript, plannedReceipts } from './recipient-script.js';

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
    assert.deepEqual(plannedReceipts(parsed.value), receipts, JSON.stringify(body));
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
  ];
  for (const [body, names] of cases) {
    const parsed = parseRecipientScript(body);
    assert.equal(parsed.ok, false, JSON.stringify(body));
    if (!parsed.ok) assert.deepEqual(parsed.errors.map((e) => e.name), names, JSON.stringify(body));
  }
});
