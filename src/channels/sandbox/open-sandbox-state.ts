import type Database from 'better-sqlite3';
import type pg from 'pg';
import type { SandboxState } from './sandbox-state.js';
import { PostgresSandboxState } from './postgres-sandbox-state.js';
import { SqliteSandboxState, type BatchedWrite } from './sqlite-sandbox-state.js';

/** The sandbox's state in the server's database: on the SQLite connection (and group commit) or the PostgreSQL pool it lends. */
export async function openSandboxState(
  database: { sqlite?: { db: Database.Database; write: BatchedWrite }; postgres?: { pool: pg.Pool } },
  now: number,
): Promise<SandboxState> {
  if (database.sqlite) return new SqliteSandboxState({ ...database.sqlite, now });
  if (database.postgres) return PostgresSandboxState.open(database.postgres.pool, now);
  throw new Error('the database lends neither a SQLite connection nor a PostgreSQL pool');
}
