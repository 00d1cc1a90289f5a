import { LruMap } from '../../core/lru-map.js';
import type { AccountRecord } from '../../core/records.js';

export interface AccountLookup {
  /** The account with this api key; undefined when there is none. */
  find(apiKey: string): Promise<AccountRecord | undefined>;
}

export interface AccountCacheOptions {
  /** Accounts kept at most; the least recently used goes first. */
  capacity: number;
  /** How long a found account is answered from memory. */
  ttlMs: number;
}

/**
 * Accounts found recently, answered from memory. Every API request and every webhook looks up
 * its account, and OpenDispatch never changes one once made (account:create and the seed only
 * insert), so a read per request bought nothing: measured in npm run bench, the lookup was a
 * tenth of the accept path's time on SQLite (a read transaction each). An account changed or
 * removed by hand in the database is seen within `ttlMs`. A key that finds nothing is not
 * remembered: an account made while the server runs works at once.
 */
export class AccountCache implements AccountLookup {
  private readonly entries: LruMap<string, { account: AccountRecord; until: number }>;

  constructor(
    private readonly read: (apiKey: string) => Promise<AccountRecord | undefined>,
    private readonly nowMs: () => number,
    private readonly options: AccountCacheOptions = { capacity: 10_000, ttlMs: 60_000 },
  ) {
    this.entries = new LruMap(options.capacity);
  }

  async find(apiKey: string): Promise<AccountRecord | undefined> {
    const now = this.nowMs();
    const entry = this.entries.get(apiKey);
    if (entry && entry.until > now) return entry.account;
    const account = await this.read(apiKey);
    if (!account) {
      this.entries.delete(apiKey);
      return undefined;
    }
    this.entries.set(apiKey, { account, until: now + this.options.ttlMs });
    return account;
  }
}
