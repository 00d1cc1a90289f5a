/**
 * Counts a lane's jobs in flight per value of one of their fields (a receiver's origin, a
 * provider, an account) against a limit, so that no one value holds more than its share of the
 * lane's slots. The engine excludes saturated values from its claims and sizes each claim batch
 * to the smallest remaining share, so one batch cannot push a value past its limit.
 */
export class LaneShare {
  private readonly inFlight = new Map<string, number>();
  /** No value's limit is below this: the most a claim batch may bring of a value not yet in flight. */
  private smallestLimit = Infinity;
  /** The nodes the limits are shared among (divideAmong). */
  private nodes = 1;

  /**
   * `max` undefined: no limit. `limits`: values with a lower limit of their own (a provider whose
   * `rate_per_second` makes more sends in flight only wait longer).
   */
  constructor(
    private readonly max: number | undefined,
    private readonly limits: ReadonlyMap<string, number> = new Map(),
  ) {
    this.divideAmong(1);
  }

  /**
   * Shares every limit among `nodes` nodes running this lane on one database: each node keeps to
   * its part (at least 1), so the nodes together keep to the limit while there are no more nodes
   * than the limit.
   */
  divideAmong(nodes: number): void {
    this.nodes = Math.max(1, Math.floor(nodes));
    this.smallestLimit = this.limitOf(undefined);
    for (const value of this.limits.keys()) this.smallestLimit = Math.min(this.smallestLimit, this.limitOf(value));
  }

  private limitOf(value: string | undefined): number {
    const limit = (value === undefined ? undefined : this.limits.get(value)) ?? this.max ?? Infinity;
    return limit === Infinity ? limit : Math.max(1, Math.floor(limit / this.nodes));
  }

  /** The values at their limit: left out of claims until a job of theirs finishes. */
  saturated(): string[] {
    return [...this.inFlight].filter(([value, count]) => count >= this.limitOf(value)).map(([value]) => value);
  }

  /** The smallest remaining share among values not at their limit (a value not in flight has its whole limit). */
  allowance(): number {
    let allowance = this.smallestLimit;
    for (const [value, count] of this.inFlight) {
      const limit = this.limitOf(value);
      if (count < limit) allowance = Math.min(allowance, limit - count);
    }
    return allowance;
  }

  atLimit(value: string | undefined): boolean {
    return value !== undefined && (this.inFlight.get(value) ?? 0) >= this.limitOf(value);
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
