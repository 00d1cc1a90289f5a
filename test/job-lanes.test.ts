/**
 * Webhook POSTs run in their own lane: a receiver that hangs for its whole timeout fills only
 * that lane, and sends, receipts and failover timers keep running.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from './support/test-server.js';
import { WebhookReceiver } from './support/webhook-receiver.js';
import { createApplication, getJson, postJson } from './support/api-client.js';

const sms = (to: string) => ({ to: { type: 'sms', number: to }, from: { type: 'sms', number: '447700900000' }, message: { content: { type: 'text', text: 'hi' } } });

test('a hanging webhook receiver does not hold up sends of other accounts', async () => {
  const hanging = await new WebhookReceiver().start();
  hanging.respondWith = () => 'hang';
  const server = await startTestServer({
    statusUrl: `${hanging.url}/status`,
    configFile: { engine: { concurrency: 4 }, webhooks: { concurrency: 4, timeout_ms: 3000 } },
  });
  try {
    // Ten sends whose status webhooks all hang: far more than either lane has slots.
    for (let i = 0; i < 10; i += 1) assert.equal((await postJson(`${server.url}/v0.1/messages`, server.basicAuth, sms(`4477009001${String(i).padStart(2, '0')}`))).status, 202);
    await new Promise((resolve) => setTimeout(resolve, 300)); // their webhooks are now in flight, hanging
    assert.equal(server.server.engine.jobsInFlight('webhooks'), 4, 'the webhook lane is full');

    const other = await server.createAccount();
    const started = Date.now();
    const { json } = await postJson(`${server.url}/v0.1/messages`, other.basicAuth, sms('447700900999'));
    for (;;) {
      const { json: message } = await getJson(`${server.url}/v0.1/messages/${json.message_uuid}`, other.basicAuth);
      if (message.status === 'submitted' || message.status === 'delivered') break;
      assert.ok(Date.now() - started < 2000, `still ${message.status} after ${Date.now() - started} ms: the send waited behind the webhooks`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await server.close();
    await hanging.close();
  }
});

test("one account's hanging receivers cannot stall another account's webhooks", async () => {
  // Two origins of one account hang; each is within its origin share, and together they would
  // fill the lane, were the account not limited to its own share of it.
  const hangingA = await new WebhookReceiver().start();
  const hangingB = await new WebhookReceiver().start();
  hangingA.respondWith = () => 'hang';
  hangingB.respondWith = () => 'hang';
  const healthy = await new WebhookReceiver().start();
  const server = await startTestServer({
    configFile: { webhooks: { concurrency: 4, concurrency_per_origin: 2, concurrency_per_account: 2, timeout_ms: 5000 } },
  });
  try {
    // The account's default status URL is one origin, its application's another.
    const tenant = await server.createAccount({ statusUrl: `${hangingA.url}/status` });
    const app = await createApplication(server.url, tenant.basicAuth, { statusUrl: `${hangingB.url}/status`, inboundUrl: `${hangingB.url}/inbound` });
    for (let i = 0; i < 6; i += 1) {
      assert.equal((await postJson(`${server.url}/v0.1/messages`, tenant.basicAuth, sms(`4477009002${String(i).padStart(2, '0')}`))).status, 202);
      assert.equal((await postJson(`${server.url}/v0.1/messages`, await app.bearer(), sms(`4477009003${String(i).padStart(2, '0')}`))).status, 202);
    }
    await waitUntil(() => server.server.engine.jobsInFlight('webhooks') >= 2);
    await new Promise((resolve) => setTimeout(resolve, 200)); // anything more that could claim has claimed
    assert.equal(server.server.engine.jobsInFlight('webhooks'), 2, "the account holds its share and no more");

    const other = await server.createAccount({ statusUrl: `${healthy.url}/status` });
    const started = Date.now();
    assert.equal((await postJson(`${server.url}/v0.1/messages`, other.basicAuth, sms('447700900998'))).status, 202);
    await healthy.waitFor((webhook) => webhook.json.status === 'submitted', 1, 1000);
    assert.ok(Date.now() - started < 1000);
  } finally {
    await server.close();
    await Promise.all([hangingA.close(), hangingB.close(), healthy.close()]);
  }
});

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    assert.ok(Date.now() < deadline, 'timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
