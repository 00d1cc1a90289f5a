import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FailureThrottle } from './failure-throttle.js';

test('a subject is throttled after maxFailures in its window, until the window ends', () => {
  let now = 1_000_000;
  const throttle = new FailureThrottle({ maxFailures: 3, windowMs: 60_000, nowMs: () => now });
  for (let i = 0; i < 3; i += 1) {
    assert.equal(throttle.retryAfterSeconds(['key:a']), undefined);
    throttle.failed(['key:a', 'ip:1']);
  }
  assert.equal(throttle.retryAfterSeconds(['key:a']), 60);
  assert.equal(throttle.retryAfterSeconds(['key:b', 'ip:1']), 60, 'the address is throttled too');
  assert.equal(throttle.retryAfterSeconds(['key:b', 'ip:2']), undefined);
  now += 45_500;
  assert.equal(throttle.retryAfterSeconds(['key:a']), 15);
  now += 14_500;
  assert.equal(throttle.retryAfterSeconds(['key:a']), undefined, 'a new window');
  throttle.failed(['key:a']);
  assert.equal(throttle.retryAfterSeconds(['key:a']), undefined, 'counting starts again');
});

test('memory is bounded: the oldest windows are forgotten first', () => {
  const throttle = new FailureThrottle({ maxFailures: 1, windowMs: 60_000, nowMs: () => 0, maxSubjects: 2 });
  throttle.failed(['a']);
  throttle.failed(['b']);
  throttle.failed(['c']);
  assert.equal(throttle.retryAfterSeconds(['a']), undefined);
  assert.equal(throttle.retryAfterSeconds(['b']), 60);
  assert.equal(throttle.retryAfterSeconds(['c']), 60);
});

test('a failure counted in advance and forgiven leaves the count as it was', () => {
  const throttle = new FailureThrottle({ maxFailures: 2, windowMs: 60_000, nowMs: () => 0 });
  throttle.failed(['a']);
  throttle.failed(['a']);
  assert.equal(throttle.retryAfterSeconds(['a']), 60, 'two checks in flight reach the limit');
  throttle.forgive(['a']);
  assert.equal(throttle.retryAfterSeconds(['a']), undefined, 'one of them succeeded');
});
