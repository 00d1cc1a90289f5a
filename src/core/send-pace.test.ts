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

test('a send whose timer fired late holds the on-time one after it to 1/rate, less a clock tick', () => {
  const pace = new SendPace(4);
  const waits = [0, 1, 2].map(() => pace.reserve(0)); // slots 0, 250, 500
  assert.deepEqual(waits, [0, 250, 500]);
  assert.equal(pace.admit(0), 0);
  assert.equal(pace.admit(400), 0, 'the second send, 150 ms late');
  assert.equal(pace.admit(500), 149, 'the third, on time for its slot, would start 100 ms after the late one');
  assert.equal(pace.admit(649), 0);
});

test('starts spaced a tick short of 1/rate still put no more sends in a second than the rate', () => {
  const pace = new SendPace(4);
  for (const at of [0, 249, 498, 747]) assert.equal(pace.admit(at), 0, `at ${at}`);
  assert.equal(pace.admit(996), 4, 'a fifth at 996 would make five in the second since 0');
  assert.equal(pace.admit(1000), 0);
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
  starts.slice(1).forEach((start, index) => assert.ok(start - starts[index]! >= 99, `starts ${index} and ${index + 1} are ${start - starts[index]!} ms apart`));
});

test('above a thousand a second the rate is kept over a shorter window, a thousand sends at most', () => {
  const pace = new SendPace(100_000);
  for (let index = 0; index < 1000; index += 1) assert.equal(pace.admit(0), 0);
  assert.equal(pace.admit(0), 10, 'the 1001st waits 10 ms: 1000 sends in 10 ms is the rate');
  assert.equal(pace.admit(10), 0);
});
