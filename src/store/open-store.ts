import type Database from 'better-sqlite3';
import type pg from 'pg';
import type { WallClock } from '../core/clock.js';
import type { Store } from './store.js';
import { createPostgresPool } from './postgres/postgres-pool.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { openSqliteDatabase } from './sqlite/sqlite-database.js';
import { GroupCommit } from './sqlite/group-commit.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

/** Where the data lives, as the configuration compiles `--database`. */
export type StoreLocation = { kind: 'sqlite'; path: string; synchronous: 'NORMAL' | 'FULL' } | { kind: 'postgres'; url: string; poolSize?: number };

export interface OpenedStore {
  store: Store;
  /** The SQLite connection and its group commit (for single-statement writes), lent to modules that keep tables of their own in the same file (the sandbox). */
  sqlite?: { db: Database.Database; write: <T>(apply: () => T) => Promise<T> };
  /** The PostgreSQL pool, lent likewise; the store ends it when it closes. */
  postgres?: { pool: pg.Pool };
}

export interface OpenOptions {
  /** A server's store listens for other nodes' new jobs (PostgreSQL); a CLI command's does not. */
  listen?: boolean;
  /** Where a broken idle connection is reported (it is replaced on the next query). */
  onConnectionError?: (error: Error) => void;
  /** Where a failed background checkpoint of a SQLite server is reported (its connection then checkpoints by itself). */
  onBackgroundError?: (error: Error) => void;
}

export async function openStore(location: StoreLocation, clock: WallClock, options: OpenOptions = {}): Promise<OpenedStore> {
  switch (location.kind) {
    case 'sqlite': {
      const db = openSqliteDatabase(location);
      // One group commit for every writer on the connection: their writes of a turn share one transaction.
      const writes = new GroupCommit(db);
      return { store: new SqliteStore({ db, clock, writes, onBackgroundError: options.onBackgroundError }), sqlite: { db, write: (apply) => writes.writeStatement(apply) } };
    }
    case 'postgres': {
      const pool = createPostgresPool({ url: location.url, max: location.poolSize }, options.onConnectionError ?? (() => undefined));
      try {
        return { store: await PostgresStore.open({ pool, clock, listen: options.listen }), postgres: { pool } };
      } catch (error) {
        await pool.end();
        throw error;
      }
    }
  }
}
