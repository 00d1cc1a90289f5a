import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export interface SqliteFile {
  path: string;
  synchronous: 'NORMAL' | 'FULL';
}

/**
 * Opens the server's SQLite file, configured once for every module that keeps tables in it (the
 * store, the sandbox): they share this one connection, since a second connection's every commit
 * invalidates the first one's page cache (measured: accept throughput halved).
 * WAL with synchronous=NORMAL survives a process crash (SIGKILL); FULL also survives power loss.
 */
export function openSqliteDatabase(file: SqliteFile): Database.Database {
  if (file.path !== ':memory:') mkdirSync(dirname(file.path), { recursive: true });
  const db = new Database(file.path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${file.synchronous}`);
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  // A 64 MiB page cache keeps the hot index pages of jobs and messages in memory. (A larger WAL
  // between checkpoints raised throughput but made each checkpoint a long pause: accept p99 went
  // from 46 to 68 ms in npm run bench.) No memory-mapped reads: a 256 MiB map bought nothing
  // measurable (end to end 489, 459 → 487, 454/s without it; accept (b) 5 828, 6 323 → 6 248,
  // 6 520/s, alternated) and its pages counted in the server's RSS: 530, 520 → 279, 296 MB with
  // 20 000 dispatches waiting (docs/performance.md).
  db.pragma('cache_size = -65536');
  db.pragma('temp_store = MEMORY');
  return db;
}
