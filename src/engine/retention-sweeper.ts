import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { Store } from '../store/store.js';

export interface RetentionOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  /** How long finished records are kept (config retention.days). */
  keepMs: number;
  /** Between sweeps; each node sweeps on its own, at a random offset so nodes do not sweep in step. */
  intervalMs?: number;
  /** Records of each kind per transaction: small, so a sweep never holds locks or the writer for long. */
  batch?: number;
}

/**
 * Deletes finished dispatches, messages and webhooks once they are older than the retention
 * time (Store.deleteFinished), in small batches with a turn of the event loop between them, so
 * requests and jobs keep flowing while a large backlog goes. Every node runs one; the store
 * makes sweeps side by side safe.
 */
export class RetentionSweeper {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | undefined;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly batch: number;

  constructor(private readonly options: RetentionOptions) {
    this.intervalMs = options.intervalMs ?? 60_000;
    this.batch = options.batch ?? 500;
  }

  start(jitter: () => number = Math.random): void {
    this.schedule(this.intervalMs * jitter());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.sweeping;
  }

  /** One sweep to the end of what is due; how many records of the most numerous kind went. */
  async sweep(): Promise<number> {
    const { store, clock, keepMs } = this.options;
    let deleted = 0;
    while (!this.stopped) {
      const batch = await store.deleteFinished(clock.now() - keepMs, this.batch);
      deleted += batch;
      if (batch < this.batch) break;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (deleted > 0) this.options.log.info({ deleted }, 'retention: deleted finished records');
    return deleted;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.sweeping = this.sweep()
        .catch((error: unknown) => this.options.log.warn({ err: error }, 'retention sweep failed; the next one tries again'))
        .finally(() => this.schedule(this.intervalMs));
    }, delayMs);
    this.timer.unref();
  }
}
