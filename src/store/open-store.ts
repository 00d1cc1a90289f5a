import type Database from 'better-sqlite3';
import type { WallClock } from '../core/clock.js';
import { OpenDispatchError } from '../core/errors.js';
import type { Store } from './store.js';
import { openSqliteDatabase } from './sqlite/sqlite-database.js';
import { GroupCommit } from './sqlite/group-commit.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

/** Where the data lives, as the configuration compiles `--database`. */
export type StoreLocation = { kind: 'sqlite'; path: string; synchronous: 'NORMAL' | 'FULL' } | { kind: 'postgres'; url: string };

export interface OpenedStore {
  store: Store;
  /** The SQLite connection and its group commit (for single-statement writes), lent to modules that keep tables of their own in the same file (the sandbox). */
  sqlite?: { db: Database.Database; write: <T>(apply: () => T) => Promise<T> };
}

export async function openStore(location: StoreLocation, clock: WallClock): Promise<OpenedStore> {
  switch (location.kind) {
    case 'sqlite': {
      const db = openSqliteDatabase(location);
      // One group commit for every writer on the connection: their writes of a turn share one transaction.
      const writes = new GroupCommit(db);
      return { store: new SqliteStore({ db, clock, writes }), sqlite: { db, write: (apply) => writes.writeStatement(apply) } };
    }
    case 'postgres':
      throw new OpenDispatchError('OD_DATABASE_UNSUPPORTED', 'database postgres:// is not supported yet (it comes with the scale-out work); use sqlite:PATH');
  }
}
