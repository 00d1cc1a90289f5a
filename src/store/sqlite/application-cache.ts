import { LruMap } from '../../core/lru-map.js';
import type { ApplicationRecord } from '../../core/records.js';

/**
 * Applications read once, answered from memory until this process changes them. Every JWT
 * request reads its application, so that a rotated key or a deleted application takes effect at
 * once. On SQLite only the server changes applications (the CLI's commands for them go through
 * its API), so forgetting one where the store updates or deletes it keeps that promise. A miss is
 * not remembered: an application made later is found at once. Entries are frozen: callers share
 * them. Measured (`BENCH_SECONDS=6 node dist/bench/accept.js`, old and new alternated, two
 * rounds): dispatch with the engine stopped 5 703, 5 694 → 6 551, 6 376/s; with it 4 509,
 * 4 386 → 4 722, 4 552/s.
 */
export class ApplicationCache {
  /** `capacity`: applications kept at most; the least recently used goes first. */
  private readonly entries: LruMap<string, ApplicationRecord>;

  constructor(capacity = 10_000) {
    this.entries = new LruMap(capacity);
  }

  get(id: string): ApplicationRecord | undefined {
    return this.entries.get(id);
  }

  remember(application: ApplicationRecord): ApplicationRecord {
    const frozen = deepFreeze(application);
    this.entries.set(frozen.id, frozen);
    return frozen;
  }

  forget(id: string): void {
    this.entries.delete(id);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
