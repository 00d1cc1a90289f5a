import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PostgresSandboxState } from '../src/channels/sandbox/postgres-sandbox-state.js';
import { SqliteSandboxState } from '../src/channels/sandbox/sqlite-sandbox-state.js';
import { createPostgresPool } from '../src/store/postgres/postgres-pool.js';
import { createTestSchema } from './support/postgres-schema.js';
import { runSandboxStateConformance } from './support/sandbox-state-conformance.js';

runSandboxStateConformance('sqlite', async (now) => {
  const dir = await mkdtemp(join(tmpdir(), 'opendispatch-sandbox-'));
  const db = new Database(join(dir, 'sandbox.db'));
  // Each write applied at once, in a transaction of its own (the server lends its group commit instead).
  const state = new SqliteSandboxState({ db, now, write: async (apply) => db.transaction(apply)() });
  return {
    state,
    async close() {
      await state.close();
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

runSandboxStateConformance('postgres', async (now) => {
  const schema = await createTestSchema();
  const pool = createPostgresPool({ url: schema.url }, () => undefined);
  const state = await PostgresSandboxState.open(pool, now);
  return {
    state,
    async close() {
      await state.close();
      await pool.end();
      await schema.drop();
    },
  };
});
