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

test('a send whose timer fired late waits until the last second holds fewer sends than the rate', () => {
  const pace = new SendPace(4);
  const waits = [0, 1, 2, 3].map(() => pace.reserve(0)); // slots 0, 250, 500, 750
  assert.deepEqual(waits, [0, 250, 500, 750]);
  assert.equal(pace.admit(0), 0);
  assert.equal(pace.admit(400), 0, 'the second send, 150 ms late');
  assert.equal(pace.admit(500), 0);
  assert.equal(pace.admit(750), 0);
  const fifth = pace.reserve(1000);
  assert.equal(fifth, 0, 'its slot (1000) has come');
  assert.equal(pace.admit(1000), 0, 'a second after the first');
  assert.equal(pace.admit(1250), 150, 'the sixth, on time for its slot, would make five in the second since the late one at 400');
  assert.equal(pace.admit(1400), 0);
});

test('a rate under one a second spaces sends by 1/rate', () => {
  const pace = new SendPace(0.5);
  assert.equal(pace.admit(0), 0);
  assert.equal(pace.admit(1500), 500);
  assert.equal(pace.admit(2000), 0);
});

test('admitted starts never put more sends in a second than the rate, however late the timers fire', () => {
  const pace = new SendPace(10);
  const starts: number[] = [];
  let now = 0;
  for (let index = 0; index < 200; index += 1) {
    now += pace.reserve(now) + ((index * 37) % 11 === 0 ? 180 : 0); // some timers fire 180 ms late
    for (let wait = pace.admit(now); wait > 0; wait = pace.admit(now)) now += wait;
    starts.push(now);
  }
  for (const start of starts) assert.ok(starts.filter((other) => other >= start && other < start + 1000).length <= 10, `at ${start}`);
});

test('above a thousand a second the rate is kept over a shorter window, a thousand sends at most', () => {
  const pace = new SendPace(100_000);
  for (let index = 0; index < 1000; index += 1) assert.equal(pace.admit(0), 0);
  assert.equal(pace.admit(0), 10, 'the 1001st waits 10 ms: 1000 sends in 10 ms is the rate');
  assert.equal(pace.admit(10), 0);
});
