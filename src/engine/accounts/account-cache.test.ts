import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AccountRecord } from '../../core/records.js';
import { AccountCache } from './account-cache.js';

function fakeDatabase() {
  const rows = new Map<string, AccountRecord>();
  const reads: string[] = [];
  const account = (apiKey: string) => ({ apiKey, secretHash: 'h', signatureSecret: 's', createdAt: 0 }) as unknown as AccountRecord;
  return { rows, reads, account, read: async (apiKey: string) => (reads.push(apiKey), rows.get(apiKey)) };
}

test('a found account is read once and answered from memory until its time is up', async () => {
  const db = fakeDatabase();
  let now = 1_000;
  db.rows.set('k1', db.account('k1'));
  const cache = new AccountCache(db.read, () => now, { capacity: 10, ttlMs: 60_000 });
  assert.equal((await cache.find('k1'))?.apiKey, 'k1');
  now += 59_999;
  assert.equal((await cache.find('k1'))?.apiKey, 'k1');
  assert.deepEqual(db.reads, ['k1']);
  // Removed by hand: seen once the entry is out of date.
  db.rows.delete('k1');
  now += 1;
  assert.equal(await cache.find('k1'), undefined);
  assert.deepEqual(db.reads, ['k1', 'k1']);
});

test('an unknown key is read again each time, so an account made meanwhile is found at once', async () => {
  const db = fakeDatabase();
  const cache = new AccountCache(db.read, () => 0, { capacity: 10, ttlMs: 60_000 });
  assert.equal(await cache.find('new'), undefined);
  db.rows.set('new', db.account('new'));
  assert.equal((await cache.find('new'))?.apiKey, 'new');
  assert.deepEqual(db.reads, ['new', 'new']);
});

test('past its capacity the least recently used account is forgotten', async () => {
  const db = fakeDatabase();
  for (const key of ['a', 'b', 'c']) db.rows.set(key, db.account(key));
  const cache = new AccountCache(db.read, () => 0, { capacity: 2, ttlMs: 60_000 });
  await cache.find('a');
  await cache.find('b');
  await cache.find('a'); // a is now the most recent
  await cache.find('c'); // b goes
  db.reads.length = 0;
  await cache.find('a');
  await cache.find('c');
  assert.deepEqual(db.reads, []);
  await cache.find('b');
  assert.deepEqual(db.reads, ['b']);
});
