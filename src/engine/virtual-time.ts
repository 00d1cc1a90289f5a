import type { VirtualClock } from './clock.js';
import type { JobWorkers } from './job-workers.js';

/**
 * Advancing the virtual clock as a discrete-event simulation: time jumps from one due time to
 * the next, and at each instant every job due then runs (and whatever it schedules for that
 * instant) before time moves on. So a receipt due at 1 s is decided before an expiry due at
 * 600 s, however far one advance goes, and every event carries its own instant.
 */
export class VirtualTime {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly clock: VirtualClock,
    private readonly engine: Pick<JobWorkers, 'settle' | 'nextDueAt'>,
  ) {}

  /** Advances by `ms`; concurrent calls run one after the other. Resolves with the new time. */
  advance(ms: number): Promise<number> {
    const run = this.queue.then(() => this.step(this.clock.now() + ms));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async step(target: number): Promise<number> {
    await this.engine.settle();
    for (;;) {
      const next = await this.engine.nextDueAt();
      if (next === undefined || next > target) break;
      this.clock.advanceTo(next);
      await this.engine.settle();
    }
    this.clock.advanceTo(target);
    await this.engine.settle();
    return this.clock.now();
  }
}
