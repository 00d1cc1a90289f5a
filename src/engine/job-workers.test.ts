import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { ClaimedJob } from '../core/records.js';
import { openSqliteDatabase } from '../store/sqlite/sqlite-database.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { ClaimRequest, JobFilter } from '../store/store.js';
import { VirtualClock } from './clock.js';
import { JobEngine, type JobHandler } from './job-engine.js';
import { JobWorkers } from './job-workers.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The lanes together, against a real SQLite store, on the virtual clock. The one double is a
 * store with database round trips, as PostgreSQL has under load: a webhooks-lane claim leases its
 * rows at once and answers later, so for that while its job is neither due nor running; and the
 * question across all lanes is asked only after a while.
 */
class SlowRoundTrips extends SqliteStore {
  override async claimJobs(request: ClaimRequest): Promise<ClaimedJob[]> {
    const claimed = await super.claimJobs(request);
    if (request.lanes?.includes('webhooks') && claimed.length > 0) await pause(30);
    return claimed;
  }

  override async nextDueAt(filter?: JobFilter): Promise<number | undefined> {
    if ((filter?.lanes?.length ?? 0) > 1) await pause(10);
    return super.nextDueAt(filter);
  }
}

test('settle waits for a job that one lane adds for another, while the other lane is still claiming it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'opendispatch-workers-'));
  let wall = 1_800_000_000_000;
  const clock = new VirtualClock(1_700_000_000_000, () => wall);
  const store = new SlowRoundTrips({ db: openSqliteDatabase({ path: join(dir, 'workers.db'), synchronous: 'NORMAL' }), clock });
  const delivered: string[] = [];
  const handlers: Record<string, JobHandler> = {
    // An engine-lane job whose completion adds a webhooks-lane job, as a status change does.
    step: async () => ({ done: { jobs: [{ kind: 'deliver', lane: 'webhooks', payload: {}, dueAt: clock.now() }] } }),
    deliver: async () => {
      delivered.push('deliver');
      return { done: {} };
    },
  };
  const lane = (name: string) => new JobEngine({ store, clock, handlers, log: pino({ level: 'silent' }), lane: name, concurrency: 4, pollIntervalMs: 10_000, leaseMs: 30_000 });
  const workers = new JobWorkers({ engine: lane('engine'), sends: lane('sends'), webhooks: lane('webhooks') }, store, clock);
  workers.start();
  t.after(async () => {
    await workers.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  wall += 1;
  for (let round = 0; round < 5; round += 1) {
    assert.equal(await store.commit({ jobs: [{ kind: 'step', lane: 'engine', payload: {}, dueAt: clock.now() }] }), 'committed');
    await workers.settle();
    assert.equal(delivered.length, round + 1, `round ${round}: settled before the other lane's job ran`);
    assert.equal(await store.countJobs(), 0);
  }
});
