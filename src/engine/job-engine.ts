import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import type { ClaimedJob, NewJob } from '../core/records.js';
import type { ChangeSet, JobsAdded, Store } from '../store/store.js';
import type { JobKind } from './jobs/job-kinds.js';
import { LaneShare } from './lane-share.js';

/**
 * What a handler decided. `done` completes the job and commits its effects in the same
 * transaction; `retry` puts the job back with a due time (plus optional effects, e.g. a
 * recorded webhook attempt). A lost lease discards either: another worker owns the job now.
 */
export type JobOutcome =
  | { done: ChangeSet }
  /**
   * Completes the job with effects computed from state, recomputed if a racing commit changed
   * that state: for work done outside the database (a provider call) that should be recorded,
   * not repeated. The first computation may use what the handler read already (`recomputing`
   * false); after a conflict it must read afresh. Only an outcome that conflicts
   * RECORD_ATTEMPTS times in a row (or a lost lease) makes the job, and so its provider call,
   * run again.
   */
  | { record: (recomputing: boolean) => Promise<ChangeSet> }
  /** `quiet`: an expected wait (a timer yielding to a receipt), logged at debug, not info. */
  | { retryAt: number; error: string; change?: ChangeSet; quiet?: boolean };

export type JobHandler = (job: ClaimedJob) => Promise<JobOutcome>;

/** The handler of one job kind, given the payload parsed against the kind's schema. */
export function handle<Payload, Args extends unknown[]>(
  kind: JobKind<Payload, Args>,
  run: (payload: Payload, job: ClaimedJob) => Promise<JobOutcome>,
): [string, JobHandler] {
  return [
    kind.kind,
    async (job) => {
      const parsed = kind.payload.safeParse(job.payload);
      // Thrown, so the job is kept and retried with backoff, with the reason in its last_error.
      if (!parsed.success) throw new TypeError(`a ${kind.kind} job with a payload of the wrong shape: ${z.prettifyError(parsed.error)}`);
      return run(parsed.data, job);
    },
  ];
}

export interface JobEngineOptions {
  store: Store;
  clock: Clock;
  handlers: Record<string, JobHandler>;
  log: Logger;
  /** Jobs running at once in this engine. */
  concurrency: number;
  /** The lane whose jobs this engine runs (absent: every job). Separate lanes keep slow receivers and providers from holding up timers. */
  lane?: string;
  /** At most this many jobs with the same key run at once (webhooks are keyed by receiver origin, sends by provider). */
  maxPerKey?: number;
  /** Keys with a lower limit of their own (a provider's `rate_per_second`). */
  keyLimits?: ReadonlyMap<string, number>;
  /** At most this many jobs of one tenant (account) run at once, whatever their keys. */
  maxPerTenant?: number;
  /** Upper bound on a sleep, so jobs added by another node are found. */
  pollIntervalMs: number;
  /** How long a claim holds a job; the store takes the instant (DESIGN §2 rule 4). */
  leaseMs: number;
  /**
   * Run the jobs of this lane that this node adds as their change commits, when a slot is free
   * and nothing older waits (Store.runAddedJobs), instead of claiming them from the table.
   */
  runAddedJobs?: boolean;
}

/** Keys and tenants at their share: left out of a claim. */
interface Exclusion {
  excludeKeys: string[];
  excludeTenants: string[];
}

/** Proved by a short claim: nothing outside these exclusions is due before `until` (or, in wall time, `wallUntil`). */
interface Drained extends Exclusion {
  until: number;
  wallUntil: number;
}

/**
 * Claims due jobs with a lease, runs their handler, and completes or reschedules them fenced on
 * the lease. Sleeps until the next due time (capped by the poll interval) or until woken.
 */
