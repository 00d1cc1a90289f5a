import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/config.js';
import { createAccount } from '../../src/engine/accounts/create-account.js';
import { VirtualClock } from '../../src/engine/clock.js';
import { startServer, type RunningServer, type ServerExtras } from '../../src/server.js';
import type { Store } from '../../src/store/store.js';
import { createTestSchema, type TestSchema } from './postgres-schema.js';

/**
 * Which database the suite's servers use: SQLite by default; `OPENDISPATCH_TEST_DATABASE=postgres`
 * runs the same tests on PostgreSQL (a fresh schema per server, on TEST_DATABASE_URL).
 */
export const TEST_DATABASE_KIND: 'sqlite' | 'postgres' = process.env.OPENDISPATCH_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';

/** A fresh database for one server: a SQLite file in `dataDir`, or a schema of its own on PostgreSQL. */
export async function freshDatabase(dataDir: string, kind = TEST_DATABASE_KIND): Promise<{ url: string; text(): Promise<string>; drop(): Promise<void> }> {
  if (kind === 'sqlite') {
    const file = join(dataDir, 'test.db');
    const text = async () => [file, `${file}-wal`, `${file}-journal`].filter((path) => existsSync(path)).map((path) => readFileSync(path).toString('latin1')).join('');
    return { url: `sqlite:${file}`, text, drop: async () => undefined };
  }
  const schema: TestSchema = await createTestSchema();
  return { url: schema.url, text: () => schema.text(), drop: () => schema.drop() };
}

export interface TestAccount {
  apiKey: string;
  apiSecret: string;
  signatureSecret: string;
  /** The full `Authorization` header value. */
  basicAuth: string;
}

export interface TestServer extends TestAccount {
  url: string;
  store: Store;
  server: RunningServer;
  dataDir: string;
  /** Present with `clock: 'virtual'`. */
  clock?: VirtualClock;
  createAccount(options?: { statusUrl?: string; inboundUrl?: string }): Promise<TestAccount>;
  /** Everything the database holds, as text: the SQLite files' bytes, or every row of the PostgreSQL schema. */
  databaseText(): Promise<string>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  clock?: 'real' | 'virtual';
  /** Extra config-file content (JSON object), e.g. pricing. */
  configFile?: Record<string, unknown>;
  statusUrl?: string;
  inboundUrl?: string;
  /** Listen on a free port found first and name it as `public_url`, for providers told per message where to report. */
  publicUrl?: boolean;
  /** Fake providers of a test, each serving the channels named. */
  providers?: ServerExtras['providers'];
  /** A database of the test's own (it creates and drops it) instead of a fresh one. */
  databaseUrl?: string;
}

/** A real server on a random port with a fresh database (TEST_DATABASE_KIND), silent logs, one account. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'opendispatch-test-'));
  const port = options.publicUrl ? await freePort() : 0;
  const configFile = options.publicUrl ? { ...options.configFile, public_url: `http://127.0.0.1:${port}` } : options.configFile;
  let configPath: string | undefined;
  if (configFile) {
    const { writeFileSync } = await import('node:fs');
    configPath = join(dataDir, 'config.json');
    writeFileSync(configPath, JSON.stringify(configFile));
  }
  const database = options.databaseUrl ? { url: options.databaseUrl, text: async () => '', drop: async () => undefined } : await freshDatabase(dataDir);
  const onPostgres = database.url.startsWith('postgres');
  // The configuration refuses a virtual clock on PostgreSQL (each node would keep its own): one
  // test server is one node, so there the test hands the clock in as an embedder may.
  const virtual = options.clock === 'virtual';
  const configClock = virtual && onPostgres ? 'real' : (options.clock ?? 'real');
  const config = loadConfig(
    { port, host: '127.0.0.1', database: database.url, clock: configClock, config: configPath },
    { OPENDISPATCH_API_KEY: 'seed0000', OPENDISPATCH_API_SECRET: 'seedsecret000000' },
  );
  const server = await startServer(config, {
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    providers: options.providers,
    ...(virtual && configClock === 'real' && { clock: new VirtualClock() }),
  });
  const makeAccount = async (urls: { statusUrl?: string; inboundUrl?: string } = {}): Promise<TestAccount> => {
    const created = await createAccount(server.store, urls, Date.now());
    return { ...created, basicAuth: basic(created.apiKey, created.apiSecret) };
  };
  const main = await makeAccount({ statusUrl: options.statusUrl, inboundUrl: options.inboundUrl });
  return {
    ...main,
    url: server.url,
    store: server.store,
    server,
    dataDir,
    clock: server.clock instanceof VirtualClock ? server.clock : undefined,
    createAccount: makeAccount,
    databaseText: () => database.text(),
    close: async () => {
      await server.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function basic(apiKey: string, apiSecret: string): string {
  return `Basic ${Buffer.from(`${apiKey}:${apiSecret}`).toString('base64')}`;
}

/** A port nothing listens on right now, for a server whose config must know its own URL before it starts. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
