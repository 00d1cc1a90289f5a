import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { ClaimedJob, MessageRecord, NewJob } from '../core/records.js';
import { openSqliteDatabase } from '../store/sqlite/sqlite-database.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { ClaimRequest, JobFilter } from '../store/store.js';
import { VirtualClock } from './clock.js';
import { JobEngine, failureBackoffMs, type JobEngineOptions, type JobHandler } from './job-engine.js';
import { deliverWebhook } from './jobs/job-kinds.js';

/**
 * The engine against a real SQLite store in a temp dir; only the handlers are test doubles.
 * Scheduled time is a VirtualClock that only moves when a test advances it, and so is wall time
 * (`h.wall`): the store takes lease instants from it, so a test expires a lease by moving it,
 * never by sleeping. Instead of sleeping
 * to prove that something did *not* happen, tests wait for `store.engineIdle()`: the engine has
 * claimed after that point and found nothing more to run (it asks for the next due time just
 * before it goes to sleep). Real time is only waited on, with a bound, for work to drain.
 */

const T0 = 1_700_000_000_000;
/** Wall time starts elsewhere than scheduling time, so that mixing the two up shows. */
const WALL0 = 1_800_000_000_000;
const SILENT = pino({ level: 'silent' });

/** A SqliteStore that lets a test see when the engine has finished a claim round. */
class ObservedStore extends SqliteStore {
  private mark = 0;
  private lastClaimMark = -1;
  private waiters: Array<{ mark: number; resolve: () => void }> = [];
  claims = 0;
  /** Simulates a database round trip: the claim happens at once, its answer comes this much later. */
  claimLatencyMs = 0;

  /** Until this wall-clock time every claim fails, as when the database is unavailable. */
  failClaimsUntil = 0;
  failedClaims = 0;

