/**
 * Webhook POSTs run in their own lane: a receiver that hangs for its whole timeout fills only
 * that lane, and sends, receipts and failover timers keep running.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from './support/test-server.js';
import { WebhookReceiver } from './support/webhook-receiver.js';
import { getJson, postJson } from './support/api-client.js';

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
