/**
 * Webhook addresses (DESIGN §3): a tenant cannot make the gateway POST to cloud metadata, to
 * the gateway's own loopback or private services, nor learn from recorded outcomes which of them
 * answer. Literal addresses are refused when an application names them; names are judged on
 * every attempt, after resolution.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson } from './support/api-client.js';
import { startTestServer, type TestServer } from './support/test-server.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

const STATUS_FIELD = 'capabilities.messages.webhooks.status_url.address';
const appWith = (address: string) => ({ name: 'probe', capabilities: { messages: { webhooks: { status_url: { address, http_method: 'POST' } } } } });
const sms = { to: { type: 'sms', number: '447700900123' }, from: { type: 'sms', number: '447700900000' }, message: { content: { type: 'text', text: 'hi' } } };

async function refusal(server: TestServer, address: string): Promise<{ status: number; reason?: string }> {
  const { status, json } = await postJson(`${server.url}/v2/applications`, server.basicAuth, appWith(address));
  const entry = (json?.invalid_parameters as Array<{ name: string; reason: string }> | undefined)?.find((parameter) => parameter.name === STATUS_FIELD);
  return { status, reason: entry?.reason };
}

describe('with the default policy (loopback allowed)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  test('metadata, link-local and private literals are refused at creation, naming the field', async () => {
    for (const address of [
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/',
      'http://metadata.google.internal/computeMetadata/v1/',
      'http://[fe80::1]/',
      'http://10.1.2.3/hook',
      'http://192.168.0.10/hook',
      'http://[fd12:3456::1]/hook',
      'http://0.0.0.0:5432/',
      'http://100.100.100.200/',
    ]) {
      const { status, reason } = await refusal(server, address);
      assert.equal(status, 400, address);
      assert.match(reason ?? '', /^is refused: it /, address);
      const host = new URL(address).hostname.replace(/[[\]]/g, '');
      assert.ok(!reason!.includes(host), `the reason echoes ${host}`);
    }
  });

  test('userinfo, whitespace and backslashes are refused', async () => {
    for (const [address, expected] of [
      ['http://user:secret@example.com/hook', 'must not carry a user name or password'],
      ['http://example.com/ho ok', 'must not contain whitespace or control characters'],
      ['http://example.com\\@127.0.0.1/', 'must not contain backslashes'],
    ] as const) {
      const { status, reason } = await refusal(server, address);
      assert.equal(status, 400, address);
      assert.equal(reason, expected, address);
    }
  });

  test('an address is stored in its one normal spelling', async () => {
    const { status, json } = await postJson(`${server.url}/v2/applications`, server.basicAuth, appWith('HTTP://2130706433:9/Hook'));
    assert.equal(status, 201);
    assert.equal(json.capabilities.messages.webhooks.status_url.address, 'http://127.0.0.1:9/Hook');
  });
});

describe('with webhooks.allow_networks: []', () => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  before(async () => {
    receiver = await new WebhookReceiver().start();
    server = await startTestServer({ configFile: { webhooks: { allow_networks: [] } } });
  });
  after(async () => {
    await server.close();
    await receiver.close();
  });

  test('loopback in every spelling is refused at creation', async () => {
    for (const address of ['http://127.0.0.1/', 'http://2130706433/', 'http://0x7f000001/', 'http://127.1/', 'http://0177.0.0.1/', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://localhost/', 'http://api.localhost./']) {
      const { status, reason } = await refusal(server, address);
      assert.equal(status, 400, address);
      assert.equal(reason, 'is refused: it is a loopback address, which webhooks.allow_networks does not list', address);
    }
  });

  test('a public address is accepted', async () => {
    assert.equal((await refusal(server, 'https://hooks.example.com/status')).status, 201);
  });

  for (const [label, host] of [
    ['a loopback literal', '127.0.0.1'],
    ['a name that resolves to loopback', 'localhost'],
  ] as const) {
    test(`a webhook to ${label} set by the operator fails permanently on its attempt, and nothing is connected to`, async () => {
      // Account defaults come from the operator's CLI, not from a tenant's request: only the attempt judges them.
      const port = new URL(receiver.url).port;
      const account = await server.createAccount({ statusUrl: `http://${host}:${port}/status` });
      const { status, json } = await postJson(`${server.url}/v0.1/messages`, account.basicAuth, sms);
      assert.equal(status, 202);
      const webhook = await waitFor(async () => (await server.store.listWebhooksForMessage(json.message_uuid)).find((found) => found.state !== 'pending'));
      assert.equal(webhook.state, 'failed');
      const attempts = await server.store.listWebhookAttempts(webhook.id);
      assert.equal(attempts.length, 1, 'not retried');
      assert.match(attempts[0]!.error ?? '', /refused.*loopback address, which webhooks\.allow_networks does not list/);
      assert.equal(receiver.received.length, 0);
    });
  }
});

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    assert.ok(Date.now() < deadline, 'timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
