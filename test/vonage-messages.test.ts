/**
 * Vonage Messages v1 as an upstream (`type: vonage-messages`) against a fake Messages API over a
 * socket: our JWT of the Vonage application, v0.1 bodies in the v1 shape (Viber as
 * viber_service), signed v1 status webhooks mapped back by message_uuid (a payload_hash that
 * does not match its body is a 401), errors, inbound, and the corpus's Viber → SMS dispatch
 * carried by Vonage.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { FakeVonageMessages } from './peers/fake-vonage-messages.js';
import { createApplication, postJson, type TestApplication, waitForMessage } from './support/api-client.js';
import { startTestServer, type TestServer } from './support/test-server.js';
import { WebhookReceiver, type ReceivedWebhook } from './support/webhook-receiver.js';

describe('Vonage Messages v1 as the upstream', () => {
  let vonage: FakeVonageMessages;
  let server: TestServer;
  let receiver: WebhookReceiver;
  let app: TestApplication;
  let seq = 0;
  const newNumber = () => String(447700980000 + ++seq);

  before(async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    let now: () => number = Date.now;
    vonage = await FakeVonageMessages.start({ applicationId: 'vonage-app', publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), signatureSecret: 'vonage-signing', now: () => now() });
    receiver = await new WebhookReceiver().start();
    server = await startTestServer({
      clock: 'virtual',
      publicUrl: true,
      configFile: {
        providers: { vonage: { type: 'vonage-messages', application_id: 'vonage-app', private_key_pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), signature_secret: 'vonage-signing', base_url: vonage.baseUrl } },
        channels: { sms: [{ via: ['vonage'] }], mms: [{ via: ['vonage'] }], viber_service_msg: [{ via: ['vonage'] }], whatsapp: [{ via: ['vonage'] }] },
      },
    });
    const clock = server.clock!;
    now = () => clock.now();
    app = await createApplication(server.url, server.basicAuth, { statusUrl: `${receiver.url}/status`, inboundUrl: `${receiver.url}/inbound` });
  });
  after(async () => {
    await server.close();
    await vonage.close();
    await receiver.close();
  });

  const send = async (body: Record<string, unknown>) => {
    const { status, json } = await postJson(`${server.url}/v0.1/messages`, await app.bearer(), body);
    assert.equal(status, 202, JSON.stringify(json));
    return json.message_uuid as string;
  };
  const sms = (to: string, text = 'via Vonage') => ({ to: { type: 'sms', number: to }, from: { type: 'sms', number: '447700900000' }, message: { content: { type: 'text', text } } });
  const sendOf = (to: string) => vonage.sends.filter((sent) => sent.to === to).at(-1)!;

  test('an SMS goes as v1 with our webhook; its signed delivered status delivers it', async () => {
    const to = newNumber();
    const uuid = await send(sms(to));
    await waitForMessage(server, uuid, ['submitted']);
    const sent = sendOf(to);
    assert.deepEqual([sent.channel, sent.messageType, sent.body.text, sent.webhookUrl, sent.webhookVersion, sent.applicationId], ['sms', 'text', 'via Vonage', `${server.url}/webhooks/vonage`, 'v1', 'vonage-app']);
    assert.equal(await vonage.status(sent.messageUuid, 'delivered'), 200);
    await waitForMessage(server, uuid, ['delivered']);
  });

  test('a forged, missing or tampered signature is a 401 that changes nothing', async () => {
    const to = newNumber();
    const uuid = await send(sms(to));
    await waitForMessage(server, uuid, ['submitted']);
    for (const signature of ['forged', 'missing', 'tampered'] as const) assert.equal(await vonage.status(sendOf(to).messageUuid, 'delivered', { signature }), 401, signature);
    assert.equal((await waitForMessage(server, uuid, ['submitted'])).status, 'submitted');
  });

  test('Viber goes as viber_service; a rejected status carries its code', async () => {
    const to = newNumber();
    const uuid = await send({ to: { type: 'viber_service_msg', number: to }, from: { type: 'viber_service_msg', id: 'ACME' }, message: { content: { type: 'text', text: 'Viber' }, viber_service_msg: { category: 'transaction', ttl: 600 } } });
    await waitForMessage(server, uuid, ['submitted']);
    const sent = sendOf(to);
    assert.deepEqual([sent.channel, sent.from, sent.body.viber_service], ['viber_service', 'ACME', { category: 'transaction', ttl: 600 }]);
    await vonage.status(sent.messageUuid, 'rejected', { error: { code: 1300, detail: 'Not part of the provider network' } });
    assert.equal((await waitForMessage(server, uuid, ['rejected'])).error.code, 1300);
  });

  test('an MMS goes as a v1 image; read and undeliverable statuses apply', async () => {
    const to = newNumber();
    const uuid = await send({ to: { type: 'mms', number: to }, from: { type: 'mms', number: '14155550000' }, message: { content: { type: 'image', image: { url: 'https://example.com/cat.jpg', caption: 'A cat' } } } });
    await waitForMessage(server, uuid, ['submitted']);
    assert.deepEqual([sendOf(to).channel, sendOf(to).messageType, sendOf(to).body.image], ['mms', 'image', { url: 'https://example.com/cat.jpg', caption: 'A cat' }]);
    await vonage.status(sendOf(to).messageUuid, 'undeliverable', { error: { code: 1330 } });
    assert.equal((await waitForMessage(server, uuid, ['undeliverable'])).error.code, 1330);
    const reader = newNumber();
    const whatsapp = await send({ to: { type: 'whatsapp', number: reader }, from: { type: 'whatsapp', number: '447700900000' }, message: { content: { type: 'text', text: 'read me' } } });
    await waitForMessage(server, whatsapp, ['submitted']);
    await vonage.status(sendOf(reader).messageUuid, 'read');
    await waitForMessage(server, whatsapp, ['read']);
  });

  test('a 429 is retried; refused credentials are a provider fault (1331); a 422 is rejected with its code', async () => {
    vonage.failNext({ httpStatus: 429, code: 1010, title: 'Rate Limit Hit' });
    const retried = await waitForMessage(server, await send(sms(newNumber())), ['submitted'], { advanceSeconds: 2 });
    assert.deepEqual(retried.attempts.map((attempt: any) => attempt.outcome), ['failed', 'submitted']);
    vonage.failNext({ httpStatus: 401 });
    assert.equal((await waitForMessage(server, await send(sms(newNumber())), ['rejected'])).error.code, 1331);
    vonage.failNext({ httpStatus: 422, code: 1120, title: 'Invalid sender' });
    const refused = await waitForMessage(server, await send(sms(newNumber())), ['rejected']);
    assert.deepEqual([refused.error.code, refused.attempts.length], [1120, 1], 'a 422 is final, with the code of its type');
  });

  test('an inbound message comes back in v0.1 shape', async () => {
    const user = newNumber();
    await waitForMessage(server, await send(sms(user)), ['submitted']);
    assert.equal(await vonage.inbound(`${server.url}/webhooks/vonage`, { channel: 'sms', from: user, to: '447700900000', text: 'Reply' }), 200);
    const [inbound] = await receiver.waitFor((webhook) => webhook.path === '/inbound' && webhook.json.from?.number === user);
    assert.deepEqual([inbound!.json.to, inbound!.json.message.content], [{ type: 'sms', number: '447700900000' }, { type: 'text', text: 'Reply' }]);
    assert.equal(await vonage.inbound(`${server.url}/webhooks/vonage`, { channel: 'sms', from: user, to: '447700900000', text: 'x' }, 'forged'), 401);
  });

  test('the corpus’s Viber → SMS dispatch, carried by Vonage: Viber rejected, the SMS delivered', async () => {
    const to = newNumber();
    const { status, json } = await postJson(`${server.url}/v0.1/dispatch`, await app.bearer(), {
      template: 'failover',
      workflow: [
        { from: { type: 'viber_service_msg', id: 'ACME' }, to: { type: 'viber_service_msg', number: to }, message: { content: { type: 'text', text: 'Viber first' } }, failover: { expiry_time: 600, condition_status: 'delivered' } },
        { from: { type: 'sms', number: '447700900000' }, to: { type: 'sms', number: to }, message: { content: { type: 'text', text: 'Then SMS' } } },
      ],
    });
    assert.equal(status, 202);
    const uuid = json.dispatch_uuid as string;
    const ofDispatch = (webhook: ReceivedWebhook) => webhook.json._links?.dispatch?.dispatch_uuid === uuid;
    await receiver.waitFor((webhook) => ofDispatch(webhook) && webhook.json.status === 'submitted');
    await vonage.status(sendOf(to).messageUuid, 'rejected', { error: { code: 1300 } });
    await receiver.waitFor((webhook) => ofDispatch(webhook) && webhook.json.to.type === 'sms' && webhook.json.status === 'submitted');
    const smsSend = vonage.sends.filter((sent) => sent.to === to && sent.channel === 'sms').at(-1)!;
    await vonage.status(smsSend.messageUuid, 'delivered');
    const [report] = await receiver.waitFor((webhook) => webhook.json.template === 'failover' && webhook.json.dispatch_uuid === uuid);
    assert.equal(report!.json.status, 'completed');
    assert.deepEqual(report!.json._links.messages.map((message: any) => [message.channel, message.status]), [['viber_service_msg', 'rejected'], ['sms', 'delivered']]);
  });
});
