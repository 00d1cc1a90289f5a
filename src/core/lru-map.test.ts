import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LruMap } from './lru-map.js';

test('past its capacity the map lets go of the least recently used entry', () => {
  const map = new LruMap<string, number>(2);
  map.set('a', 1);
  map.set('b', 2);
  assert.equal(map.get('a'), 1); // now b is the least recently used
  map.set('c', 3);
  assert.deepEqual(['a', 'b', 'c'].map((key) => map.get(key)), [1, undefined, 3]);
});

test('setting a key again replaces its value and makes it the most recently used', () => {
  const map = new LruMap<string, number>(2);
  map.set('a', 1);
  map.set('b', 2);
  map.set('a', 10);
  map.set('c', 3);
  assert.deepEqual(['a', 'b', 'c'].map((key) => map.get(key)), [10, undefined, 3]);
});

test('a deleted entry is gone', () => {
  const map = new LruMap<string, number>(2);
  map.set('a', 1);
  map.delete('a');
  assert.equal(map.get('a'), undefined);
});
