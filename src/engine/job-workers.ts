import type { Clock } from '../core/clock.js';
import type { Store } from '../store/store.js';
import type { JobEngine } from './job-engine.js';
import type { Lane } from './jobs/job-kinds.js';

/**
 * One job engine per lane over one job table, each running its lane's jobs with its own
 * concurrency: webhook POSTs to a receiver that hangs for its whole timeout fill only the webhook
 * lane, sends to a provider that hangs only (its share of) the sends lane, while failover timers
 * and receipts keep their slots.
 */
export class JobWorkers {
  constructor(
    private readonly lanes: Readonly<Record<Lane, JobEngine>>,
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  private get engines(): JobEngine[] {
    return Object.values(this.lanes);
  }

  start(): void {
    for (const engine of this.engines) engine.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.engines.map((engine) => engine.stop()));
  }

  wake(): void {
    for (const engine of this.engines) engine.wake();
  }

  /** Each lane keeps to its part of its shares (per receiver, provider, account) among `nodes` nodes. */
  shareAmong(nodes: number): void {
    for (const engine of this.engines) engine.shareAmong(nodes);
  }

  /** Jobs running now, in one lane or in all. */
  jobsInFlight(lane?: Lane): number {
    if (lane) return this.lanes[lane].jobsInFlight;
    return this.engines.reduce((sum, engine) => sum + engine.jobsInFlight, 0);
  }

  private activity(): number {
    return this.engines.reduce((sum, engine) => sum + engine.activity, 0);
  }

  /** Jobs started per kind, all lanes together: claimed from the table, or run where they were made. */
  jobsStarted(): { claimed: Record<string, number>; whereMade: Record<string, number> } {
    const total = { claimed: {} as Record<string, number>, whereMade: {} as Record<string, number> };
    for (const engine of this.engines) {
      for (const how of ['claimed', 'whereMade'] as const) {
        for (const [kind, count] of engine.jobsStarted[how]) total[how][kind] = (total[how][kind] ?? 0) + count;
      }
    }
    return total;
  }

  /**
   * The earliest due time of a job some lane runs. A job no lane takes (of a kind another version
   * wrote) is never claimed, so it must not count, or `settle` would wait for it forever.
   */
  nextDueAt(): Promise<number | undefined> {
    const lanes = this.engines.map((engine) => engine.lane);
    return this.store.nextDueAt(lanes.includes(undefined) ? {} : { lanes: lanes.filter((lane) => lane !== undefined) });
  }

  /** Resolves once no lane runs a job and no job any lane runs is due (what one lane did may feed another). */
  async settle(): Promise<void> {
    for (;;) {
      await Promise.all(this.engines.map((engine) => engine.settle()));
      const activity = this.activity();
      const next = await this.nextDueAt();
      // One lane's settle may have returned before another's jobs added work for it, which it
      // may be claiming now (a leased job is not due) or may have run while this was asked.
      const quiet = this.engines.every((engine) => !engine.busy) && this.activity() === activity;
      if (quiet && (next === undefined || next > this.clock.now())) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}
