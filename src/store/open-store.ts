import type Database from 'better-sqlite3';
import type { WallClock } from '../core/clock.js';
import { OpenDispatchError } from '../core/errors.js';
import type { Store } from './store.js';
import { openSqliteDatabase } from './sqlite/sqlite-database.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

/** Where the data lives, as the configuration compiles `--database`. */
export type StoreLocation = { kind: 'sqlite'; path: string; synchronous: 'NORMAL' | 'FULL' } | { kind: 'postgres'; url: string };

export interface OpenedStore {
  store: Store;
  /** The SQLite connection, lent to modules that keep tables of their own in the same file (the sandbox). */
  sqlite?: Database.Database;
}

export async function openStore(location: StoreLocation, clock: WallClock): Promise<OpenedStore> {
  switch (location.kind) {
    case 'sqlite': {
      const sqlite = openSqliteDatabase(location);
      return { store: new SqliteStore({ db: sqlite, clock }), sqlite };
    }
    case 'postgres':
      throw new OpenDispatchError('OD_DATABASE_UNSUPPORTED', 'database postgres:// is not supported yet (it comes with the scale-out work); use sqlite:PATH');
  }
}
