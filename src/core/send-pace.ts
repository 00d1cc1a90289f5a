/**
 * A provider's `rate_per_second` (DESIGN §3): sends start at least 1/rate apart, so no second
 * ever holds more than the rate. A send that would come too soon waits for its slot; it is
 * never refused. Pure: the caller passes the time and does the waiting.
 */
export class SendPace {
  private nextSlot = -Infinity;
  private readonly intervalMs: number;

  constructor(ratePerSecond: number) {
    this.intervalMs = 1000 / ratePerSecond;
  }

  /** Takes the next slot: how long (ms) a send that is ready at `now` waits before it starts. */
  reserve(now: number): number {
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + this.intervalMs;
    return slot - now;
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