export class JobEngine {
  readonly owner = `node-${randomUUID()}`;
  private running = false;
  private inFlight = 0;
  private readonly idle = new Set<() => void>();
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  /** Set by every wake(); a wake that lands while the loop is busy must not be lost. */
  private wakeRequested = false;
  private claimCount = 0;
  private readonly keyShare: LaneShare;
  private readonly tenantShare: LaneShare;
  /** True between a claim query and its jobs being counted in flight. */
  private claiming = false;
  /** Claims begun plus jobs started: unchanged over an interval means the engine began nothing in it. */
  private begun = 0;
  /** The last claim threw (e.g. the database is unavailable). */
  private claimFailed = false;
  /** What the last short claim proved: see nothingToClaim. */
  private drained: Drained | undefined;
  /** Jobs started since this engine was made, per kind: `whereMade` without a claim (reserve). */
  private readonly startedJobs = { claimed: new Map<string, number>(), whereMade: new Map<string, number>() };

  constructor(private readonly options: JobEngineOptions) {
    this.keyShare = new LaneShare(options.maxPerKey, options.keyLimits);
    this.tenantShare = new LaneShare(options.maxPerTenant);
    // A new job of this lane may be due sooner than the current sleep ends. Other lanes' jobs are
    // not this engine's business: waking every lane on every commit tripled the claims (bench).
    options.store.onJobsAdded((added) => {
      if (options.lane !== undefined && !added.lanes.has(options.lane)) return;
      if (!this.couldClaimAny(added)) return;
      if (this.drained !== undefined && added.jobs !== undefined && added.earliestDueAt > options.clock.now()) {
        // Jobs for later leave what the last short claim proved standing, ending sooner: jobs
        // added while it stands can still be run where they are made (reserve).
        this.drained = { ...this.drained, until: Math.min(this.drained.until, added.earliestDueAt) };
        this.slotFreed();
        return;
      }
      this.wake();
    });
    if (options.runAddedJobs) {
      options.store.runAddedJobs({
        leaseMs: options.leaseMs,
        reserve: (job) => this.reserve(job),
        runReserved: (job) => this.runReserved(job),
        cancelReservation: (job) => this.finished(job),
      });
    }
  }

  /**
   * Takes a job being added by this node, to run once its change commits, when this engine
   * could run it now and a claim would have picked it: it is this lane's and due, a slot of the
   * engine, its key and its tenant is free, and the last short claim proved that no older job
   * is waiting (so jobs still run in due order). Measured (accept, four alternated rounds):
   * dispatch 2 184/s → 2 494/s, messages 3 389/s → 3 943/s, and with a webhook each 1 592/s →
   * 1 933/s; a saturated lane (failover-e2e) has a backlog, so there it takes only 5 % of jobs.
   */
  private reserve(job: NewJob): string | undefined {
    const { lane, clock, concurrency } = this.options;
    if (!this.running || (lane !== undefined && job.lane !== lane)) return undefined;
    if (job.dueAt > clock.now() || this.inFlight >= concurrency) return undefined;
    if (this.keyShare.atLimit(job.key) || this.tenantShare.atLimit(job.tenant)) return undefined;
    if (!this.nothingToClaim(this.saturated(), clock.now())) return undefined;
    this.started(job);
    return `${this.owner}/${++this.claimCount}`;
  }

  /** A reserved job's change committed. */
  private runReserved(job: ClaimedJob): void {
    countKind(this.startedJobs.whereMade, job.kind);
    this.runCounted(job);
  }

  /** Jobs started per kind since this engine was made, claimed from the table or run where they were made. */
  get jobsStarted(): { readonly claimed: ReadonlyMap<string, number>; readonly whereMade: ReadonlyMap<string, number> } {
    return this.startedJobs;
  }

  /**
   * Whether new jobs include one this engine could claim: a job whose key or tenant has all its
   * slots here waits for one of theirs to finish, and that finish wakes the engine anyway.
   * Measured (fan-out bench, a receiver answering in 50 ms): waking for each new webhook of a
   * saturated receiver made a claim that read its whole backlog and took nothing.
   */
  private couldClaimAny(added: JobsAdded): boolean {
    if (added.jobs === undefined) return true;
    return added.jobs.some(
      (job) => (this.options.lane === undefined || job.lane === this.options.lane) && !this.keyShare.atLimit(job.key) && !this.tenantShare.atLimit(job.tenant),
    );
  }

