import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpenDispatchError } from '../../core/errors.js';
import type { ChangeSet, CommitResult } from '../store.js';
import { GroupCommit } from './group-commit.js';

/** A database stand-in that records what was sent how, and answers as `together` and `alone` say. */
function world(options: { maxInFlight?: number; maxBatch?: number; together?: (changes: readonly ChangeSet[]) => void; alone?: (change: ChangeSet) => CommitResult } = {}) {
  const sentTogether: number[][] = [];
  const sentAlone: number[] = [];
  const alone = { open: 0, mostOpen: 0 };
  const openBatches: Array<() => void> = [];
  let hold = false;
  const idOf = (change: ChangeSet) => change.counters!.id!;
  const groupCommit = new GroupCommit({
    maxInFlight: options.maxInFlight ?? 4,
    maxBatch: options.maxBatch ?? 64,
    async commitTogether(changes) {
      sentTogether.push(changes.map(idOf));
      if (hold) await new Promise<void>((resolve) => openBatches.push(resolve));
      options.together?.(changes);
    },
    async commitAlone(change) {
      sentAlone.push(idOf(change));
      alone.mostOpen = Math.max(alone.mostOpen, ++alone.open);
      // A round trip: another commit sent meanwhile would overlap this one.
      await new Promise((resolve) => setImmediate(resolve));
      alone.open -= 1;
      return options.alone?.(change) ?? 'committed';
    },
  });
  const commit = (id: number, extra: ChangeSet = {}) => groupCommit.commit({ counters: { id }, ...extra });
  return {
    commit,
    sentTogether,
    sentAlone,
    /** The most change sets committed alone at the same time. */
    mostOpenAlone: () => alone.mostOpen,
    holdBatches: () => (hold = true),
    releaseBatches: () => {
      hold = false;
      for (const release of openBatches.splice(0)) release();
    },
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

test('the change sets of one turn go together, in one batch', async () => {
  const w = world();
  assert.deepEqual(await Promise.all([w.commit(1), w.commit(2), w.commit(3)]), ['committed', 'committed', 'committed']);
  assert.deepEqual([w.sentTogether, w.sentAlone], [[[1, 2, 3]], []]);
});

test('a change set alone in its turn goes alone: no batch of one', async () => {
  const w = world();
  assert.equal(await w.commit(1), 'committed');
  assert.deepEqual([w.sentTogether, w.sentAlone], [[], [1]]);
});

test('while the batches in flight are all the limit, later change sets wait and go together', async () => {
  const w = world({ maxInFlight: 1 });
  w.holdBatches();
  const first = Promise.all([w.commit(1), w.commit(2)]);
  await turn();
  const later = [w.commit(3), w.commit(4)];
  await turn();
  const evenLater = w.commit(5);
  await turn();
  assert.deepEqual(w.sentTogether, [[1, 2]], 'nothing more on the wire while the one batch allowed is');
  w.releaseBatches();
  await first;
  await Promise.all([...later, evenLater]);
  assert.deepEqual(w.sentTogether, [[1, 2], [3, 4, 5]]);
});

test('a batch holds maxBatch change sets at most', async () => {
  const w = world({ maxBatch: 2 });
  await Promise.all([1, 2, 3, 4, 5].map((id) => w.commit(id)));
  assert.deepEqual([w.sentTogether, w.sentAlone], [[[1, 2], [3, 4]], [5]]);
});

test('a batch that fails is committed one by one, each with the outcome it has alone', async () => {
  const w = world({
    together: () => {
      throw new Error('a fence of one of them failed');
    },
    alone: (change) => (change.counters!.id === 2 ? 'conflict' : 'committed'),
  });
  assert.deepEqual(await Promise.all([w.commit(1), w.commit(2), w.commit(3)]), ['committed', 'conflict', 'committed']);
  assert.deepEqual(w.sentAlone.sort(), [1, 2, 3]);
  assert.equal(w.mostOpenAlone(), 3, 'at once: none of them cancels another\'s jobs');
});

test('an error of one alone rejects that one only', async () => {
  const w = world({
    together: () => {
      throw new Error('a duplicate key');
    },
    alone: (change) => {
      if (change.counters!.id === 1) throw new Error('duplicate key value');
      return 'committed';
    },
  });
  const results = await Promise.allSettled([w.commit(1), w.commit(2)]);
  assert.deepEqual(results.map((result) => result.status), ['rejected', 'fulfilled']);
});

test('a database that cannot be reached fails the whole batch at once: nothing is tried alone', async () => {
  const w = world({
    together: () => {
      throw new OpenDispatchError('OD_DATABASE_UNAVAILABLE', 'the database cannot be reached');
    },
  });
  const results = await Promise.allSettled([w.commit(1), w.commit(2)]);
  assert.deepEqual(results.map((result) => result.status), ['rejected', 'rejected']);
  assert.deepEqual(w.sentAlone, []);
});

test('change sets of which one cancels a job key another adds go one by one', async () => {
  const w = world();
  await Promise.all([w.commit(1, { cancelJobKeys: ['k1'], jobs: [{ kind: 'timer', key: 'k2', dueAt: 0, payload: {} }] }), w.commit(2, { cancelJobKeys: ['k2'], jobs: [{ kind: 'timer', key: 'k1', dueAt: 0, payload: {} }] })]);
  assert.deepEqual([w.sentTogether, w.sentAlone], [[], [1, 2]]);
  // Each after the other has committed: at once, neither's cancel would see the other's job.
  assert.equal(w.mostOpenAlone(), 1);
  // A change set replacing its own keyed job is no reason: it goes with the others.
  await Promise.all([w.commit(3, { cancelJobKeys: ['k3'], jobs: [{ kind: 'timer', key: 'k3', dueAt: 0, payload: {} }] }), w.commit(4)]);
  assert.deepEqual(w.sentTogether, [[3, 4]]);
});
