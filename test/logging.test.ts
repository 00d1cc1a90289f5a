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

test('provider secrets and message texts never reach the log, even at debug, even when providers fail', { timeout: 30_000 }, async () => {
  const { FakeGraphApi } = await import('./peers/fake-graph-api.js');
  const { FakeSmsc } = await import('./peers/fake-smsc.js');
  const { writeFileSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'opendispatch-logging-'));
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const graph = await FakeGraphApi.start({ appSecret: 'APP-SECRET-3', pages: { '111': 'PAGE-TOKEN-4' } });
  // The SMSC refuses our password: the refusal is logged, the password is not.
  const smsc = await FakeSmsc.start({ systemId: 'esme', password: 'the-right-one' });
  const configPath = join(dir, 'providers.json');
  writeFileSync(configPath, JSON.stringify({
    public_url: 'http://127.0.0.1:9',
    providers: {
      fb: { type: 'messenger', app_secret: 'APP-SECRET-3', verify_token: 'VERIFY-5', pages: { '111': { access_token: 'PAGE-TOKEN-4' } }, base_url: graph.baseUrl },
      smsc: { type: 'smpp', host: '127.0.0.1', port: smsc.port, system_id: 'esme', password: 'SMPP-PASSWORD-6' },
      tw: { type: 'twilio', account_sid: 'AC1', auth_token: 'TWILIO-TOKEN-7', base_url: 'http://127.0.0.1:9' },
    },
    channels: { messenger: [{ via: ['fb'] }], sms: [{ prefix: ['1'], via: ['tw'] }, { via: ['smsc'] }] },
  }));
  const config = loadConfig({ port: 0, database: `sqlite:${join(dir, 'log.db')}`, config: configPath }, { LOG_LEVEL: 'debug', OPENDISPATCH_API_KEY: 'logs0002', OPENDISPATCH_API_SECRET: 'log-secret-00002' });
  const server = await startServer(config, { log: createLogger(config, destination) });
  const basic = `Basic ${Buffer.from('logs0002:log-secret-00002').toString('base64')}`;
  try {
    graph.failNext({ httpStatus: 400, code: 190, message: 'Error validating access token PAGE-TOKEN-4' });
    const send = (body: unknown) => fetch(`${server.url}/v0.1/messages`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await send({ to: { type: 'messenger', id: '999' }, from: { type: 'messenger', id: '111' }, message: { content: { type: 'text', text: 'BODY-TEXT-8' } } });
    await send({ to: { type: 'sms', number: '14155550100' }, from: { type: 'sms', number: '14155550000' }, message: { content: { type: 'text', text: 'BODY-TEXT-9' } } });
    await fetch(`${server.url}/webhooks/fb?hub.mode=subscribe&hub.verify_token=VERIFY-5&hub.challenge=1`);
    for (let i = 0; i < 200 && !lines.some((line) => line.includes('refused the bind')); i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
    for (let i = 0; i < 200 && graph.requests === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    await server.close();
    await graph.close();
    await smsc.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const log = lines.join('\n');
  assert.ok(lines.some((line) => line.includes('refused the bind')), 'the refused bind is logged');
  for (const secret of ['APP-SECRET-3', 'PAGE-TOKEN-4', 'VERIFY-5', 'SMPP-PASSWORD-6', 'TWILIO-TOKEN-7', 'BODY-TEXT-8', 'BODY-TEXT-9', 'log-secret-00002']) {
    assert.ok(!log.includes(secret), `the log holds ${secret}`);
  }
});
