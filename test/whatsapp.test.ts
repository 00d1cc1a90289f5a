/**
 * WhatsApp (`type: whatsapp`) against a fake Cloud API over a socket, and the WhatsApp → SMS
 * script of the Dispatch corpus with a fake SMSC: statuses by wamid, "outside the 24 h window"
 * (131047) as a send error and as a failed status, both `rejected` 1340 so a Dispatch moves on
 * at once; rate limits retried; signatures; inbound; the handshake.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeSmsc } from './peers/fake-smsc.js';
import { FakeWhatsApp } from './peers/fake-whatsapp.js';
import { createApplication, postJson, type TestApplication, waitForMessage } from './support/api-client.js';
import { startTestServer, type TestServer } from './support/test-server.js';
import { inEventOrder, WebhookReceiver, type ReceivedWebhook } from './support/webhook-receiver.js';

const BUSINESS = '15550783881';
const PHONE_NUMBER_ID = '106540352242922';
const SECOND = '15550783882';
const SECOND_ID = '106540352242923';

describe('WhatsApp through the Cloud API', () => {
  let wa: FakeWhatsApp;
  let smsc: FakeSmsc;
  let server: TestServer;
  let receiver: WebhookReceiver;
  let app: TestApplication;
  let seq = 0;
  const newUser = () => String(447700970000 + ++seq);

  before(async () => {
    let now: () => number = Date.now;
    wa = await FakeWhatsApp.start({
      appSecret: 'wa-secret',
      numbers: { [PHONE_NUMBER_ID]: { accessToken: 'wa-token', displayPhoneNumber: BUSINESS }, [SECOND_ID]: { accessToken: 'wa-token-2', displayPhoneNumber: SECOND } },
      now: () => now(),
    });
    smsc = await FakeSmsc.start({ systemId: 'gw', password: 'pw', autoReceipt: 'DELIVRD' });
    receiver = await new WebhookReceiver().start();
    server = await startTestServer({
      clock: 'virtual',
      configFile: {
        providers: {
          wa: {
            type: 'whatsapp',
            app_secret: 'wa-secret',
            verify_token: 'wa-verify',
            numbers: { [BUSINESS]: { phone_number_id: PHONE_NUMBER_ID, access_token: 'wa-token' }, [SECOND]: { phone_number_id: SECOND_ID, access_token: 'wa-token-2' } },
            base_url: wa.baseUrl,
          },
          smsc: { type: 'smpp', host: '127.0.0.1', port: smsc.port, system_id: 'gw', password: 'pw' },
        },
        channels: { whatsapp: [{ via: ['wa'] }], sms: [{ via: ['smsc'] }] },
      },
    });
    const clock = server.clock!;
    now = () => clock.now();
    wa.webhookUrl = `${server.url}/webhooks/wa`;
    app = await createApplication(server.url, server.basicAuth, { statusUrl: `${receiver.url}/status`, inboundUrl: `${receiver.url}/inbound` });
    await smsc.waitForBinds(1);
  });
  after(async () => {
    await server.close();
    await wa.close();
    await smsc.close();
    await receiver.close();
  });

  const sendWhatsApp = async (to: string, content: Record<string, unknown> = { type: 'text', text: 'Your order shipped' }) => {
    const { status, json } = await postJson(`${server.url}/v0.1/messages`, await app.bearer(), { to: { type: 'whatsapp', number: to }, from: { type: 'whatsapp', number: BUSINESS }, message: { content } });
    assert.equal(status, 202, JSON.stringify(json));
    return json.message_uuid as string;
  };
  const sendOf = (to: string) => wa.sends.filter((send) => send.to === to).at(-1)!;

  test('a text is sent with the number’s token; its statuses deliver it and read it', async () => {
    const user = newUser();
    const uuid = await sendWhatsApp(user);
    await waitForMessage(server, uuid, ['submitted']);
    const send = sendOf(user);
    assert.deepEqual([send.phoneNumberId, send.accessToken, send.type, send.body.text], [PHONE_NUMBER_ID, 'wa-token', 'text', { body: 'Your order shipped' }]);
    assert.equal(await wa.status(send.wamid, 'sent'), 200);
    assert.equal(await wa.status(send.wamid, 'delivered'), 200);
    await waitForMessage(server, uuid, ['delivered']);
    assert.equal(await wa.status(send.wamid, 'read'), 200);
    await waitForMessage(server, uuid, ['read']);
  });

  test('each business number sends with its own phone number id and token, and its inbound names it', async () => {
    const user = newUser();
    const { status, json } = await postJson(`${server.url}/v0.1/messages`, await app.bearer(), { to: { type: 'whatsapp', number: user }, from: { type: 'whatsapp', number: SECOND }, message: { content: { type: 'text', text: 'from the second' } } });
    assert.equal(status, 202);
    await waitForMessage(server, json.message_uuid, ['submitted']);
    assert.deepEqual([sendOf(user).phoneNumberId, sendOf(user).accessToken], [SECOND_ID, 'wa-token-2']);
    await wa.inbound(SECOND_ID, user, { text: 'to the second' });
    const [inbound] = await receiver.waitFor((webhook) => webhook.path === '/inbound' && webhook.json.from?.number === user);
    assert.deepEqual(inbound!.json.to, { type: 'whatsapp', number: SECOND });
  });

  test('a read without a delivered reads the message', async () => {
    const user = newUser();
    const uuid = await sendWhatsApp(user);
    await waitForMessage(server, uuid, ['submitted']);
    await wa.status(sendOf(user).wamid, 'read');
    await waitForMessage(server, uuid, ['read']);
  });

  test('131047 (outside the 24 h window) is rejected 1340 as a send error and as a failed status', async () => {
    wa.failNext({ httpStatus: 400, code: 131047 });
    const sync = await waitForMessage(server, await sendWhatsApp(newUser()), ['rejected']);
    assert.equal(sync.error.code, 1340);
    const user = newUser();
    const uuid = await sendWhatsApp(user);
    await waitForMessage(server, uuid, ['submitted']);
    await wa.status(sendOf(user).wamid, 'failed', { errors: [{ code: 131047, title: 'Re-engagement message' }] });
    assert.equal((await waitForMessage(server, uuid, ['rejected'])).error.code, 1340);
  });

  test('a pair rate limit (131056) is retried; a template goes with its locale', async () => {
    wa.failNext({ httpStatus: 400, code: 131056 });
    const retried = await waitForMessage(server, await sendWhatsApp(newUser()), ['submitted'], { advanceSeconds: 2 });
    assert.deepEqual(retried.attempts.map((attempt: any) => attempt.outcome), ['failed', 'submitted']);
    const user = newUser();
    const { status } = await postJson(`${server.url}/v0.1/messages`, await app.bearer(), {
      to: { type: 'whatsapp', number: user },
      from: { type: 'whatsapp', number: BUSINESS },
      message: { content: { type: 'template', template: { name: 'order_update', parameters: [{ default: 'A123' }] } }, whatsapp: { policy: 'deterministic', locale: 'en_GB' } },
    });
    assert.equal(status, 202);
    for (let i = 0; i < 200 && !wa.sends.some((send) => send.to === user); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(sendOf(user).body.template, { name: 'order_update', language: { code: 'en_GB', policy: 'deterministic' }, components: [{ type: 'body', parameters: [{ type: 'text', text: 'A123' }] }] });
  });

  test('a forged or missing signature is a 401 that changes nothing; the handshake answers our token only', async () => {
    const user = newUser();
    const uuid = await sendWhatsApp(user);
    await waitForMessage(server, uuid, ['submitted']);
    const body = { object: 'whatsapp_business_account', entry: [{ id: 'W', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: BUSINESS, phone_number_id: PHONE_NUMBER_ID }, statuses: [{ id: sendOf(user).wamid, status: 'read', timestamp: String(Math.floor(server.clock!.now() / 1000)) }] } }] }] };
    assert.equal(await wa.postEvent(body, 'forged'), 401);
    assert.equal(await wa.postEvent(body, 'missing'), 401);
    assert.equal((await waitForMessage(server, uuid, ['submitted'])).status, 'submitted');
    assert.deepEqual(await wa.verify(`${server.url}/webhooks/wa`, 'wa-verify', '424242'), { status: 200, body: '424242' });
    assert.equal((await wa.verify(`${server.url}/webhooks/wa`, 'nope', '424242')).status, 403);
  });

  test('a user’s message reaches the application that wrote to them, in v0.1 shape', async () => {
    const user = newUser();
    await waitForMessage(server, await sendWhatsApp(user), ['submitted']);
    assert.equal(await wa.inbound(PHONE_NUMBER_ID, user, { text: 'Where is it?' }), 200);
    const [inbound] = await receiver.waitFor((webhook) => webhook.path === '/inbound' && webhook.json.from?.number === user);
    assert.deepEqual([inbound!.json.to, inbound!.json.message.content], [{ type: 'whatsapp', number: BUSINESS }, { type: 'text', text: 'Where is it?' }]);
  });

  test('a NUL in a user’s message (which PostgreSQL cannot store) arrives as U+FFFD, and the Cloud API gets its 200', async () => {
    const user = newUser();
    await waitForMessage(server, await sendWhatsApp(user), ['submitted']);
    assert.equal(await wa.inbound(PHONE_NUMBER_ID, user, { text: 'a\u0000b' }), 200);
    const [inbound] = await receiver.waitFor((webhook) => webhook.path === '/inbound' && webhook.json.from?.number === user);
    assert.deepEqual(inbound!.json.message.content, { type: 'text', text: 'a\uFFFDb' });
  });

  test('the corpus’s WhatsApp → SMS dispatch: a failed 131047 status moves it to the SMS at once, delivered over SMPP', async () => {
    const user = newUser();
    const { status, json } = await postJson(`${server.url}/v0.1/dispatch`, await app.bearer(), {
      template: 'failover',
      workflow: [
        { from: { type: 'whatsapp', number: BUSINESS }, to: { type: 'whatsapp', number: user }, message: { content: { type: 'text', text: 'WhatsApp first' } }, failover: { expiry_time: 600, condition_status: 'read' } },
        { from: { type: 'sms', number: '447700900000' }, to: { type: 'sms', number: user }, message: { content: { type: 'text', text: 'Then SMS' } } },
      ],
    });
    assert.equal(status, 202);
    const uuid = json.dispatch_uuid as string;
    const ofDispatch = (webhook: ReceivedWebhook) => webhook.json._links?.dispatch?.dispatch_uuid === uuid;
    await receiver.waitFor((webhook) => ofDispatch(webhook) && webhook.json.status === 'submitted');
    await wa.status(sendOf(user).wamid, 'failed', { errors: [{ code: 131047 }] });
    const [report] = await receiver.waitFor((webhook) => webhook.json.template === 'failover' && webhook.json.dispatch_uuid === uuid);
    assert.equal(report!.json.status, 'completed');
    const statuses = inEventOrder(await receiver.waitFor(ofDispatch, 4), ['whatsapp', 'sms']);
    assert.deepEqual(statuses.map((webhook) => [webhook.json.to.type, webhook.json.status]), [['whatsapp', 'submitted'], ['whatsapp', 'rejected'], ['sms', 'submitted'], ['sms', 'delivered']]);
    assert.equal(smsc.submits.filter((submit) => submit.destination === user).length, 1);
  });
});