  override async claimJobs(request: ClaimRequest): Promise<ClaimedJob[]> {
    this.lastClaimMark = this.mark;
    this.claims += 1;
    if (Date.now() < this.failClaimsUntil) {
      this.failedClaims += 1;
      throw new Error('SQLITE_BUSY: database is locked');
    }
    const claimed = await super.claimJobs(request);
    if (this.claimLatencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.claimLatencyMs));
    return claimed;
  }

  /** What the engine last asked for before going to sleep: its lane and the keys at their share. */
  lastSleepFilter: JobFilter | undefined;

  override async nextDueAt(filter?: JobFilter): Promise<number | undefined> {
    const claimedAtMark = this.lastClaimMark;
    this.lastSleepFilter = filter;
    const result = await super.nextDueAt(filter);
    const ready = this.waiters.filter((waiter) => waiter.mark <= claimedAtMark);
    this.waiters = this.waiters.filter((waiter) => waiter.mark > claimedAtMark);
    for (const waiter of ready) waiter.resolve();
    return result;
  }

  /** Resolves when a claim that began after this call came back empty and the engine is about to sleep. */
  engineIdle(timeoutMs = 2000): Promise<void> {
    this.mark += 1;
    const mark = this.mark;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the engine did not go idle')), timeoutMs);
      this.waiters.push({ mark, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
}

/** Wall time that moves only when a test moves it. */
class ManualWall {
  now = WALL0;
  advance(ms: number): void {
    this.now += ms;
  }
}

interface Harness {
  store: ObservedStore;
  clock: VirtualClock;
  wall: ManualWall;
  engine: JobEngine;
  add(...jobs: NewJob[]): Promise<void>;
}

async function harness(t: TestContext, handlers: Record<string, JobHandler>, options: Partial<JobEngineOptions> = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'opendispatch-engine-'));
  const wall = new ManualWall();
  const clock = new VirtualClock(T0, () => wall.now);
  const store = new ObservedStore({ db: openSqliteDatabase({ path: join(dir, 'engine.db'), synchronous: 'NORMAL' }), clock });
  const engine = new JobEngine({ store, clock, handlers, log: SILENT, concurrency: 4, pollIntervalMs: 10_000, leaseMs: 30_000, ...options });
  // As src/server.ts composes them: an advance of the virtual clock wakes the engine.
  const unsubscribe = clock.onAdvance(() => engine.wake());
  t.after(async () => {
    unsubscribe();
    await engine.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    store,
    clock,
    wall,
    engine,
    async add(...jobs) {
      assert.equal(await store.commit({ jobs }), 'committed');
    },
  };
}

/** Polls `condition` every few ms until it holds; fails after `timeoutMs`. */
async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function drained(h: Harness): Promise<void> {
  await waitFor('every job done', async () => (await h.store.countJobs()) === 0 && h.engine.jobsInFlight === 0);
}

function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const testJob = (dueAt: number, payload: Record<string, unknown> = {}, kind = 'test'): NewJob => ({ kind, payload, dueAt });

function message(uuid: string): MessageRecord {
  return {
    uuid,
    apiKey: 'key-1',
    direction: 'outbound',
    channel: 'sms',
    to: { type: 'sms', number: '447700900001' },
    from: { type: 'sms', number: 'BIZ' },
    message: { content: { type: 'text', text: 'hi' } },
    status: 'queued',
    reported: [],
    version: 1,
    createdAt: T0,
    updatedAt: T0,
  };
}

/** What a test job carries; handlers read it back from the (unknown) payload. */
const field = (job: ClaimedJob, name: string): unknown => (job.payload as Record<string, unknown>)[name];

test('failure backoff doubles from 1 s and is capped at 5 min', () => {
  assert.deepEqual([0, 1, 2, 3, 4].map(failureBackoffMs), [1000, 1000, 2000, 4000, 8000]);
  assert.equal(failureBackoffMs(9), 256_000);
  assert.equal(failureBackoffMs(10), 300_000);
  assert.equal(failureBackoffMs(1000), 300_000);
});

test('a due job runs once, with its payload, and is deleted', async (t) => {
  const seen: ClaimedJob[] = [];
  const h = await harness(t, { test: async (job) => (seen.push(job), { done: {} }) });
  await h.add(testJob(T0, { n: 1 }));
  h.engine.start();
  await drained(h);
  const idle = h.store.engineIdle();
  h.clock.advance(3_600_000);
  await idle;
  await h.engine.stop();
  assert.equal(seen.length, 1);
  assert.deepEqual(seen[0]?.payload, { n: 1 });
  assert.equal(seen[0]?.attempts, 1);
  assert.ok(seen[0]?.lease.owner.startsWith(`${h.engine.owner}/`), 'leased by this engine, with a token of its own claim');
});

test("a job's effects commit with its completion", async (t) => {
  const h = await harness(t, { test: async () => ({ done: { messages: [message('m-1')] } }) });
  await h.add(testJob(T0));
  h.engine.start();
  await drained(h);
  assert.equal((await h.store.findMessage('m-1'))?.status, 'queued');
});

test('a future job waits for the virtual clock, then runs as soon as it is advanced past its due time', async (t) => {
  let runs = 0;
  const h = await harness(t, { test: async () => (runs++, { done: {} }) });
  await h.add(testJob(T0 + 60_000));
  let idle = h.store.engineIdle();
  h.engine.start();
  await idle;
  assert.equal(runs, 0);

  idle = h.store.engineIdle();
  h.clock.advance(59_999);
  await idle;
  assert.equal(runs, 0, 'not yet due');

  const started = Date.now();
  h.clock.advance(1);
  await waitFor('the job ran', () => runs === 1);
  assert.ok(Date.now() - started < 100, `ran ${Date.now() - started} ms after the advance (poll interval 10 s)`);
  await drained(h);
});

test('a job rescheduled with retryAt runs again only once that time has come, with its effects kept', async (t) => {
  const seen: ClaimedJob[] = [];
  const h = await harness(t, {
    test: async (job) => {
      seen.push(job);
      if (seen.length === 1) return { retryAt: T0 + 5000, error: 'provider busy', change: { messages: [message('attempt-1')] } };
      return { done: {} };
    },
  });
  await h.add(testJob(T0));
  let idle = h.store.engineIdle();
  h.engine.start();
  await waitFor('first run', () => seen.length === 1);
  await waitFor('the job is back, unleased, due at retryAt', async () => (await h.store.nextDueAt()) === T0 + 5000);
  await idle;
  assert.ok(await h.store.findMessage('attempt-1'), 'a retry commits its change');

  idle = h.store.engineIdle();
  h.clock.advance(4999);
  await idle;
  assert.equal(seen.length, 1);

  h.clock.advance(1);
  await waitFor('second run', () => seen.length === 2);
  await drained(h);
  assert.equal(seen[1]?.attempts, 2);
  assert.equal(seen[1]?.dueAt, T0 + 5000);
});

test('a throwing handler is retried after failureBackoffMs, and again with a longer backoff', async (t) => {
  let runs = 0;
  const h = await harness(t, {
    test: async () => {
      runs += 1;
      if (runs <= 2) throw new Error(`boom ${runs}`);
      return { done: {} };
    },
  });
  await h.add(testJob(T0));
  h.engine.start();
  await waitFor('first failure rescheduled', async () => runs === 1 && (await h.store.nextDueAt()) === T0 + failureBackoffMs(1));

  let idle = h.store.engineIdle();
  h.clock.advance(failureBackoffMs(1) - 1);
  await idle;
  assert.equal(runs, 1);
  h.clock.advance(1);
  const retriedAt = h.clock.now();
  await waitFor('second failure rescheduled', async () => runs === 2 && (await h.store.nextDueAt()) === retriedAt + failureBackoffMs(2));

  idle = h.store.engineIdle();
  h.clock.advance(failureBackoffMs(2) - 1);
  await idle;
  assert.equal(runs, 2);
  h.clock.advance(1);
  await drained(h);
  assert.equal(runs, 3);
});

test('a `record` outcome that conflicts is recomputed and committed without running the handler again', async (t) => {
  let handlerRuns = 0;
  let recordRuns = 0;
  const h = await harness(t, {
    test: async () => {
      handlerRuns += 1;
      return {
        record: async () => {
          recordRuns += 1;
          // The first computation read a version a racing receipt has since replaced.
          const expectedVersion = recordRuns === 1 ? 2 : 1;
          return {
            messageUpdates: [{ uuid: 'm-1', expectedVersion, status: 'submitted', reported: ['submitted'], providerRef: `prov-${recordRuns}`, updatedAt: T0 + 1 }],
            events: [{ messageUuid: 'm-1', status: 'submitted', at: T0 + 1 }],
          };
        },
      };
    },
  });
  await h.store.commit({ messages: [message('m-1')] });
  await h.add(testJob(T0));
  h.engine.start();
  await drained(h);
  assert.equal(handlerRuns, 1);
  assert.equal(recordRuns, 2);
  const m = await h.store.findMessage('m-1');
  assert.equal(m?.status, 'submitted');
  assert.equal(m?.providerRef, 'prov-2');
  assert.equal((await h.store.listMessageEvents('m-1')).length, 1, 'the conflicting attempt left nothing behind');
});

test('a `record` outcome that keeps conflicting gives up after a few tries and the job runs again', async (t) => {
  let handlerRuns = 0;
  let recordRuns = 0;
  const h = await harness(t, {
    test: async () => {
      handlerRuns += 1;
      const run = handlerRuns;
      return {
        record: async () => {
          recordRuns += 1;
          const expectedVersion = run === 1 ? 7 : 1; // never true on the first run
          return { messageUpdates: [{ uuid: 'm-1', expectedVersion, status: 'submitted', reported: ['submitted'], updatedAt: T0 }] };
        },
      };
    },
  });
  await h.store.commit({ messages: [message('m-1')] });
  await h.add(testJob(T0));
  h.engine.start();
  await drained(h);
  assert.equal(handlerRuns, 2);
  assert.equal(recordRuns, 5 + 1);
  assert.equal((await h.store.findMessage('m-1'))?.status, 'submitted');
});

test('a `record` function that throws is retried with backoff like a throwing handler', async (t) => {
  let handlerRuns = 0;
  const h = await harness(t, {
    test: async () => {
      handlerRuns += 1;
      const run = handlerRuns;
      return {
        record: async () => {
          if (run === 1) throw new Error('could not read the message');
          return { messages: [message('m-recorded')] };
        },
      };
    },
  });
  await h.add(testJob(T0));
  h.engine.start();
  await waitFor('rescheduled with backoff, lease freed', async () => (await h.store.nextDueAt()) === T0 + failureBackoffMs(1));
  h.clock.advance(failureBackoffMs(1));
  await drained(h);
  assert.equal(handlerRuns, 2);
  assert.ok(await h.store.findMessage('m-recorded'));
});

test('a `done` outcome whose state changed underneath is discarded and the job runs again on fresh state', async (t) => {
  let runs = 0;
  const h = await harness(t, {
    test: async () => {
      runs += 1;
      const expectedVersion = runs === 1 ? 3 : 1;
      return {
        done: {
          messageUpdates: [{ uuid: 'm-1', expectedVersion, status: 'submitted', reported: ['submitted'], updatedAt: T0 }],
          jobs: [testJob(T0 + 1_000_000, { follow: runs }, 'later')],
        },
      };
    },
  });
  await h.store.commit({ messages: [message('m-1')] });
  await h.add(testJob(T0));
  h.engine.start();
  await waitFor('ran twice', async () => runs === 2 && (await h.store.countJobs()) === 1 && h.engine.jobsInFlight === 0);
  assert.equal((await h.store.findMessage('m-1'))?.status, 'submitted');
  // Only the second run's follow-up job exists.
  const left = await h.store.claimJobs({ owner: 'probe', dueBy: T0 + 1_000_000, leaseMs: 1000, limit: 10 });
  assert.deepEqual(left.map((j) => j.payload), [{ follow: 2 }]);
});

test('a handler whose lease was taken over commits nothing, and the new owner keeps the job', async (t) => {
  let stolen: ClaimedJob | undefined;
  const h = await harness(t, {
    test: async () => {
      // Its lease ran out while it worked, and another node took the job.
      h.wall.advance(30_001);
      [stolen] = await h.store.claimJobs({ owner: 'other-node', dueBy: h.clock.now(), leaseMs: 60_000, limit: 1 });
      return { done: { messages: [message('m-from-lost-lease')] } };
    },
  });
  await h.add(testJob(T0));
  const idle = h.store.engineIdle();
  h.engine.start();
  await waitFor('stolen', () => stolen !== undefined);
  await idle;
  await waitFor('handler finished', () => h.engine.jobsInFlight === 0);
  assert.equal(await h.store.findMessage('m-from-lost-lease'), undefined);
  assert.equal(await h.store.countJobs(), 1);
  assert.equal(await h.store.commit({ complete: stolen!.lease }), 'committed', "the other node's lease is intact");
});

test('no more jobs run at once than the configured concurrency', async (t) => {
  const gates = new Map<number, ReturnType<typeof gate>>();
  let inFlight = 0;
  let maxInFlight = 0;
  let started = 0;
  const h = await harness(
    t,
    {
      test: async (job) => {
        started += 1;
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const g = gate();
        gates.set(Number(field(job, 'n')), g);
        await g.promise;
        inFlight -= 1;
        return { done: {} };
      },
    },
    { concurrency: 3 },
  );
  await h.add(...Array.from({ length: 10 }, (_, n) => testJob(T0 - 100 + n, { n })));
  h.engine.start();
  await waitFor('three started', () => started === 3);
  assert.equal(h.engine.jobsInFlight, 3);
  // Earliest due first.
  assert.deepEqual([...gates.keys()].sort((a, b) => a - b), [0, 1, 2]);

  // Nothing else starts while all slots are busy, even with more jobs added.
  await h.add(testJob(T0, { n: 100 }));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(started, 3);

  // A freed slot is filled at once.
  gates.get(1)!.open();
  await waitFor('a fourth started', () => started === 4);
  assert.equal(maxInFlight, 3);

  const release = setInterval(() => {
    for (const g of gates.values()) g.open();
  }, 1);
  try {
    await drained(h);
  } finally {
    clearInterval(release);
  }
  assert.equal(started, 11);
  assert.equal(maxInFlight, 3);
});

test('a slot freed while the engine waits for a claim is used, not left idle until another job ends', async (t) => {
  // Concurrency 3, and a store that answers a claim 30 ms after making it. A long job holds one
  // slot; a quick job adds a long job and a quick one and ends while the engine is claiming the
  // long one into the last slot. The quick one must start although both long jobs keep running.
  const release = gate();
  const started: string[] = [];
  const h = await harness(
    t,
    {
      test: async (job) => {
        const name = String(field(job, 'name'));
        started.push(name);
        if (name === 'adder') {
          await h.store.commit({ jobs: [testJob(T0 - 1, { name: 'long-2' }), testJob(T0, { name: 'quick' })] });
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        if (name.startsWith('long')) await release.promise;
        return { done: {} };
      },
    },
    { concurrency: 3 },
  );
  h.store.claimLatencyMs = 30;
  await h.add(testJob(T0 - 10, { name: 'long-1' }), testJob(T0 - 9, { name: 'adder' }));
  h.engine.start();
  try {
    await waitFor('the quick job started', () => started.includes('quick'), 1000);
  } finally {
    release.open();
  }
  assert.deepEqual(started, ['long-1', 'adder', 'long-2', 'quick']);
  await drained(h);
});

test('stop() stops claiming and waits for the jobs in flight', async (t) => {
  const g = gate();
  let started = 0;
  let finished = 0;
  const h = await harness(t, {
    test: async () => {
      started += 1;
      await g.promise;
      finished += 1;
      return { done: {} };
    },
  });
  await h.add(testJob(T0));
  h.engine.start();
  await waitFor('started', () => started === 1);

  let stopped = false;
  const stopping = h.engine.stop().then(() => (stopped = true));
  await h.add(testJob(T0, { after: 'stop' }));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(stopped, false, 'stop() waits while a job runs');

  g.open();
  await stopping;
  assert.equal(finished, 1);
  assert.equal(h.engine.jobsInFlight, 0);
  assert.equal(started, 1, 'no job is claimed after stop()');
  assert.equal(await h.store.countJobs(), 1, 'the finished job completed; the new one waits');
});

test('advancing the virtual clock does not expire the lease of a running job', async (t) => {
  const g = gate();
  let runs = 0;
  const h = await harness(t, { test: async () => (runs++, await g.promise, { done: {} }) });
  await h.add(testJob(T0));
  h.engine.start();
  await waitFor('running', () => runs === 1);
  h.clock.advance(7 * 24 * 3_600_000);
  const other = await h.store.claimJobs({ owner: 'other-node', dueBy: h.clock.now(), leaseMs: 1000, limit: 10 });
  assert.deepEqual(other, []);
  g.open();
  await drained(h);
  assert.equal(runs, 1);
});

test('a job whose lease expired (a crashed worker) is picked up by the engine', async (t) => {
  const seen: ClaimedJob[] = [];
  const h = await harness(t, { test: async (job) => (seen.push(job), { done: {} }) });
  await h.add(testJob(T0, { n: 'expiring' }), testJob(T0, { n: 'expired' }));
  // A worker whose lease runs out while the engine sleeps, and one that crashed long ago.
  const [dying] = await h.store.claimJobs({ owner: 'crashed', dueBy: T0, leaseMs: 150, limit: 1 });
  const [dead] = await h.store.claimJobs({ owner: 'crashed', dueBy: T0, leaseMs: 0, limit: 1 });
  assert.deepEqual([dying && field(dying, 'n'), dead && field(dead, 'n')], ['expiring', 'expired']);
  assert.ok(dead && dying);
  h.wall.advance(1);

  let idle = h.store.engineIdle();
  h.engine.start();
  await idle;
  assert.deepEqual(seen.map((job) => field(job, 'n')), ['expired'], 'the long-expired lease is taken over, the live one is not');
  assert.equal(seen[0]?.attempts, 2);
  assert.ok(seen[0]?.lease.owner.startsWith(`${h.engine.owner}/`), 'leased by this engine, with a token of its own claim');

  idle = h.store.engineIdle();
  h.wall.advance(149); // the lease's last millisecond
  h.engine.wake();
  await idle;
  assert.equal(seen.length, 1, 'not before the lease expired');

  h.wall.advance(1);
  h.engine.wake(); // in production the poll interval comes round
  await waitFor('the short lease runs out and is taken over', () => seen.length === 2);
  assert.equal(field(seen[1]!, 'n'), 'expiring');
  await drained(h);
  assert.equal(await h.store.commit({ complete: dead.lease }), 'conflict', 'the crashed worker cannot complete it any more');
});

test('jobs committed while the engine sleeps wake it at once', async (t) => {
  let ranAt = 0;
  const h = await harness(t, { test: async () => ((ranAt = Date.now()), { done: {} }) }, { pollIntervalMs: 10_000 });
  const idle = h.store.engineIdle();
  h.engine.start();
  await idle;
  await new Promise((resolve) => setTimeout(resolve, 20)); // asleep, with nothing due for 10 s

  const committedAt = Date.now();
  await h.add(testJob(T0));
  await waitFor('ran', () => ranAt > 0, 1000);
  assert.ok(ranAt - committedAt < 100, `ran ${ranAt - committedAt} ms after the commit`);
  await drained(h);
});

test('a webhook committed with its delivery job while the engine sleeps is delivered at once', async (t) => {
  const delivered: unknown[] = [];
  const h = await harness(t, { 'webhook.deliver': async (job) => (delivered.push(job.payload), { done: {} }) }, { pollIntervalMs: 10_000 });
  const idle = h.store.engineIdle();
  h.engine.start();
  await idle;
  const committedAt = Date.now();
  const webhook = { id: 'w-1', apiKey: 'key-1', kind: 'message-status' as const, url: 'https://example.test', body: '{}', state: 'pending' as const, attempts: 0, createdAt: T0 };
  await h.store.commit({ webhooks: [webhook], jobs: [deliverWebhook.create(webhook)] });
  await waitFor('delivered', () => delivered.length === 1, 1000);
  assert.ok(Date.now() - committedAt < 100);
  assert.deepEqual(delivered, [{ webhookId: 'w-1' }]);
});

test('jobs that handlers add run at once, however quickly the handler commits', async (t) => {
  // A handler finishing while the engine is between its claim and its sleep must not be missed:
  // chains of jobs whose handlers take 0…40 microtask turns each.
  const ranAt = new Map<number, number>();
  const h = await harness(
    t,
    {
      chain: async (job) => {
        const step = Number(field(job, 'step'));
        ranAt.set(step, Date.now());
        for (let i = 0; i < step; i += 1) await null;
        return { done: step < 40 ? { jobs: [testJob(T0, { step: step + 1 }, 'chain')] } : {} };
      },
    },
    { pollIntervalMs: 10_000, concurrency: 2 },
  );
  await h.add(testJob(T0, { step: 0 }, 'chain'));
  const started = Date.now();
  h.engine.start();
  await waitFor('the chain finished', () => ranAt.has(40), 3000).catch((error) => {
    throw new Error(`${(error as Error).message}; stalled after step ${Math.max(...ranAt.keys())}`);
  });
  assert.ok(Date.now() - started < 1000, `41 chained jobs took ${Date.now() - started} ms`);
  await drained(h);
});

test('a job of an unknown kind is rescheduled a minute later, not dropped', async (t) => {
  const h = await harness(t, {});
  await h.add(testJob(T0, { keep: true }, 'no.such.kind'));
  h.engine.start();
  await waitFor('rescheduled', async () => (await h.store.nextDueAt()) === T0 + 60_000);
  assert.equal(await h.store.countJobs(), 1);

  // Still not dropped on the next attempt.
  const claimsBefore = h.store.claims;
  h.clock.advance(60_000);
  await waitFor('rescheduled again', async () => (await h.store.nextDueAt()) === T0 + 120_000);
  assert.ok(h.store.claims > claimsBefore);
  assert.equal(await h.store.countJobs(), 1);
  await h.engine.stop();
  const [job] = await h.store.claimJobs({ owner: 'probe', dueBy: T0 + 120_000, leaseMs: 1000, limit: 1 });
  assert.deepEqual([job?.kind, job?.payload, job?.attempts], ['no.such.kind', { keep: true }, 3]);
});

test('a failing claim is retried after the poll interval, not in a loop that starves the process', async (t) => {
  let runs = 0;
  const h = await harness(t, { test: async () => (runs++, { done: {} }) }, { pollIntervalMs: 50 });
  await h.add(testJob(T0));
  const started = Date.now();
  h.store.failClaimsUntil = started + 120;
  h.engine.start();
  await waitFor('the job ran once the store recovered', () => runs === 1);
  assert.ok(Date.now() - started >= 120);
  assert.ok(h.store.failedClaims <= 5, `${h.store.failedClaims} failed claims in 120 ms with a 50 ms poll interval`);
  await drained(h);
});

test('start() twice runs one loop; stop() on a stopped engine returns', async (t) => {
  let runs = 0;
  const h = await harness(t, { test: async () => (runs++, { done: {} }) });
  h.engine.start();
  h.engine.start();
  await h.add(testJob(T0));
  await drained(h);
  await h.engine.stop();
  await h.engine.stop();
  assert.equal(runs, 1);
});

test('a handler that outlives its lease: the same engine runs the job again, and only the newer run commits', async (t) => {
  const runs: Array<{ attempt: number; release(): void }> = [];
  const h = await harness(
    t,
    {
      slow: async (job) => {
        const { promise, open } = gate();
        runs.push({ attempt: job.attempts, release: open });
        await promise;
        return { done: { events: [{ messageUuid: 'm-lease', status: 'delivered', at: T0 + job.attempts }] } };
      },
    },
    { leaseMs: 50 },
  );
  await h.add(testJob(T0, {}, 'slow'));
  h.engine.start();
  await waitFor('the job running', () => runs.length === 1);
  h.wall.advance(51); // its lease runs out while it works
  h.engine.wake();
  await waitFor('the job claimed again by the same engine', () => runs.length === 2);
  // The stale run finishes first: its completion must not match any more.
  runs[0]!.release();
  await waitFor('the stale run finished', () => h.engine.jobsInFlight === 1);
  assert.deepEqual(await h.store.listMessageEvents('m-lease'), [], 'the first, stale run committed nothing');
  runs[1]!.release();
  await drained(h);
  assert.deepEqual((await h.store.listMessageEvents('m-lease')).map((event) => event.at), [T0 + 2], 'the newer run committed');
});

test('at most maxPerKey jobs of one key run at once; other keys take the free slots', async (t) => {
  const running = new Map<string, number>();
  const most = new Map<string, number>();
  const gates: Array<ReturnType<typeof gate>> = [];
  const h = await harness(
    t,
    {
      test: async (job) => {
        const key = String(field(job, 'key'));
        running.set(key, (running.get(key) ?? 0) + 1);
        most.set(key, Math.max(most.get(key) ?? 0, running.get(key)!));
        const g = gate();
        gates.push(g);
        await g.promise;
        running.set(key, running.get(key)! - 1);
        return { done: {} };
      },
    },
    { concurrency: 6, maxPerKey: 2, pollIntervalMs: 20 },
  );
  // Ten jobs of a receiver that hangs, due first, then three of another.
  await h.add(
    ...Array.from({ length: 10 }, (_, n) => ({ ...testJob(T0 - 100 + n, { key: 'slow' }), key: 'origin:slow' })),
    ...Array.from({ length: 3 }, (_, n) => ({ ...testJob(T0 - 50 + n, { key: 'fast' }), key: 'origin:fast' })),
  );
  h.engine.start();
  await waitFor('both keys running at their limit', () => running.get('slow') === 2 && running.get('fast') === 2);
  // With both keys at their share the engine sleeps until a due job of another key, not in a loop.
  await h.store.engineIdle();
  assert.deepEqual([...(h.store.lastSleepFilter?.excludeKeys ?? [])].sort(), ['origin:fast', 'origin:slow']);
  const inFlight = (): number => h.engine.jobsInFlight;
  assert.equal(inFlight(), 4, 'two slots stay free rather than go to a saturated key');
  for (;;) {
    const open = gates.splice(0);
    if (open.length === 0 && inFlight() === 0 && (await h.store.countJobs()) === 0) break;
    for (const g of open) g.open();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.deepEqual(Object.fromEntries(most), { slow: 2, fast: 2 });
});

test('new jobs of a key at its limit do not make the engine claim; the finish of that key’s job runs them', async (t) => {
  const ran: string[] = [];
  const slow = gate();
  let slowRunning = 0;
  let slowMost = 0;
  const h = await harness(
    t,
    {
      test: async (job) => {
        const name = String(field(job, 'name'));
        if (name.startsWith('slow')) {
          slowRunning += 1;
          slowMost = Math.max(slowMost, slowRunning);
          if (name === 'slow-0') await slow.promise;
          slowRunning -= 1;
        }
        ran.push(name);
        return { done: {} };
      },
    },
    { concurrency: 4, maxPerKey: 1, pollIntervalMs: 10_000 },
  );
  const slowJob = (n: number): NewJob => ({ ...testJob(T0 - 100 + n, { name: `slow-${n}` }), key: 'origin:slow' });
  await h.add(slowJob(0));
  h.engine.start();
  await waitFor('the slow job running', () => slowRunning === 1);
  // (The engine may still make its one empty claim after taking slow-0: counted below.)
  const claimsBefore = h.store.claims;
  // A saturated receiver's webhooks keep coming, one commit each: no claim could take them.
  for (let n = 1; n <= 5; n++) await h.add(slowJob(n));
  const idle = h.store.engineIdle();
  await h.add({ ...testJob(T0, { name: 'fast' }), key: 'origin:fast' });
  await idle;
  assert.deepEqual(ran, ['fast']);
  assert.ok(h.store.claims - claimsBefore <= 3, `${h.store.claims - claimsBefore} claims for one claimable job`);
  slow.open();
  await drained(h);
  assert.deepEqual(ran, ['fast', 'slow-0', 'slow-1', 'slow-2', 'slow-3', 'slow-4', 'slow-5']);
  assert.equal(slowMost, 1);
});

test('behind a key at its limit, each finished job costs one claim, which takes the next job of that key', async (t) => {
  const gates = new Map<string, ReturnType<typeof gate>>();
  const started: string[] = [];
  const h = await harness(
    t,
    {
      test: async (job) => {
        const name = String(field(job, 'name'));
        started.push(name);
        const g = gate();
        gates.set(name, g);
        if (name.startsWith('slow')) await g.promise;
        return { done: {} };
      },
    },
    { concurrency: 4, maxPerKey: 1, pollIntervalMs: 10_000 },
  );
  await h.add(...Array.from({ length: 5 }, (_, n): NewJob => ({ ...testJob(T0 - 100 + n, { name: `slow-${n}` }), key: 'origin:slow' })));
  h.engine.start();
  await waitFor('slow-0 running', () => started.includes('slow-0'));
  await new Promise((resolve) => setTimeout(resolve, 20));
  const claimsBefore = h.store.claims;
  for (let n = 0; n < 3; n++) {
    gates.get(`slow-${n}`)!.open();
    await waitFor(`slow-${n + 1} running`, () => started.includes(`slow-${n + 1}`));
  }
  // A claimable job, to see the engine through to sleep: its claim, and the empty one after it.
  const idle = h.store.engineIdle();
  await h.add({ ...testJob(T0, { name: 'fast' }), key: 'origin:fast' });
  await idle;
  assert.deepEqual(started, ['slow-0', 'slow-1', 'slow-2', 'slow-3', 'fast']);
  assert.equal(h.store.claims - claimsBefore, 3 + 2, 'one claim per finished slow job, then the fast job’s two');
  for (const g of gates.values()) g.open();
  await waitFor('slow-4 running', () => started.includes('slow-4'));
  gates.get('slow-4')!.open();
  await drained(h);
});

// Jobs run where they are made (runAddedJobs): the store writes a taken job leased to the
// engine in the transaction that adds it and hands it over on commit, so no claim reads it.

/** The lease columns of every job row, read past the store port (what a crash would leave). */
function leases(h: Harness): Array<{ owner: string | null; attempts: number }> {
  const db = (h.store as unknown as { db: { prepare(sql: string): { all(): Array<{ lease_owner: string | null; attempts: number }> } } }).db;
  return db.prepare('SELECT lease_owner, attempts FROM jobs ORDER BY id').all().map((row) => ({ owner: row.lease_owner, attempts: row.attempts }));
}

test('with runAddedJobs, a due job added while the engine is idle runs without a claim, leased to it in the row', async (t) => {
  const release = gate();
  const seen: ClaimedJob[] = [];
  const h = await harness(t, { test: async (job) => (seen.push(job), await release.promise, { done: {} }) }, { runAddedJobs: true });
  let idle = h.store.engineIdle();
  h.engine.start();
  await idle;
  const claimsBefore = h.store.claims;
  await h.add(testJob(T0, { n: 1 }));
  await waitFor('the job running', () => seen.length === 1);
  assert.equal(h.store.claims, claimsBefore, 'not claimed: handed over by its commit');
  assert.deepEqual(seen[0]?.payload, { n: 1 });
  assert.equal(seen[0]?.attempts, 1);
  assert.ok(seen[0]?.lease.owner.startsWith(`${h.engine.owner}/`));
  assert.deepEqual(leases(h), [{ owner: seen[0]?.lease.owner, attempts: 1 }], 'the row holds the lease, so a crash leaves it to be claimed');
  release.open();
  await drained(h);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(h.store.claims, claimsBefore, 'nor did its commit or its finish make the engine look');
  idle = h.store.engineIdle();
  h.clock.advance(1);
  await idle;
  assert.equal(seen.length, 1, 'ran once');
});

test('with runAddedJobs, a job added while every slot is taken waits in the table and is claimed when one frees', async (t) => {
  const release = gate();
  const started: string[] = [];
  const h = await harness(
    t,
    { test: async (job) => (started.push(String(field(job, 'name'))), await release.promise, { done: {} }) },
    { runAddedJobs: true, concurrency: 1 },
  );
  h.engine.start();
  await h.add(testJob(T0, { name: 'first' }));
  await waitFor('first running', () => started.length === 1);
  const claimsBefore = h.store.claims;
  await h.add(testJob(T0, { name: 'second' }));
  assert.deepEqual(leases(h)[1], { owner: null, attempts: 0 }, 'left unleased for a claim');
  release.open();
  await drained(h);
  assert.deepEqual(started, ['first', 'second']);
  assert.ok(h.store.claims > claimsBefore, 'the second was claimed');
});

test('with runAddedJobs, a job whose change conflicts is not run and frees the slot it reserved', async (t) => {
  const started: string[] = [];
  const h = await harness(t, { test: async (job) => (started.push(String(field(job, 'name'))), { done: {} }) }, { runAddedJobs: true, concurrency: 1 });
  const idle = h.store.engineIdle();
  h.engine.start();
  await idle;
  // Its guard (a held receipt that is not there) fails after the job row is written: the whole
  // change, the job with it, rolls back.
  assert.equal(await h.store.commit({ jobs: [testJob(T0, { name: 'rolled back' })], inboxExpired: ['no such receipt'] }), 'conflict');
  assert.equal(h.engine.jobsInFlight, 0, 'the reserved slot is free again');
  await h.add(testJob(T0, { name: 'next' }));
  await drained(h);
  assert.deepEqual(started, ['next'], 'the one slot served the next job');
});

test('with runAddedJobs, a new job does not overtake an older one that came due in the table unannounced', async (t) => {
  const started: string[] = [];
  const h = await harness(t, { test: async (job) => (started.push(String(field(job, 'name'))), { done: {} }) }, { runAddedJobs: true, leaseMs: 30_000 });
  await h.add(testJob(T0 - 1000, { name: 'older' }));
  // Claimed by a worker that then died: its lease runs out with nobody told.
  assert.equal((await h.store.claimJobs({ owner: 'crashed', dueBy: T0, leaseMs: 30_000, limit: 1 })).length, 1);
  const idle = h.store.engineIdle();
  h.engine.start();
  await idle;
  h.wall.advance(30_001);
  await h.add(testJob(T0, { name: 'newer' }));
  await drained(h);
  assert.deepEqual(started, ['older', 'newer']);
});
