import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RealClock } from '../src/engine/clock.js';
import { openSqliteDatabase } from '../src/store/sqlite/sqlite-database.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { runStoreConformance } from './support/store-conformance.js';

// A temp-file database (not `:memory:`), so WAL mode and the file path handling are exercised.
runStoreConformance('sqlite', async (clock) => {
  const dir = await mkdtemp(join(tmpdir(), 'opendispatch-store-'));
  const store = new SqliteStore({ db: openSqliteDatabase({ path: join(dir, 'nested', 'store.db'), synchronous: 'NORMAL' }), clock });
  return {
    store,
    async close() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

test('sqlite: one server per file; a second can start once the first has closed (or died)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'opendispatch-lock-'));
  const open = () => new SqliteStore({ db: openSqliteDatabase({ path: join(dir, 'shared.db'), synchronous: 'NORMAL' }), clock: new RealClock() });
  try {
    const first = open();
    await first.recoverAtStart();
    const second = open();
    await assert.rejects(second.recoverAtStart(), { code: 'OD_DATABASE_IN_USE' });
    assert.equal(await second.countJobs(), 0, 'a CLI-style use of the same file still works');
    await first.close();
    await second.recoverAtStart();
    await second.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
