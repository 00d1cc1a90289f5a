/** The most starts the window remembers (below). */
const MAX_WINDOW_SENDS = 1000;
/** Timers and the wall clock tick in milliseconds: two starts may come this much closer than 1/rate. */
const CLOCK_RESOLUTION_MS = 1;

/**
 * A provider's `rate_per_second` (DESIGN §3): sends start at least 1/rate apart, so no second
 * ever holds more than the rate. A send that would come too soon waits for its slot; it is
 * never refused. Pure: the caller passes the time and does the waiting.
 *
 * Two steps, because timers are late on a loaded machine: `reserve` spaces the waiters out
 * (one timer each, no herd waking together), and `admit`, asked when the wait is over, holds a
 * send until 1/rate after the last start and until the window has room. Without the window a
 * send 150 ms late and the on-time ones after it put 21 submits in one second at a rate of 20;
 * without the spacing a late send and the on-time one after it went out together (both seen
 * under CI load).
 */
export class SendPace {
  private nextSlot = -Infinity;
  private lastStart = -Infinity;
  private readonly intervalMs: number;
  /** 1/rate less the clock's tick; below a tick (above 1 000 a second) the window alone paces. */
  private readonly minGapMs: number;
  /**
   * At most this many sends start in any `windowMs`: the rate, counted over at least one second,
   * or over a shorter window for rates above MAX_WINDOW_SENDS a second, so the ring stays small
   * (a rate of a million would otherwise keep a million starts).
   */
  private readonly perWindow: number;
  private readonly windowMs: number;
  /** The starts of the last `perWindow` sends, a ring: `starts[oldest]` is the earliest. */
  private readonly starts: number[] = [];
  private oldest = 0;

  constructor(ratePerSecond: number) {
    this.intervalMs = 1000 / ratePerSecond;
    this.minGapMs = this.intervalMs - CLOCK_RESOLUTION_MS;
    this.perWindow = Math.max(1, Math.min(MAX_WINDOW_SENDS, Math.floor(ratePerSecond)));
    this.windowMs = this.perWindow * this.intervalMs;
  }

  /** Takes the next slot: how long (ms) a send that is ready at `now` waits before it starts. */
  reserve(now: number): number {
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + this.intervalMs;
    return slot - now;
  }

  /** Asked at the end of the reserved wait: 0, and the send starts now (and is counted); else how long (ms) it waits before asking again. */
  admit(now: number): number {
    const tooSoon = this.lastStart + this.minGapMs - now;
    const windowFull = this.starts.length < this.perWindow ? 0 : this.starts[this.oldest]! + this.windowMs - now;
    const wait = Math.max(tooSoon, windowFull);
    if (wait > 0) return wait;
    if (this.starts.length < this.perWindow) {
      this.starts.push(now);
    } else {
      this.starts[this.oldest] = now;
      this.oldest = (this.oldest + 1) % this.perWindow;
    }
    this.lastStart = now;
    return 0;
  }
}

/**
 * Sends in flight to a paced provider wait their turn in a slot of the sends lane; more of them
 * in flight would only wait longer, past the send's deadline. So a provider takes at most this
 * many seconds' worth of its rate at once.
 */
export const MAX_PACED_WAIT_SECONDS = 10;

export function pacedConcurrency(ratePerSecond: number, concurrency: number): number {
  return Math.max(1, Math.min(concurrency, Math.floor(ratePerSecond * MAX_PACED_WAIT_SECONDS)));
}
