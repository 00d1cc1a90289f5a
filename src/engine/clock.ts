import type { Clock } from '../core/clock.js';

/**
 * The implementations of the `Clock` port (src/core/clock.ts). This is the only module that
 * reads the system time; everything else is handed a clock (the architecture test checks it).
 */

const systemTime = (): number => Date.now();

export class RealClock implements Clock {
  readonly kind = 'real';
  now(): number {
    return systemTime();
  }
  wallNow(): number {
    return systemTime();
  }
  realDelayUntil(dueAt: number): number {
    return Math.max(0, dueAt - systemTime());
  }
}

/** For code outside the server (CLI commands, scripts) that needs the time once. */
export const systemClock: Clock = new RealClock();

/**
 * Scheduling time that stands still until it is advanced (`POST /sandbox/clock/advance`), so
 * tests and benchmarks drive a 600 s expiry in milliseconds. Wall time stays real unless a test
 * hands in its own, so that leases can be expired without sleeping.
 */
export class VirtualClock implements Clock {
  readonly kind = 'virtual';
  private current: number;
  private readonly listeners = new Set<() => void>();

  constructor(
    startMs: number = systemTime(),
    private readonly wall: () => number = systemTime,
  ) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  wallNow(): number {
    return this.wall();
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
