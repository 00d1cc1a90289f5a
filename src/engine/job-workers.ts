import type { Store } from '../store/store.js';
import type { Clock } from './clock.js';
import type { JobEngine } from './job-engine.js';

/**
 * Several job engines over one job table, each running its own kinds with its own concurrency:
 * webhook POSTs to a receiver that hangs for its whole timeout fill only the webhook lane, while
 * sends, receipts and failover timers keep their slots.
 */
export class JobWorkers {
  constructor(
    private readonly engines: readonly JobEngine[],
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  start(): void {
    for (const engine of this.engines) engine.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.engines.map((engine) => engine.stop()));
  }

  wake(): void {
    for (const engine of this.engines) engine.wake();
  }

  get jobsInFlight(): number {
    return this.engines.reduce((sum, engine) => sum + engine.jobsInFlight, 0);
  }

  /** Resolves once no lane runs a job and no job of any kind is due (what one lane did may feed another). */
  async settle(): Promise<void> {
    for (;;) {
      await Promise.all(this.engines.map((engine) => engine.settle()));
      const next = await this.store.nextDueAt(Date.now());
      if (this.jobsInFlight === 0 && (next === undefined || next > this.clock.now())) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}
