/**
 * The Dispatch tutorial on real protocols (issue #8): the official `nexmo` SDK sends the
 * Messenger → SMS workflow; Messenger goes through a fake Graph API, SMS over SMPP to a fake
 * SMSC; what decides the failover are their real receipts (a signed read webhook, a deliver_sm).
 * The configuration names Messenger and SMS providers and nothing else, so a WhatsApp message
 * is unroutable (1250), never a silent sandbox delivery.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { FakeGraphApi } from './peers/fake-graph-api.js';
import { FakeSmsc } from './peers/fake-smsc.js';
import { advanceClock, createApplication, getJson, postJson, type TestApplication } from './support/api-client.js';
import { startTestServer, type TestServer } from './support/test-server.js';
import { inEventOrder, WebhookReceiver, type ReceivedWebhook } from './support/webhook-receiver.js';

type Json = Record<string, any>;
interface DispatchClient {
  dispatch: { create(template: string, workflow: unknown[], callback: (err: Json | null, data: Json | null) => void): void };
}
const Nexmo = createRequire(import.meta.url)('nexmo') as new (credentials: Json, options?: Json) => DispatchClient;

const PAGE = '107083064136738';
const FROM_NUMBER = '447700900000';
const EXPIRY = 60;

describe('the tutorial through the fake Graph API and the fake SMSC, sent with the nexmo SDK', () => {
  let graph: FakeGraphApi;
  let smsc: FakeSmsc;
  let server: TestServer;
  let receiver: WebhookReceiver;
  let app: TestApplication;
  let seq = 0;
  const newRecipient = () => String(7200000000000000 + ++seq);
  const newNumber = () => String(447700920000 + ++seq);

  before(async () => {
    let now: () => number = Date.now;
    graph = await FakeGraphApi.start({ appSecret: 'meta-app-secret', pages: { [PAGE]: 'page-token' }, now: () => now() });
    smsc = await FakeSmsc.start({ systemId: 'gateway', password: 'smsc-secret', autoReceipt: 'DELIVRD' });
    receiver = await new WebhookReceiver().start();
    server = await startTestServer({
      clock: 'virtual',
      configFile: {
        providers: {
          fb: { type: 'messenger', app_secret: 'meta-app-secret', verify_token: 'verify', pages: { [PAGE]: { access_token: 'page-token' } }, base_url: graph.baseUrl },
          smsc: { type: 'smpp', host: '127.0.0.1', port: smsc.port, system_id: 'gateway', password: 'smsc-secret' },
        },
        channels: { messenger: [{ via: ['fb'] }], sms: [{ via: ['smsc'] }] },
      },
    });
    const clock = server.clock!;
    now = () => clock.now();
    graph.webhookUrl = `${server.url}/webhooks/fb`;
    app = await createApplication(server.url, server.basicAuth, { statusUrl: `${receiver.url}/webhooks/status`, inboundUrl: `${receiver.url}/webhooks/inbound` });
    await smsc.waitForBinds(1);
  });
  after(async () => {
    await server.close();
    await graph.close();
    await smsc.close();
    await receiver.close();
  });

  const nexmo = () => new Nexmo({ apiKey: server.apiKey, apiSecret: server.apiSecret, applicationId: app.id, privateKey: app.privateKey }, { apiHost: 'localhost', port: server.server.port });
  const dispatch = async (recipient: string, toNumber: string) => {
    const workflow = [
      { from: { type: 'messenger', id: PAGE }, to: { type: 'messenger', id: recipient }, message: { content: { type: 'text', text: 'Dispatch API: Message 1' } }, failover: { expiry_time: EXPIRY, condition_status: 'read' } },
      { from: { type: 'sms', number: FROM_NUMBER }, to: { type: 'sms', number: toNumber }, message: { content: { type: 'text', text: 'Dispatch API: Message 2' } } },
    ];
    const { err, data } = await new Promise<{ err: Json | null; data: Json | null }>((resolve) => nexmo().dispatch.create('failover', workflow, (err, data) => resolve({ err, data })));
    assert.equal(err, null, JSON.stringify(err));
    return data!.dispatch_uuid as string;
  };
  const ofDispatch = (uuid: string) => (webhook: ReceivedWebhook) => webhook.json._links?.dispatch?.dispatch_uuid === uuid;
  const reportOf = (uuid: string) => (webhook: ReceivedWebhook) => webhook.json.template === 'failover' && webhook.json.dispatch_uuid === uuid;
  const messengerSubmitted = async (uuid: string) => (await receiver.waitFor((webhook) => ofDispatch(uuid)(webhook) && webhook.json.status === 'submitted'))[0]!;

  test('Messenger read in time: completed, and no SMS is submitted', async () => {
    const recipient = newRecipient();
    const toNumber = newNumber();
    const uuid = await dispatch(recipient, toNumber);
    await messengerSubmitted(uuid);
    await advanceClock(server.url, server.basicAuth, 10);
    const [send] = graph.sends.filter((sent) => sent.recipient.id === recipient);
    assert.equal(await graph.deliver(PAGE, recipient, { mids: [send!.mid] }), 200);
    assert.equal(await graph.read(PAGE, recipient), 200);
    const [report] = await receiver.waitFor(reportOf(uuid));
    assert.equal(report!.json.status, 'completed');
    assert.deepEqual(report!.json._links.messages.map((message: Json) => [message.channel, message.status]), [['messenger', 'read']]);
    await advanceClock(server.url, server.basicAuth, EXPIRY * 2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(smsc.submits.filter((submit) => submit.destination === toNumber), [], 'the SMS was never submitted');
    const statuses = inEventOrder(receiver.matching(ofDispatch(uuid)));
    assert.deepEqual(statuses.map((webhook) => [webhook.json.to.type, webhook.json.status]), [['messenger', 'submitted'], ['messenger', 'delivered'], ['messenger', 'read']]);
  });

  test('Messenger not read within expiry_time: the SMS goes over SMPP, is delivered by receipt, and the report lists both', async () => {
    const recipient = newRecipient();
    const toNumber = newNumber();
    const uuid = await dispatch(recipient, toNumber);
    const submitted = await messengerSubmitted(uuid);
    const [send] = graph.sends.filter((sent) => sent.recipient.id === recipient);
    await graph.deliver(PAGE, recipient, { mids: [send!.mid] });
    await receiver.waitFor((webhook) => ofDispatch(uuid)(webhook) && webhook.json.status === 'delivered');
    await advanceClock(server.url, server.basicAuth, EXPIRY - 1);
    assert.deepEqual(smsc.submits.filter((submit) => submit.destination === toNumber), [], 'nothing before the expiry');

    const submitsBefore = smsc.submits.length;
    await advanceClock(server.url, server.basicAuth, 1);
    const sms = (await smsc.waitForSubmits(submitsBefore + 1))[submitsBefore];
    assert.deepEqual([sms!.destination, sms!.source, sms!.text], [toNumber, FROM_NUMBER, 'Dispatch API: Message 2']);
    const [report] = await receiver.waitFor(reportOf(uuid));
    assert.equal(report!.json.status, 'completed');
    assert.deepEqual(report!.json._links.messages.map((message: Json) => [message.channel, message.status]), [['messenger', 'delivered'], ['sms', 'delivered']]);
    const smsStatuses = inEventOrder(await receiver.waitFor((webhook) => ofDispatch(uuid)(webhook) && webhook.json.to.type === 'sms', 2));
    assert.deepEqual(smsStatuses.map((webhook) => webhook.json.status), ['submitted', 'delivered']);
    assert.equal(Date.parse(smsStatuses[0]!.json.timestamp) - Date.parse(submitted.json.timestamp), EXPIRY * 1000, 'the SMS left when the step expired');
  });

  test('Messenger outside the 24 h window: the SMS at once', async () => {
    const recipient = newRecipient();
    const toNumber = newNumber();
    graph.failNext({ httpStatus: 400, code: 10, subcode: 2018278, message: '(#10) This message is sent outside of allowed window.' });
    const uuid = await dispatch(recipient, toNumber);
    const [report] = await receiver.waitFor(reportOf(uuid));
    assert.equal(report!.json.status, 'completed');
    const statuses = inEventOrder(await receiver.waitFor(ofDispatch(uuid), 3), ['messenger', 'sms']).map((webhook) => [webhook.json.to.type, webhook.json.status, webhook.json.error?.code]);
    assert.deepEqual(statuses, [['messenger', 'rejected', 1340], ['sms', 'submitted', undefined], ['sms', 'delivered', undefined]]);
    assert.equal(smsc.submits.filter((submit) => submit.destination === toNumber).length, 1);
  });

  test('a WhatsApp message is rejected 1250: the configuration routes only Messenger and SMS', async () => {
    const { json } = await postJson(`${server.url}/v0.1/messages`, await app.bearer(), {
      to: { type: 'whatsapp', number: newNumber() },
      from: { type: 'whatsapp', number: FROM_NUMBER },
      message: { content: { type: 'text', text: 'hi' } },
    });
    for (let i = 0; i < 200; i += 1) {
      const { json: found } = await getJson(`${server.url}/v0.1/messages/${json.message_uuid}`, server.basicAuth);
      if (!['accepted', 'queued'].includes(found.status)) {
        assert.deepEqual([found.status, found.error?.code], ['rejected', 1250], JSON.stringify(found));
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.fail('the WhatsApp message stayed queued');
  });
});
