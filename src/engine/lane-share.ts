/**
 * Counts a lane's jobs in flight per value of one of their fields (a receiver's origin, a
 * provider, an account) against a limit, so that no one value holds more than its share of the
 * lane's slots. The engine excludes saturated values from its claims and sizes each claim batch
 * to the smallest remaining share, so one batch cannot push a value past its limit.
 */
export class LaneShare {
  private readonly inFlight = new Map<string, number>();

  /** `max` undefined: no limit. */
  constructor(private readonly max: number | undefined) {}

  /** The values at their limit: left out of claims until a job of theirs finishes. */
  saturated(): string[] {
    const max = this.max;
    if (max === undefined) return [];
    return [...this.inFlight].filter(([, count]) => count >= max).map(([value]) => value);
  }

  /** The smallest remaining share among values not at their limit. */
  allowance(): number {
    if (this.max === undefined) return Infinity;
    let busiest = 0;
    for (const count of this.inFlight.values()) if (count < this.max) busiest = Math.max(busiest, count);
    return this.max - busiest;
  }

  atLimit(value: string | undefined): boolean {
    return this.max !== undefined && value !== undefined && (this.inFlight.get(value) ?? 0) >= this.max;
  }

  started(value: string | undefined): void {
    if (value !== undefined) this.inFlight.set(value, (this.inFlight.get(value) ?? 0) + 1);
  }

  finished(value: string | undefined): void {
    if (value === undefined) return;
    const left = (this.inFlight.get(value) ?? 1) - 1;
    if (left > 0) this.inFlight.set(value, left);
    else this.inFlight.delete(value);
  }
}
