import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CircuitBreaker } from './circuit-breaker.js';

const T0 = 1_700_000_000_000;

test('five consecutive failures open the circuit; a success in between resets the count', () => {
  const circuit = new CircuitBreaker();
  for (let i = 0; i < 4; i += 1) circuit.record(T0 + i, 'failure');
  circuit.record(T0 + 4, 'success');
  for (let i = 0; i < 4; i += 1) assert.equal(circuit.record(T0 + 10 + i, 'failure'), undefined);
  assert.equal(circuit.state(T0 + 14), 'closed');
  assert.deepEqual(circuit.record(T0 + 14, 'failure'), { from: 'closed', to: 'open' });
  assert.equal(circuit.tryAcquire(T0 + 15), false, 'nothing goes through while open');
});

test('half the attempts of 30 s failing, with at least 20 of them, opens it; fewer attempts do not', () => {
  const circuit = new CircuitBreaker();
  // Alternating: never 5 in a row, half of them failures.
  for (let i = 0; i < 19; i += 1) circuit.record(T0 + i * 100, i % 2 === 0 ? 'failure' : 'success');
  assert.equal(circuit.state(T0 + 1900), 'closed', '19 attempts: not enough to judge');
  circuit.record(T0 + 1900, 'success');
  assert.equal(circuit.state(T0 + 1900), 'closed', '20 attempts, 10 failures, but the last was a success');
  circuit.record(T0 + 2000, 'failure');
  assert.equal(circuit.state(T0 + 2000), 'open', '21 attempts, 11 failures');
});

test('attempts older than 30 s do not count', () => {
  const circuit = new CircuitBreaker();
  for (let i = 0; i < 20; i += 1) circuit.record(T0 + i, i % 2 === 0 ? 'failure' : 'success');
  assert.equal(circuit.stats(T0 + 31_000).failureRate, 0);
  circuit.record(T0 + 31_000, 'failure');
  assert.equal(circuit.state(T0 + 31_000), 'closed');
});

test('after 30 s open, one probe goes through: its success closes the circuit, its failure opens it again', () => {
  const circuit = new CircuitBreaker();
  for (let i = 0; i < 5; i += 1) circuit.record(T0, 'failure');
  assert.equal(circuit.state(T0 + 29_999), 'open');
  assert.equal(circuit.state(T0 + 30_000), 'half_open');
  assert.equal(circuit.tryAcquire(T0 + 30_000), true, 'the probe');
  assert.equal(circuit.tryAcquire(T0 + 30_001), false, 'only one probe at a time');
  assert.deepEqual(circuit.record(T0 + 30_010, 'failure'), { from: 'half_open', to: 'open' });
  assert.equal(circuit.reopensAt(), T0 + 60_010);
  assert.equal(circuit.tryAcquire(T0 + 60_010), true);
  assert.deepEqual(circuit.record(T0 + 60_020, 'success'), { from: 'half_open', to: 'closed' });
  assert.equal(circuit.tryAcquire(T0 + 60_021), true);
  assert.equal(circuit.tryAcquire(T0 + 60_022), true, 'closed: no limit');
});

test('a probe that never went out is given back', () => {
  const circuit = new CircuitBreaker();
  for (let i = 0; i < 5; i += 1) circuit.record(T0, 'failure');
  assert.equal(circuit.tryAcquire(T0 + 30_000), true);
  circuit.release();
  assert.equal(circuit.tryAcquire(T0 + 30_001), true);
});

test('stats count every send and failure, and the failure rate of the window', () => {
  const circuit = new CircuitBreaker();
  circuit.record(T0, 'success');
  circuit.record(T0 + 1, 'failure');
  assert.deepEqual(circuit.stats(T0 + 2), { state: 'closed', failureRate: 0.5, sent: 2, failed: 1 });
});
