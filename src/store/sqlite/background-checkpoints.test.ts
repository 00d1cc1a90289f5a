import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BackgroundCheckpoints } from './background-checkpoints.js';
import { openSqliteDatabase } from './sqlite-database.js';

function database() {
  const dir = mkdtempSync(join(tmpdir(), 'od-checkpoints-'));
  const path = join(dir, 'opendispatch.db');
  const db = openSqliteDatabase({ path, synchronous: 'NORMAL' });
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  return { dir, path, db, cleanUp: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The rows in the database file itself, without its WAL: what checkpoints have copied there. */
function rowsInMainFile(dir: string, path: string): number {
  const copy = join(dir, `copy-${Math.random().toString(36).slice(2)}.db`);
  copyFileSync(path, copy);
  const db = new Database(copy);
  try {
    // Until the CREATE TABLE itself is copied, the file has no table.
    if (db.prepare("SELECT 1 FROM sqlite_master WHERE name = 't'").get() === undefined) return 0;
    return (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Polls `condition` (the thread's interval is wall time, not the injected clock) for up to 10 s. */
async function eventually(condition: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail('the condition did not hold within 10 s');
}

test('the thread copies committed pages into the database file while the server connection does not checkpoint', async () => {
  const { dir, path, db, cleanUp } = database();
  const failures: Error[] = [];
  const checkpoints = BackgroundCheckpoints.start(db, (error) => failures.push(error));
  try {
    // The server connection's own checkpoints wait for a WAL far longer than these writes.
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 4_000);
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < 200; i += 1) insert.run(`row ${i}`);
    })();
    await eventually(() => rowsInMainFile(dir, path) === 200);
  } finally {
    await checkpoints.stop();
    db.close();
    cleanUp();
  }
  assert.deepEqual(failures, []);
});

test('stopped, the thread is gone and the server connection checkpoints by itself again; closing it last removes the WAL', async () => {
  const { path, db, cleanUp } = database();
  const checkpoints = BackgroundCheckpoints.start(db, () => undefined);
  try {
    db.prepare('INSERT INTO t (v) VALUES (?)').run('one');
    await checkpoints.stop();
    await checkpoints.stop(); // twice is harmless
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1_000);
    db.close();
    assert.equal(existsSync(`${path}-wal`), false, 'the last connection to close checkpoints and deletes the WAL');
  } finally {
    if (db.open) db.close();
    cleanUp();
  }
});

test('a thread that cannot open the database reports it, and the server connection checkpoints by itself again', async () => {
  const { dir, path, db, cleanUp } = database();
  // The thread opens the file by its name, which now names nothing (the connection stays open).
  renameSync(path, join(dir, 'moved.db'));
  const failures: Error[] = [];
  const checkpoints = BackgroundCheckpoints.start(db, (error) => failures.push(error));
  try {
    await eventually(() => failures.length > 0 && db.pragma('wal_autocheckpoint', { simple: true }) === 1_000);
    await checkpoints.stop(); // resolves though the thread has ended by itself
  } finally {
    db.close();
    cleanUp();
  }
});
