/**
 * A database written by the version before the one receipt path (schema 3: sandbox receipts as
 * jobs keyed by the message uuid, handsets in `sandbox_messages`) is upgraded in place: pending
 * receipts still arrive, handsets keep what they showed, scripts stay.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { loadConfig } from '../src/config/config.js';
import { hashSecret } from '../src/engine/accounts/secret-hash.js';
import { startServer } from '../src/server.js';
import * as initial from '../src/store/sqlite/migrations/001-initial.js';
import * as dispatches from '../src/store/sqlite/migrations/002-dispatches.js';
import * as handsetDuplicates from '../src/store/sqlite/migrations/003-handset-duplicates.js';
import { getJson } from './support/api-client.js';
import { basic } from './support/test-server.js';

test('a schema-3 database is upgraded: its pending sandbox receipt arrives, its handsets and scripts are kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'opendispatch-upgrade-'));
  const path = join(dir, 'old.db');
  const sentAt = Date.now() - 60_000;
  const uuid = '7d0a3b6e-1111-4222-8333-444455556666';
  try {
    const old = new Database(path);
    old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    for (const [version, name, sql] of [[1, 'initial', initial.sql], [2, 'dispatches', dispatches.sql], [3, 'handset-duplicates', handsetDuplicates.sql]] as const) {
      old.exec(sql);
      old.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(version, name, sentAt);
    }
    old.prepare('INSERT INTO accounts (api_key, secret_hash, signature_secret, created_at) VALUES (?, ?, ?, ?)').run('old00001', await hashSecret('old-secret-0001'), 'sig', sentAt);
    const to = JSON.stringify({ type: 'sms', number: '447700900777' });
    const from = JSON.stringify({ type: 'sms', number: '447700900001' });
    const body = JSON.stringify({ content: { type: 'text', text: 'sent before the upgrade' } });
    old.prepare(`INSERT INTO messages (uuid, api_key, direction, channel, to_address, from_address, to_value, from_value, body, status, provider_ref, created_at, updated_at)
      VALUES (?, 'old00001', 'outbound', 'sms', ?, ?, '447700900777', '447700900001', ?, 'submitted', ?, ?, ?)`).run(uuid, to, from, body, uuid, sentAt, sentAt);
    old.prepare("INSERT INTO message_events (message_uuid, status, at) VALUES (?, 'submitted', ?)").run(uuid, sentAt);
    old.prepare(`INSERT INTO sandbox_messages (message_uuid, api_key, channel, to_value, to_address, from_address, body, received_at)
      VALUES (?, 'old00001', 'sms', '447700900777', ?, ?, ?, ?)`).run(uuid, to, from, body, sentAt);
    old.prepare("INSERT INTO sandbox_recipients (api_key, channel, address, script, updated_at) VALUES ('old00001', 'sms', '447700900777', ?, ?)").run(JSON.stringify({ delivered_after: 30 }), sentAt);
    old.prepare("INSERT INTO jobs (kind, job_key, payload, due_at, created_at) VALUES ('sandbox.receipt', ?, ?, ?, ?)").run(
      `receipts:${uuid}`,
      JSON.stringify({ messageUuid: uuid, channel: 'sms', status: 'delivered', at: sentAt + 30_000 }),
      sentAt + 30_000,
      sentAt,
    );
    // A timer written before timers carried their own instant, of a dispatch that has ended.
    old.prepare("INSERT INTO jobs (kind, job_key, payload, due_at, created_at) VALUES ('dispatch.timer', 'dispatch:gone:0', ?, ?, ?)").run(
      JSON.stringify({ dispatchUuid: 'gone', step: 0, timer: 'expiry' }),
      sentAt,
      sentAt,
    );
    old.close();

    const config = loadConfig({ port: 0, database: `sqlite:${path}` }, {});
    const server = await startServer(config, { log: pino({ level: 'silent' }) });
    try {
      const auth = basic('old00001', 'old-secret-0001');
      await server.engine.settle();
      const message = (await getJson(`${server.url}/v0.1/messages/${uuid}`, auth)).json;
      assert.equal(message.status, 'delivered', JSON.stringify(message));
      assert.deepEqual(
        message.history.map((h: any) => [h.status, h.timestamp]),
        [['submitted', new Date(sentAt).toISOString()], ['delivered', new Date(sentAt + 30_000).toISOString()]],
      );
      const handset = (await getJson(`${server.url}/sandbox/messages?channel=sms&to=447700900777`, auth)).json.messages;
      assert.deepEqual(
        handset.map((m: any) => [m.message_uuid, m.status, m.received_at, m.times_received, m.message.content.text]),
        [[uuid, 'delivered', new Date(sentAt).toISOString(), 1, 'sent before the upgrade']],
      );
      assert.deepEqual((await getJson(`${server.url}/sandbox/recipients/sms/447700900777`, auth)).json.script, { delivered_after: 30 });
      assert.equal(await server.store.countJobs(), 0, 'the old timer ran too (its payload was completed by the migration)');
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
