import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL server the tests use (CI and sessions run one on 127.0.0.1:5432). */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestSchema {
  /** A database URL whose connections use only this schema (search_path). */
  url: string;
  name: string;
  /** Every row of every table, as text. */
  text(): Promise<string>;
  drop(): Promise<void>;
}

/** A fresh, empty schema: tests share one server, never each other's tables. */
export async function createTestSchema(prefix = 'od_test'): Promise<TestSchema> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await withAdmin((client) => client.query(`CREATE SCHEMA ${name}`));
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${name}`);
  return {
    url: url.toString(),
    name,
    text: () =>
      withAdmin(async (client) => {
        const tables = await client.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [name]);
        const parts: string[] = [];
        for (const { table_name: table } of tables.rows) parts.push(...(await client.query(`SELECT t::text AS row FROM ${name}."${table}" t`)).rows.map((row) => row.row as string));
        return parts.join('\n');
      }),
    drop: () => withAdmin((client) => client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`)).then(() => undefined),
  };
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
