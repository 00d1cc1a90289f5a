import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pacedConcurrency, SendPace } from './send-pace.js';

test('sends start 1/rate apart: a burst waits in turn, an idle provider sends at once', () => {
  const pace = new SendPace(4);
  assert.deepEqual([pace.reserve(1000), pace.reserve(1000), pace.reserve(1000), pace.reserve(1100)], [0, 250, 500, 650]);
  assert.equal(pace.reserve(5000), 0, 'long idle: no debt carried over');
  assert.equal(pace.reserve(5100), 150);
});

test('no second holds more sends than the rate', () => {
  const pace = new SendPace(10);
  const starts = Array.from({ length: 95 }, (_, index) => {
    const ready = index * 3; // ready far faster than the rate
    return ready + pace.reserve(ready);
  });
  for (const start of starts) assert.ok(starts.filter((other) => other >= start && other < start + 1000).length <= 10);
});

test('a paced provider takes at most ten seconds of its rate in flight, and at least one', () => {
  assert.equal(pacedConcurrency(50, 32), 32);
  assert.equal(pacedConcurrency(1, 32), 10);
  assert.equal(pacedConcurrency(0.05, 32), 1);
});
