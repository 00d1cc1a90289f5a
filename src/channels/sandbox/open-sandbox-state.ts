import type Database from 'better-sqlite3';
import { OpenDispatchError } from '../../core/errors.js';
import type { SandboxState } from './sandbox-state.js';
import { SqliteSandboxState, type BatchedWrite } from './sqlite-sandbox-state.js';

/** The sandbox's state in the server's database: in its SQLite file, on the connection (and group commit) it lends. */
export function openSandboxState(database: { sqlite?: { db: Database.Database; write: BatchedWrite } }, now: number): SandboxState {
  if (database.sqlite) return new SqliteSandboxState({ ...database.sqlite, now });
  throw new OpenDispatchError('OD_DATABASE_UNSUPPORTED', 'the sandbox keeps its state in SQLite only, until its PostgreSQL state exists');
}
