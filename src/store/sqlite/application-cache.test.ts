import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApplicationRecord } from '../../core/records.js';
import { ApplicationCache } from './application-cache.js';

const application = (id: string): ApplicationRecord => ({
  id,
  apiKey: 'key',
  name: `app ${id}`,
  publicKey: 'PEM',
  capabilities: { messages: { webhooks: { status_url: { address: 'https://example.com/status' } } } },
  privacy: { improve_ai: false },
  createdAt: 1,
  updatedAt: 1,
});

test('an application remembered is answered until it is forgotten', () => {
  const cache = new ApplicationCache(10);
  assert.equal(cache.get('a'), undefined);
  cache.remember(application('a'));
  assert.equal(cache.get('a')?.name, 'app a');
  cache.forget('a');
  assert.equal(cache.get('a'), undefined);
});

test('past its capacity the cache lets go of the least recently used application', () => {
  const cache = new ApplicationCache(2);
  cache.remember(application('a'));
  cache.remember(application('b'));
  cache.get('a'); // now b is the least recently used
  cache.remember(application('c'));
  assert.deepEqual(['a', 'b', 'c'].map((id) => cache.get(id) !== undefined), [true, false, true]);
});

test('a remembered application is frozen to its depths, since every caller shares it', () => {
  const cache = new ApplicationCache(10);
  const shared = cache.remember(application('a'));
  assert.throws(() => {
    (shared as { name: string }).name = 'changed';
  }, TypeError);
  assert.throws(() => {
    (shared.capabilities.messages as Record<string, unknown>).webhooks = {};
  }, TypeError);
  assert.equal(cache.get('a')?.capabilities.messages, shared.capabilities.messages);
});
