import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LaneShare } from './lane-share.js';

test('a value at its limit is saturated until one of its jobs finishes', () => {
  const share = new LaneShare(2);
  share.started('a');
  share.started('a');
  share.started('b');
  share.started(undefined);
  assert.deepEqual(share.saturated(), ['a']);
  assert.equal(share.atLimit('a'), true);
  assert.equal(share.atLimit('b'), false);
  assert.equal(share.atLimit(undefined), false, 'jobs without the field are never limited');
  share.finished('a');
  assert.deepEqual(share.saturated(), []);
});

test('the allowance is the smallest remaining share of a value not at its limit', () => {
  const share = new LaneShare(4);
  assert.equal(share.allowance(), 4);
  share.started('a');
  share.started('b');
  share.started('b');
  assert.equal(share.allowance(), 2, 'b may take two more: a batch of two cannot push it past');
  for (let i = 0; i < 2; i += 1) share.started('b');
  assert.equal(share.allowance(), 3, 'b is excluded from claims now; a may take three');
  share.finished('a');
  assert.equal(share.allowance(), 4);
});

test('without a limit nothing is ever saturated', () => {
  const share = new LaneShare(undefined);
  for (let i = 0; i < 100; i += 1) share.started('a');
  assert.deepEqual(share.saturated(), []);
  assert.equal(share.allowance(), Infinity);
});

test('a value with a limit of its own is held to it, and a batch never brings more of it than that', () => {
  const share = new LaneShare(4, new Map([['slow', 1]]));
  assert.equal(share.allowance(), 1, 'a claim may bring jobs of slow, which may run one at a time');
  share.started('slow');
  assert.deepEqual(share.saturated(), ['slow']);
  assert.equal(share.atLimit('slow'), true);
  share.started('fast');
  share.started('fast');
  assert.equal(share.atLimit('fast'), false);
  assert.equal(share.allowance(), 1, 'still: slow may come back into a batch once it is not saturated');
  share.finished('slow');
  assert.deepEqual(share.saturated(), []);
});

test('shared among nodes, each node keeps to its part of every limit, and at least 1', () => {
  const share = new LaneShare(32, new Map([['paced', 4]]));
  share.divideAmong(3);
  assert.equal(share.allowance(), 1, 'the paced value: 4 among 3 nodes is 1 each');
  for (let i = 0; i < 10; i += 1) share.started('receiver');
  assert.equal(share.atLimit('receiver'), true, '32 among 3 nodes is 10 each: the parts add up to no more than the limit');
  share.started('paced');
  assert.equal(share.atLimit('paced'), true);
  share.divideAmong(1);
  assert.equal(share.atLimit('receiver'), false, 'alone again: the whole limit');
  assert.equal(share.atLimit('paced'), false);
  share.divideAmong(100);
  assert.equal(share.atLimit('receiver'), true, 'more nodes than the limit: 1 each');
});
