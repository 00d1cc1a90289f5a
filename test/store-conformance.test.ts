import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