  /** Keeps this node to its part of the lane's per-key and per-tenant limits, `nodes` running the lane on one database (LaneShare.divideAmong). */
  shareAmong(nodes: number): void {
    this.keyShare.divideAmong(nodes);
    this.tenantShare.divideAmong(nodes);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops claiming and waits for the jobs in flight. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    while (this.inFlight > 0) await new Promise<void>((resolve) => this.idle.add(resolve));
  }

  /** There may be new work (jobs added, the clock moved, another node's notice): claim again. */
  wake(): void {
    this.drained = undefined;
    this.slotFreed();
  }

  /** One of this engine's jobs finished: its key's and tenant's slot is free, nothing else changed. */
  private slotFreed(): void {
    this.wakeRequested = true;
    const wake = this.wakeUp;
    this.wakeUp = undefined;
    wake?.();
  }

  /**
   * Resolves once no job is running and none is due on the scheduling clock. The virtual clock
   * waits for this between due times, so that events happen one instant at a time, in order.
   */
  async settle(): Promise<void> {
    while (this.running) {
      if (!this.busy) {
        const begun = this.begun;
        const next = await this.options.store.nextDueAt(this.laneFilter());
        // A claim or job begun while this was asked may have leased what it would have seen due.
        if (!this.busy && this.begun === begun && (next === undefined || next > this.options.clock.now())) return;
        this.wake();
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5);
        this.idle.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  get jobsInFlight(): number {
    return this.inFlight;
  }

  /** Running a job or claiming some (a job being claimed is leased, so no longer counts as due). */
  get busy(): boolean {
    return this.inFlight > 0 || this.claiming;
  }

  /** Changes whenever the engine begins a claim or a job; see `JobWorkers.settle`. */
  get activity(): number {
    return this.begun;
  }

  /** The lane this engine runs; undefined: every job. */
  get lane(): string | undefined {
    return this.options.lane;
  }

  private laneFilter(): { lanes?: readonly string[] } {
    return this.options.lane === undefined ? {} : { lanes: [this.options.lane] };
  }

  private async run(): Promise<void> {
    while (this.running) {
      // SQLite answers synchronously: without a turn of the event loop per round, a job that is
      // due again at once (a retry now) would starve HTTP and timers.
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.wakeRequested = false;
      const free = this.options.concurrency - this.inFlight;
      const dueBy = this.options.clock.now();
      const exclusion = this.saturated();
      if (free > 0 && !this.nothingToClaim(exclusion, dueBy)) {
        this.claiming = true;
        this.begun += 1;
        // A batch no larger than any key's or tenant's remaining share cannot push one past its limit.
        const limit = Math.min(free, this.keyShare.allowance(), this.tenantShare.allowance());
        const claimedAtWall = this.options.clock.wallNow();
        const jobs = await this.claim(limit, dueBy, exclusion);
        let claimed = 0;
        for (const job of jobs) {
          if (this.keyShare.atLimit(job.key) || this.tenantShare.atLimit(job.tenant)) {
            void this.release(job); // a safety net: the batch size above keeps this from happening
          } else {
            this.execute(job);
            claimed += 1;
          }
        }
        this.claiming = false;
        if (claimed === free) {
          await this.waitForSlot();
          continue;
        }
        // A full batch may have left more behind (it was cut to a share); a short one took all
        // it could.
        if (jobs.length === limit && !this.claimFailed) continue;
        if (!this.claimFailed && claimed === jobs.length) this.drained = await this.drainedUntil(exclusion, dueBy, claimedAtWall);
      }
      if (this.wakeRequested) continue;
      await this.sleep(this.sleepMs(free > 0));
    }
  }

  /**
   * Whether a claim now would find nothing, by what the last short claim proved: nothing outside
   * its exclusions was left due then, and nothing comes due before `until`. With more keys or
   * tenants excluded now than then, a claim cannot find more. New jobs and clock moves clear it
   * (wake); a finished job does not, since it frees only its own key and tenant, and those, if
   * excluded then, are no longer excluded now. Measured (timers benchmark): a provider or
   * receiver with all its slots has a backlog of due jobs, and every claim read through all of
   * it to take one job; at 370 000 stored dispatches accepting fell from 900/s to 150/s.
   */
  private nothingToClaim(exclusion: Exclusion, now: number): boolean {
    const drained = this.drained;
    if (drained === undefined) return false;
    if (now >= drained.until || this.options.clock.wallNow() >= drained.wallUntil) {
      this.drained = undefined;
      return false;
    }
    return drained.excludeKeys.every((key) => exclusion.excludeKeys.includes(key)) && drained.excludeTenants.every((tenant) => exclusion.excludeTenants.includes(tenant));
  }

  /**
   * After a short claim: when the next job outside its exclusions comes due (after the claim's
   * instant, so the due backlog of excluded keys is not read again), capped at a poll interval
   * of wall time from the claim so that a lease that runs out unannounced is found.
   */
  private async drainedUntil(exclusion: Exclusion, claimedUpTo: number, claimedAtWall: number): Promise<Drained | undefined> {
    const next = await this.options.store.nextDueAt({ ...this.laneFilter(), ...exclusion, dueAfter: claimedUpTo }).catch(() => undefined);
    // Jobs added while this was asked woke the engine: what it proved may be out of date.
    if (this.wakeRequested) return undefined;
    return { ...exclusion, until: next ?? Infinity, wallUntil: claimedAtWall + this.options.pollIntervalMs };
  }

  private async claim(limit: number, dueBy: number, exclusion: Exclusion): Promise<ClaimedJob[]> {
    this.claimFailed = false;
    try {
      return await this.options.store.claimJobs({
        // A fresh token per claim: if a handler outlives its lease and this same node claims the
        // job again, the first run's completion no longer matches and is discarded.
        owner: `${this.owner}/${++this.claimCount}`,
        dueBy,
        leaseMs: this.options.leaseMs,
        limit,
        ...this.laneFilter(),
        ...exclusion,
      });
    } catch (error) {
      this.options.log.error({ err: error }, 'claiming jobs failed');
      this.claimFailed = true;
      return [];
    }
  }

  /** Until the next job it could take comes due, at most a poll interval; after a failed claim, a poll interval rather than a spin. */
  private sleepMs(canClaim: boolean): number {
    const { pollIntervalMs } = this.options;
    if (!canClaim || this.claimFailed || this.drained === undefined || this.drained.until === Infinity) return pollIntervalMs;
    return Math.min(pollIntervalMs, this.options.clock.realDelayUntil(this.drained.until));
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || !this.running || this.wakeRequested) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake(), ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private waitForSlot(): Promise<void> {
    if (this.wakeRequested || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      this.wakeUp = resolve;
    });
  }

  private saturated(): Exclusion {
    return { excludeKeys: this.keyShare.saturated(), excludeTenants: this.tenantShare.saturated() };
  }

  /** A job claimed in the same batch as others of its key beyond the limit goes back untouched: the claim is not an attempt. */
  private async release(job: ClaimedJob): Promise<void> {
    await this.options.store
      .commit({ release: job.lease })
      .catch((error) => this.options.log.error({ err: error, job: job.id }, 'releasing a job failed; its lease will expire'));
  }

  private execute(job: ClaimedJob): void {
    countKind(this.startedJobs.claimed, job.kind);
    this.started(job);
    this.runCounted(job);
  }

  /** Runs a job whose slot `started` has counted. */
  private runCounted(job: ClaimedJob): void {
    this.runHandler(job)
      .catch((error) => this.options.log.error({ err: error, job: job.id, kind: job.kind }, 'job bookkeeping failed'))
      .finally(() => this.finished(job));
  }

  private started(job: Pick<ClaimedJob, 'key' | 'tenant'>): void {
    this.inFlight += 1;
    this.begun += 1;
    this.keyShare.started(job.key);
    this.tenantShare.started(job.tenant);
  }

  private finished(job: Pick<ClaimedJob, 'key' | 'tenant'>): void {
    this.inFlight -= 1;
    this.keyShare.finished(job.key);
    this.tenantShare.finished(job.tenant);
    for (const resolve of this.idle) resolve();
    this.idle.clear();
    this.slotFreed();
  }

  private async runHandler(job: ClaimedJob): Promise<void> {
    const { store, clock, log } = this.options;
    const handler = this.options.handlers[job.kind];
    let outcome: JobOutcome;
    if (!handler) {
      outcome = { retryAt: clock.now() + 60_000, error: `no handler for job kind ${job.kind}` };
    } else {
      try {
        outcome = await handler(job);
      } catch (error) {
        // An unexpected failure is retried with backoff; the job is never dropped.
        outcome = { retryAt: clock.now() + failureBackoffMs(job.attempts), error: String((error as Error)?.stack ?? error) };
      }
    }
    try {
      if ('record' in outcome) {
        for (let attempt = 1; attempt <= RECORD_ATTEMPTS; attempt += 1) {
          if ((await store.commit({ ...(await outcome.record(attempt > 1)), complete: job.lease })) === 'committed') return;
        }
        log.warn({ job: job.id, kind: job.kind }, `recording the outcome conflicted ${RECORD_ATTEMPTS} times (or the lease was lost); the job will run again`);
      } else {
        const change: ChangeSet =
          'done' in outcome
            ? { ...outcome.done, complete: job.lease }
            : { ...outcome.change, reschedule: { lease: job.lease, dueAt: outcome.retryAt, error: outcome.error } };
        if ('error' in outcome) log[outcome.quiet ? 'debug' : 'info']({ job: job.id, kind: job.kind, attempts: job.attempts, error: outcome.error.slice(0, 500) }, 'job will be retried');
        if ((await store.commit(change)) === 'committed') return;
      }
    } catch (error) {
      // `record` threw, or the store refused the change set (not a conflict): retry with backoff
      // like a failed handler, rather than leave the job leased until its lease runs out.
      const message = String((error as Error)?.stack ?? error);
      log.warn({ job: job.id, kind: job.kind, attempts: job.attempts, error: message.slice(0, 500) }, 'job outcome failed; will be retried');
      await store.commit({ reschedule: { lease: job.lease, dueAt: clock.now() + failureBackoffMs(job.attempts), error: message } });
      return;
    }
    // The state the handler read has changed under it (a receipt raced it), or the lease is
    // gone. Put the job back to run again on fresh state; if the lease is gone this is a no-op.
    log.debug({ job: job.id, kind: job.kind }, 'job outcome discarded: state changed or lease lost');
    await store.commit({ reschedule: { lease: job.lease, dueAt: clock.now() + conflictBackoffMs(job.attempts), error: 'conflict' } });
  }
}

function countKind(counts: Map<string, number>, kind: string): void {
  counts.set(kind, (counts.get(kind) ?? 0) + 1);
}

/**
 * Before running again after a conflict: at once the first times (a racing receipt is the usual
 * cause, and it has committed by now), then growing, so a conflict that keeps recurring cannot
 * spin: 0, 0, 0, 10 ms, 20 ms … up to 1 s.
 */
export function conflictBackoffMs(attempts: number): number {
  return attempts <= 3 ? 0 : Math.min(1000, 10 * 2 ** (attempts - 4));
}

/** Recomputing a recorded outcome more often than this means something keeps racing it. */
const RECORD_ATTEMPTS = 5;

/** 1 s, 2 s, 4 s … after the 1st, 2nd, 3rd … attempt, capped at `capMs`. */
export function exponentialBackoffMs(attempts: number, capMs: number): number {
  return Math.min(capMs, 1000 * 2 ** Math.max(0, attempts - 1));
}

/** Backoff for handler crashes (not for planned retries): capped at 5 min. */
export const failureBackoffMs = (attempts: number): number => exponentialBackoffMs(attempts, 300_000);
