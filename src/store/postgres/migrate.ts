import type pg from 'pg';
import { withConnection } from './postgres-pool.js';

export interface PostgresMigration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Applies the migrations not yet recorded in `table`, each in a transaction of its own. Several
 * nodes may start at once: they queue on an advisory lock (per schema and table), so each
 * migration runs once and a node starts only on a complete schema.
 */
export async function migratePostgres(pool: pg.Pool, table: string, migrations: readonly PostgresMigration[], now: number): Promise<void> {
  await withConnection(pool, async (client) => {
    await client.query('SELECT pg_advisory_lock(hashtext(current_schema() || $1))', [`.${table}`]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS ${table} (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`);
      const applied = new Set((await client.query<{ version: number }>(`SELECT version FROM ${table}`)).rows.map((row) => row.version));
      for (const migration of migrations) {
        if (applied.has(migration.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await client.query(`INSERT INTO ${table} (version, name, applied_at) VALUES ($1, $2, $3)`, [migration.version, migration.name, now]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext(current_schema() || $1))', [`.${table}`]);
    }
  });
}
