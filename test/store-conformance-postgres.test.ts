import { createPostgresPool } from '../src/store/postgres/postgres-pool.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { runStoreConformance } from './support/store-conformance.js';
import { createTestSchema } from './support/postgres-schema.js';

// The same suite as SQLite's, unchanged; leases on the suite's manual clock so it can expire them.
runStoreConformance('postgres', async (clock) => {
  const schema = await createTestSchema();
  const store = await PostgresStore.open({ pool: createPostgresPool({ url: schema.url }, () => undefined), clock, leaseClock: clock });
  return {
    store,
    async close() {
      await store.close();
      await schema.drop();
    },
  };
});
