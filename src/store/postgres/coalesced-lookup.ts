/**
 * Lookups by key asked in one turn of the event loop, sent to the database as one query once
 * the turn's callbacks have run. Every lookup is answered by a query sent after it was asked, so
 * none sees older state than a query of its own would; concurrent requests for the same
 * application (each JWT request reads it, to honour a key rotated or an application deleted a
 * moment ago) share one round trip instead of making one each.
 */
export class CoalescedLookup<Row> {
  private waiting: Map<string, Array<{ resolve: (row: Row | undefined) => void; reject: (error: unknown) => void }>> | undefined;

  /** `fetch` answers the rows found among `keys` (at most `maxKeys` of them), by key. */
  constructor(
    private readonly fetch: (keys: string[]) => Promise<ReadonlyMap<string, Row>>,
    private readonly maxKeys = 500,
  ) {}

  get(key: string): Promise<Row | undefined> {
    if (this.waiting === undefined) {
      this.waiting = new Map();
      setImmediate(() => this.send());
    }
    const waiting = this.waiting;
    return new Promise((resolve, reject) => {
      const forKey = waiting.get(key);
      if (forKey) forKey.push({ resolve, reject });
      else waiting.set(key, [{ resolve, reject }]);
    });
  }

  private send(): void {
    const batch = [...this.waiting!];
    this.waiting = undefined;
    for (let start = 0; start < batch.length; start += this.maxKeys) {
      const part = batch.slice(start, start + this.maxKeys);
      this.fetch(part.map(([key]) => key)).then(
        (found) => {
          for (const [key, waiters] of part) for (const { resolve } of waiters) resolve(found.get(key));
        },
        (error) => {
          for (const [, waiters] of part) for (const { reject } of waiters) reject(error);
        },
      );
    }
  }
}
