import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from './support/test-server.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

test('smoke: a basic-auth SMS is submitted and delivered, with webhooks', async () => {
  const receiver = await new WebhookReceiver().start();
  const server = await startTestServer({ clock: 'virtual', statusUrl: `${receiver.url}/status` });
  try {
    const response = await fetch(`${server.url}/v0.1/messages`, {
      method: 'POST',
      headers: { authorization: server.basicAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ to: { type: 'sms', number: '447700900000' }, from: { type: 'sms', number: '447700900001' }, message: { content: { type: 'text', text: 'hi' } } }),
    });
    assert.equal(response.status, 202);
    const { message_uuid } = (await response.json()) as { message_uuid: string };
    await receiver.waitFor((w) => w.json.status === 'submitted');
    await fetch(`${server.url}/sandbox/clock/advance`, { method: 'POST', headers: { authorization: server.basicAuth, 'content-type': 'application/json' }, body: JSON.stringify({ seconds: 1 }) });
    const [delivered] = await receiver.waitFor((w) => w.json.status === 'delivered');
    assert.equal(delivered!.json.message_uuid, message_uuid);
  } finally {
    await server.close();
    await receiver.close();
  }
});
