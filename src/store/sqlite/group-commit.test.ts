import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { GroupCommit } from './group-commit.js';

function table() {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  return { db, rows: () => (db.prepare('SELECT id, v FROM t ORDER BY id').all() as Array<{ id: number; v: string }>).map(({ id, v }) => `${id}:${v}`) };
}

test('writes of one turn share a transaction; one that throws undoes only itself', async () => {
  const { db, rows } = table();
  const writes = new GroupCommit(db);
  const insert = db.prepare('INSERT INTO t (id, v) VALUES (?, ?)');
  const outcomes = await Promise.allSettled([
    writes.write(() => insert.run(1, 'a').changes),
    // Several statements: the second fails, so the first of them is undone with it (savepoint).
    writes.write(() => {
      insert.run(2, 'b');
      insert.run(1, 'duplicate');
    }),
    // One statement that fails undoes itself alone, without a savepoint.
    writes.writeStatement(() => insert.run(1, 'again')),
    writes.writeStatement(() => insert.run(3, 'c').changes),
  ]);
  assert.deepEqual(outcomes.map((outcome) => outcome.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled']);
  assert.equal((outcomes[0] as PromiseFulfilledResult<number>).value, 1);
  assert.deepEqual(rows(), ['1:a', '3:c']);
  db.close();
});

test('flush commits what is queued at once (before the connection closes)', async () => {
  const { db, rows } = table();
  const writes = new GroupCommit(db);
  const written = writes.writeStatement(() => db.prepare("INSERT INTO t (id, v) VALUES (7, 'x')").run());
  writes.flush();
  assert.deepEqual(rows(), ['7:x']);
  await written;
  db.close();
});
