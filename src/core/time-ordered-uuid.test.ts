import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { timeOrderedUuid } from './time-ordered-uuid.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('a UUIDv7: version 7, the RFC variant, the ms time in its first 48 bits', () => {
  const id = timeOrderedUuid(1_700_000_000_123, randomUUID());
  assert.match(id, UUID_V7);
  assert.equal(parseInt(id.replace(/-/g, '').slice(0, 12), 16), 1_700_000_000_123);
  assert.equal(timeOrderedUuid(1_700_000_000_123, '01234567-89ab-4cde-8f01-23456789abcd'), '018bcfe5-687b-7cde-8f01-23456789abcd');
});

test('ids sort by time, and ids of one millisecond differ', () => {
  const ids = [0, 1, 255, 1_700_000_000_000, 2 ** 47].map((ms) => timeOrderedUuid(ms, randomUUID()));
  assert.deepEqual([...ids].sort(), ids);
  const sameMs = new Set(Array.from({ length: 1000 }, () => timeOrderedUuid(1_700_000_000_000, randomUUID())));
  assert.equal(sameMs.size, 1000);
});
