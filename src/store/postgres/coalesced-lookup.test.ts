import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoalescedLookup } from './coalesced-lookup.js';

/** A table of rows by key, counting the queries it answers and the keys each asked for. */
function table(rows: Record<string, string>) {
  const queries: string[][] = [];
  const lookup = new CoalescedLookup<string>(async (keys) => {
    queries.push(keys);
    return new Map(keys.flatMap((key) => (key in rows ? [[key, rows[key]!] as const] : [])));
  }, 3);
  return { lookup, queries, rows };
}

test('lookups asked in one turn share one query, each answered its own row', async () => {
  const { lookup, queries } = table({ a: 'row a', b: 'row b' });
  const answers = await Promise.all([lookup.get('a'), lookup.get('b'), lookup.get('a'), lookup.get('missing')]);
  assert.deepEqual(answers, ['row a', 'row b', 'row a', undefined]);
  assert.deepEqual(queries, [['a', 'b', 'missing']], 'one query, each key once');
});

test('a lookup asked after a query was sent waits for a query of its own, and sees what changed before it', async () => {
  const { lookup, queries, rows } = table({ a: 'old' });
  const first = lookup.get('a');
  await new Promise((resolve) => setImmediate(resolve));
  rows.a = 'new';
  const second = lookup.get('a');
  assert.deepEqual([await first, await second], ['old', 'new']);
  assert.equal(queries.length, 2);
});

test('more keys than a query takes go in several queries', async () => {
  const { lookup, queries } = table({ k1: '1', k5: '5' });
  const answers = await Promise.all(['k1', 'k2', 'k3', 'k4', 'k5'].map((key) => lookup.get(key)));
  assert.deepEqual(answers, ['1', undefined, undefined, undefined, '5']);
  assert.deepEqual(queries, [['k1', 'k2', 'k3'], ['k4', 'k5']]);
});

test('a query that fails rejects the lookups it carried, and the next turn queries again', async () => {
  let fail = true;
  const lookup = new CoalescedLookup<string>(async (keys) => {
    if (fail) throw new Error('connection lost');
    return new Map(keys.map((key) => [key, `row ${key}`]));
  });
  const results = await Promise.allSettled([lookup.get('a'), lookup.get('b')]);
  assert.deepEqual(results.map((result) => result.status), ['rejected', 'rejected']);
  fail = false;
  assert.equal(await lookup.get('a'), 'row a');
});
