import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startServerProcess, type ServerProcess } from './server-process.js';
import { freshDatabase } from './test-server.js';
import { WebhookReceiver } from './webhook-receiver.js';

export interface Account {
  apiKey: string;
  auth: string;
}

export interface Workspace {
  dir: string;
  database: string;
  receiver: WebhookReceiver;
  account: Account;
  start(): Promise<ServerProcess>;
  dispose(): Promise<void>;
}

/** A temp dir, a fresh database (TEST_DATABASE_KIND), a webhook receiver, and an account whose default status URL is the receiver. */
export async function workspace(options: { database?: 'sqlite' | 'postgres'; config?: Record<string, unknown> } = {}): Promise<Workspace> {
  const dir = mkdtempSync(join(tmpdir(), 'opendispatch-crash-'));
  const fresh = await freshDatabase(dir, options.database);
  let args: string[] = [];
  if (options.config) {
    writeFileSync(join(dir, 'config.json'), JSON.stringify(options.config));
    args = ['--config', join(dir, 'config.json')];
  }
  const database = fresh.url;
  const receiver = await new WebhookReceiver().start();
  const created = await runCli(['account:create', '--database', database, '--status-url', `${receiver.url}/status`, '--json'], { cwd: dir });
  assert.equal(created.code, 0, created.stderr);
  const { api_key, api_secret } = JSON.parse(created.stdout) as { api_key: string; api_secret: string };
  const servers: ServerProcess[] = [];
  return {
    dir,
    database,
    receiver,
    account: { apiKey: api_key, auth: `Basic ${Buffer.from(`${api_key}:${api_secret}`).toString('base64')}` },
    async start() {
      const server = await startServerProcess({ database, cwd: dir, args });
      servers.push(server);
      return server;
    },
    async dispose() {
      for (const server of servers) await server.dispose();
      await receiver.close();
      await fresh.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

