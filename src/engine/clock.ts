/**
 * The time source for everything that is scheduled: job due times, expiry timers, webhook
 * retries, sandbox receipts. Leases and JWT checks use wall-clock time instead, because a
 * virtual clock jumping ahead must not expire the lease of a job that is still running.
 */
export interface Clock {
  readonly kind: 'real' | 'virtual';
  now(): number;
  /** How long to sleep, in real ms, until `dueAt` on this clock (Infinity: only an advance gets there). */
  realDelayUntil(dueAt: number): number;
}

export class RealClock implements Clock {
  readonly kind = 'real';
  now(): number {
    return Date.now();
  }
  realDelayUntil(dueAt: number): number {
    return Math.max(0, dueAt - Date.now());
  }
}

/**
 * Time that stands still until it is advanced (`POST /sandbox/clock/advance`), so tests and
 * benchmarks drive a 600 s expiry in milliseconds and every run is deterministic.
 */
export class VirtualClock implements Clock {
  readonly kind = 'virtual';
  private current: number;
  private readonly listeners = new Set<() => void>();

  constructor(startMs: number = Date.now()) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  realDelayUntil(dueAt: number): number {
    return dueAt <= this.current ? 0 : Infinity;
  }

  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('advance needs a finite, non-negative number of ms');
    return this.advanceTo(this.current + ms);
  }

  /** Moves time forward to `ms` (never back). */
  advanceTo(ms: number): number {
    if (ms > this.current) {
      this.current = ms;
      for (const listener of this.listeners) listener();
    }
    return this.current;
  }

  onAdvance(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
