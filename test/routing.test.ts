/**
 * Routes (DESIGN §3 "Routing and providers", §4): the first route whose prefix matches the
 * destination names the provider; a channel or destination no route serves is rejected 1250
 * (Unroutable) when providers are configured, and a Dispatch then moves on at once.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { loadConfig } from '../src/config/config.js';
import { startServer } from '../src/server.js';
import { getJson, postJson } from './support/api-client.js';
import { startTestServer, type TestServer } from './support/test-server.js';

let server: TestServer;
before(async () => {
  server = await startTestServer({
    clock: 'virtual',
    configFile: {
      providers: { 'sim-uk': { type: 'sandbox', default_delivered_after: 0 } },
      channels: { sms: [{ prefix: ['44'], via: ['sim-uk'] }] },
    },
  });
});
after(() => server.close());

const sms = (to: string) => ({ to: { type: 'sms', number: to }, from: { type: 'sms', number: '447700900000' }, message: { content: { type: 'text', text: 'hi' } } });

async function settled(uuid: string): Promise<any> {
  for (let i = 0; i < 200; i += 1) {
    const { json } = await getJson(`${server.url}/v0.1/messages/${uuid}`, server.basicAuth);
    if (json.status !== 'accepted') return json;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`message ${uuid} stayed queued`);
}

test('a destination its route matches goes through the provider that route names', async () => {
  const { json } = await postJson(`${server.url}/v0.1/messages`, server.basicAuth, sms('447700900123'));
  const message = await settled(json.message_uuid);
  assert.equal(message.status === 'submitted' || message.status === 'delivered', true, message.status);
  assert.deepEqual(message.attempts.map((attempt: any) => [attempt.provider, attempt.outcome]), [['sim-uk', 'submitted']]);
});

test('a destination or channel no route serves is rejected 1250 when providers are configured', async () => {
  const other = await postJson(`${server.url}/v0.1/messages`, server.basicAuth, sms('14155550100'));
  const whatsapp = await postJson(`${server.url}/v0.1/messages`, server.basicAuth, {
    to: { type: 'whatsapp', number: '447700900123' },
    from: { type: 'whatsapp', number: '447700900000' },
    message: { content: { type: 'text', text: 'hi' } },
  });
  for (const { json } of [other, whatsapp]) {
    const message = await settled(json.message_uuid);
    assert.equal(message.status, 'rejected');
    assert.deepEqual(message.error, { code: 1250, reason: 'Unroutable: no provider is configured for this channel and destination' });
  }
});

test('a Dispatch whose first step is unroutable moves to its next step at once', async () => {
  const { status, json } = await postJson(`${server.url}/v0.1/dispatch`, server.basicAuth, {
    template: 'failover',
    workflow: [
      { from: { type: 'messenger', id: '1234567890' }, to: { type: 'messenger', id: '999' }, message: { content: { type: 'text', text: 'a' } }, failover: { expiry_time: 600, condition_status: 'read' } },
      sms('447700900456'),
    ],
  });
  assert.equal(status, 202);
  for (let i = 0; i < 200; i += 1) {
    const { json: dispatch } = await getJson(`${server.url}/v0.1/dispatch/${json.dispatch_uuid}`, server.basicAuth);
    const [first, second] = dispatch.workflow;
    if (first?.message_status === 'rejected' && second?.message_uuid) {
      assert.equal((await settled(second.message_uuid)).attempts[0].provider, 'sim-uk');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail('the dispatch did not move on');
});

test('a provider that cannot be made (an unreadable key file) stops the start with one error, and leaves the database free', async () => {
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const path = join(server.dataDir, 'upstream.json');
  writeFileSync(path, JSON.stringify({ public_url: 'https://gw.example.com', providers: { upstream: { type: 'vonage-messages', application_id: 'app', private_key: join(server.dataDir, 'missing.key') } } }));
  const config = loadConfig({ port: 0, database: `sqlite:${join(server.dataDir, 'other.db')}`, config: path }, {});
  await assert.rejects(startServer(config, { log: pino({ level: 'silent' }) }), { code: 'OD_CONFIG', message: /^provider upstream: cannot read private_key .*missing\.key: ENOENT$/ });
  await assert.rejects(startServer(config, { log: pino({ level: 'silent' }) }), { code: 'OD_CONFIG' }, 'a second start is refused for the key, not for a database left locked');
});

test('a provider named sandbox configures the built-in sandbox instead of adding one', async () => {
  const configured = await startTestServer({ configFile: { providers: { sandbox: { type: 'sandbox', default_delivered_after: 0 } }, channels: { sms: [{ via: ['sandbox'] }] } } });
  try {
    const { json } = await postJson(`${configured.url}/v0.1/messages`, configured.basicAuth, sms('14155550100'));
    for (let i = 0; i < 200; i += 1) {
      const { json: message } = await getJson(`${configured.url}/v0.1/messages/${json.message_uuid}`, configured.basicAuth);
      if (message.status === 'delivered') {
        assert.deepEqual(message.attempts.map((attempt: any) => attempt.provider), ['sandbox']);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.fail('not delivered at once (default_delivered_after: 0)');
  } finally {
    await configured.close();
  }
});
