/**
 * What the server's log holds: request lines with paths but no query strings (providers put
 * tokens there), and never a credential, whatever the request carried.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../src/config/config.js';
import { createLogger, startServer } from '../src/server.js';

test('request logs carry the path without its query, and no credential', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'opendispatch-logging-'));
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const config = loadConfig({ port: 0, database: `sqlite:${join(dir, 'log.db')}` }, { LOG_LEVEL: 'info', OPENDISPATCH_API_KEY: 'logs0001', OPENDISPATCH_API_SECRET: 'log-secret-00001' });
  const server = await startServer(config, { log: createLogger(config, destination) });
  try {
    await fetch(`${server.url}/webhooks/sandbox?hub.mode=subscribe&hub.verify_token=VERIFY-TOKEN-1&hub.challenge=42`);
    await fetch(`${server.url}/v2/applications?page=1&token=QUERY-TOKEN-2`, { headers: { authorization: `Basic ${Buffer.from('logs0001:log-secret-00001').toString('base64')}` } });
    await fetch(`${server.url}/v0.1/messages`, { method: 'POST', headers: { authorization: 'Bearer not.a.jwt', 'content-type': 'application/json' }, body: '{"to":{}}' });
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const log = lines.join('\n');
  const requests = lines.map((line) => JSON.parse(line) as { msg?: string; req?: { url: string } }).filter((entry) => entry.msg === 'incoming request');
  assert.deepEqual(requests.map((entry) => entry.req?.url), ['/webhooks/sandbox', '/v2/applications', '/v0.1/messages']);
  for (const secret of ['VERIFY-TOKEN-1', 'QUERY-TOKEN-2', 'log-secret-00001', Buffer.from('logs0001:log-secret-00001').toString('base64'), 'not.a.jwt']) {
    assert.ok(!log.includes(secret), `the log holds ${secret}`);
  }
});
