import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSecretVerifierCache, hashSecret, verifySecret } from './secret-hash.js';

test('a hashed secret verifies, a different one does not', async () => {
  const stored = await hashSecret('s3cr3t-Value');
  assert.match(stored, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
  assert.equal(await verifySecret('s3cr3t-Value', stored), true);
  assert.equal(await verifySecret('s3cr3t-value', stored), false);
  assert.equal(await verifySecret('', stored), false);
});

test('the same secret hashes differently each time (random salt)', async () => {
  const [a, b] = await Promise.all([hashSecret('same'), hashSecret('same')]);
  assert.notEqual(a, b);
});

test('a malformed stored hash never verifies and never throws', async () => {
  const good = await hashSecret('secret');
  const [, N, r, p, salt, hash] = good.split('$');
  const malformed = [
    '',
    'secret',
    'scrypt$',
    good.replace('scrypt', 'bcrypt'),
    `${good}$extra`,
    ['scrypt', 16383, r, p, salt, hash].join('$'), // N not a power of two
    ['scrypt', 2 ** 30, r, p, salt, hash].join('$'), // would need 1 TiB
    ['scrypt', N, 0, p, salt, hash].join('$'),
    ['scrypt', N, r, 1000, salt, hash].join('$'),
    ['scrypt', '0x4000', r, p, salt, hash].join('$'),
    ['scrypt', N, r, p, '', hash].join('$'),
    ['scrypt', N, r, p, 'not base64!', hash].join('$'),
    ['scrypt', N, r, p, salt, hash?.slice(0, 8)].join('$'),
  ];
  for (const stored of malformed) {
    assert.equal(await verifySecret('secret', stored), false, stored);
  }
});

/** A cache over a counting fake verifier and a hand-moved clock. */
function countingCache(options: { maxEntries?: number } = {}) {
  let now = 0;
  const calls: string[] = [];
  const cache = createSecretVerifierCache({
    ...options,
    nowMs: () => now,
    verifySecret: async (secret, stored) => {
      calls.push(secret);
      return stored === `hash-of-${secret}`;
    },
  });
  return { cache, calls, advance: (ms: number) => (now += ms) };
}

test('the cache remembers a success for 5 minutes', async () => {
  const { cache, calls, advance } = countingCache();
  assert.equal(await cache.verify('key', 'pw', 'hash-of-pw'), true);
  advance(299_999);
  assert.equal(await cache.verify('key', 'pw', 'hash-of-pw'), true);
  assert.equal(calls.length, 1);
  advance(1);
  assert.equal(await cache.verify('key', 'pw', 'hash-of-pw'), true);
  assert.equal(calls.length, 2, 'checked again once the entry expired');
});

test('the cache never remembers a failure', async () => {
  const { cache, calls } = countingCache();
  assert.equal(await cache.verify('key', 'wrong', 'hash-of-pw'), false);
  assert.equal(await cache.verify('key', 'wrong', 'hash-of-pw'), false);
  assert.equal(calls.length, 2);
});

test('a changed secret, key or stored hash is checked afresh', async () => {
  const { cache, calls } = countingCache();
  assert.equal(await cache.verify('key', 'pw', 'hash-of-pw'), true);
  assert.equal(await cache.verify('key', 'pw2', 'hash-of-pw'), false);
  assert.equal(await cache.verify('other', 'pw', 'hash-of-pw'), true);
  assert.equal(await cache.verify('key', 'pw', 'hash-of-pw2'), false);
  assert.equal(calls.length, 4);
});

test('concurrent checks of the same credentials share one slow check', async () => {
  const { cache, calls } = countingCache();
  const results = await Promise.all(Array.from({ length: 20 }, () => cache.verify('key', 'pw', 'hash-of-pw')));
  assert.deepEqual(new Set(results), new Set([true]));
  assert.equal(calls.length, 1);
});

test('the cache is bounded, oldest first', async () => {
  const { cache, calls } = countingCache({ maxEntries: 2 });
  for (const secret of ['a', 'b', 'c']) await cache.verify('key', secret, `hash-of-${secret}`);
  await cache.verify('key', 'c', 'hash-of-c');
  await cache.verify('key', 'a', 'hash-of-a');
  assert.deepEqual(calls, ['a', 'b', 'c', 'a']);
});

test('the default cache works with real hashes', async () => {
  const stored = await hashSecret('real');
  const cache = createSecretVerifierCache({ nowMs: () => Date.now() });
  assert.equal(await cache.verify('key', 'real', stored), true);
  assert.equal(await cache.verify('key', 'real', stored), true);
  assert.equal(await cache.verify('key', 'fake', stored), false);
});
