import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageUpdate } from '../../core/records.js';
import { writeSteps } from './write-steps.js';

const lease = (jobId: number) => ({ jobId, owner: `worker-${jobId}` });
const update = (uuid: string, expectedVersion: number): MessageUpdate => ({ uuid, expectedVersion, status: 'submitted', reported: ['submitted'], updatedAt: 1 });
const summary = (steps: ReturnType<typeof writeSteps>) => steps.map((step) => [step.op, step.rows.length, step.expect]);

test('the change sets of a group commit share each step; their leases are each expected once', () => {
  const steps = writeSteps(
    [
      { complete: lease(1), messageUpdates: [update('m-1', 1)], jobs: [{ kind: 'k', payload: {}, dueAt: 10.2 }] },
      { complete: lease(2), messageUpdates: [update('m-2', 3)] },
      { reschedule: { lease: lease(3), dueAt: 20.5 }, counters: { unmatched: 1 } },
      { counters: { unmatched: 2 } },
    ],
    { now: 5 },
  );
  assert.deepEqual(summary(steps), [
    ['delete_leased_jobs', 2, 2],
    ['reschedule_jobs', 1, 1],
    ['update_messages', 2, 2],
    ['insert_jobs', 1, undefined],
    ['add_to_counters', 1, undefined],
  ]);
  assert.deepEqual(steps[0]!.rows, [{ id: 1, owner: 'worker-1' }, { id: 2, owner: 'worker-2' }]);
  assert.deepEqual(steps[1]!.rows, [{ id: 3, owner: 'worker-3', dueAt: 21, error: null }], 'due times in whole milliseconds, rounded up');
  assert.deepEqual(steps[3]!.rows, [{ kind: 'k', lane: null, key: null, tenant: null, payload: '{}', dueAt: 11, createdAt: 5 }]);
  assert.deepEqual(steps[4]!.rows, [{ name: 'unmatched', by: 3 }], 'counters of one name are summed');
});

test('updates of one row go a step each, in order, each guarded on what the one before left', () => {
  const steps = writeSteps([{ messageUpdates: [update('m-1', 1), update('m-1', 2)] }, { messageUpdates: [update('m-2', 1)] }], { now: 0 });
  assert.deepEqual(summary(steps), [
    ['update_messages', 1, 1],
    ['update_messages', 1, 1],
    ['update_messages', 1, 1],
  ]);
  assert.deepEqual(steps.map((step) => (step.rows[0] as { uuid: string }).uuid), ['m-1', 'm-1', 'm-2']);
});

test('receipt guards: the references are locked first, in sorted order; a held receipt is taken only with all its pair holds', () => {
  const steps = writeSteps(
    [
      { inbox: [{ id: 'r-9', provider: 'smsc', providerRef: 'B', status: 'delivered', at: 1, receivedAt: 1 }] },
      { inboxTaken: [{ provider: 'smsc', providerRef: 'A', ids: ['r-1', 'r-2'] }] },
    ],
    { now: 0 },
  );
  assert.deepEqual(summary(steps), [
    ['lock_references', 2, undefined],
    ['taken_references', 1, 0],
    ['insert_inbox_receipts', 1, undefined],
    ['delete_inbox_receipts', 2, 2],
    ['held_receipts', 1, 0],
  ]);
  assert.deepEqual(steps[0]!.rows, [{ key: 'ref\nsmsc\nA' }, { key: 'ref\nsmsc\nB' }]);
});

test('the wake-up hint is the last step, inside the same statement', () => {
  const steps = writeSteps([{ jobs: [{ kind: 'k', payload: {}, dueAt: 1 }] }], { now: 0, notice: { channel: 'c', payload: 'p' } });
  assert.deepEqual(steps.at(-1), { op: 'notify', rows: [{ channel: 'c', payload: 'p' }] });
});

test('an empty change set has no steps', () => {
  assert.deepEqual(writeSteps([{}], { now: 0 }), []);
});

test('jobs an engine took are written leased to it, after the cancels of their keys, and the others as usual', () => {
  const taken = { kind: 'k', key: 'a', payload: { n: 1 }, dueAt: 7.5 };
  const left = { kind: 'k', key: 'b', payload: { n: 2 }, dueAt: 8 };
  const lease = { owner: 'node-1/4', node: 'node-1', leaseNow: null, leaseMs: 30_000 };
  const steps = writeSteps([{ cancelJobKeys: ['a'], jobs: [taken, left] }], { now: 5, leased: new Map([[taken, lease]]) });
  assert.deepEqual(summary(steps), [
    ['delete_jobs_by_keys', 1, undefined],
    ['insert_jobs', 1, undefined],
    ['insert_leased_jobs', 1, undefined],
  ]);
  assert.deepEqual(steps[1]!.rows, [{ kind: 'k', lane: null, key: 'b', tenant: null, payload: '{"n":2}', dueAt: 8, createdAt: 5 }]);
  assert.deepEqual(steps[2]!.rows, [{ kind: 'k', lane: null, key: 'a', tenant: null, payload: '{"n":1}', dueAt: 8, createdAt: 5, ...lease }]);
});
