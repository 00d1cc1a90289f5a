import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './support/test-server.js';
import { inEventOrder, WebhookReceiver, type ReceivedWebhook } from './support/webhook-receiver.js';
import { advanceClock, createApplication, getJson, postJson, putJson, type TestApplication } from './support/api-client.js';

const FB_SENDER_ID = '1234567890';
const TO_NUMBER = '447700900001';
const FROM_NUMBER = '447700900000';

/** The tutorial's curl body, with the shell variables spliced unquoted (digits → JSON numbers). */
function tutorialBody(recipientId: string, expiry = 600): string {
  return `{
  "template": "failover",
  "workflow": [
    {
      "from": {"type": "messenger", "id": ${FB_SENDER_ID}},
      "to": {"type": "messenger", "id": ${recipientId}},
      "message": {"content": {"type": "text", "text": "This is a Facebook Messenger Message sent via the Dispatch API"}},
      "failover": {"expiry_time": ${expiry}, "condition_status": "read"}
    },
    {
      "from": {"type": "sms", "number": ${FROM_NUMBER}},
      "to": {"type": "sms", "number": ${TO_NUMBER}},
      "message": {"content": {"type": "text", "text": "This is an SMS sent via the Dispatch API"}}
    }
  ]
}`;
}

describe('dispatch failover (virtual clock)', () => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  let app: TestApplication;
  let recipientSeq = 0;
  const newRecipient = () => String(9000000000 + ++recipientSeq);
  const reportOf = (uuid: string) => (w: ReceivedWebhook) => w.json.dispatch_uuid === uuid && w.json.template === 'failover';
  const statusesOf = (uuid: string) => (w: ReceivedWebhook) => w.json._links?.dispatch?.dispatch_uuid === uuid;

  before(async () => {
    receiver = await new WebhookReceiver().start();
    server = await startTestServer({ clock: 'virtual', configFile: { pricing: { channels: { sms: { default: '0.0333' }, messenger: { default: '0.001' } }, dispatch_fee: '0.002' } } });
    app = await createApplication(server.url, server.basicAuth, { statusUrl: `${receiver.url}/status`, inboundUrl: `${receiver.url}/inbound` });
  });
  after(async () => {
    await server.close();
    await receiver.close();
  });

  const send = async (body: string) => {
    const response = await postJson(`${server.url}/v0.1/dispatch`, await app.bearer(), body);
    assert.equal(response.status, 202, JSON.stringify(response.json));
    return response.json.dispatch_uuid as string;
  };
  const script = (channel: string, address: string, behaviour: unknown) => putJson(`${server.url}/sandbox/recipients/${channel}/${address}`, server.basicAuth, behaviour);

  test('Messenger read in time: completed, the SMS is never sent', async () => {
    const recipient = newRecipient();
    await script('messenger', recipient, { delivered_after: 1, read_after: 5 });
    const uuid = await send(tutorialBody(recipient));
    await advanceClock(server.url, server.basicAuth, 5);
    const [report] = await receiver.waitFor(reportOf(uuid));
    assert.equal(report!.json.status, 'completed');
    assert.equal(report!.json._links.messages.length, 1);
    assert.deepEqual(
      { channel: report!.json._links.messages[0].channel, status: report!.json._links.messages[0].status, usage: report!.json._links.messages[0].usage },
      { channel: 'messenger', status: 'read', usage: { price: '0.001', currency: 'EUR' } },
    );
    assert.deepEqual(report!.json.usage, { price: '0.003', currency: 'EUR' });
    await advanceClock(server.url, server.basicAuth, 600);
    const smsHandset = await getJson(`${server.url}/sandbox/messages?channel=sms&to=${TO_NUMBER}`, server.basicAuth);
    assert.equal(smsHandset.json.messages.filter((m: any) => m.message.content.text.includes('Dispatch API')).length, 0);
    const statuses = inEventOrder(await receiver.waitFor(statusesOf(uuid), 3)).map((w) => w.json.status);
    assert.deepEqual(statuses, ['submitted', 'delivered', 'read']);
  });

  test('Messenger not read: the SMS follows after expiry_time, then completed', async () => {
    const recipient = newRecipient();
    const uuid = await send(tutorialBody(recipient));
    await advanceClock(server.url, server.basicAuth, 599);
    assert.equal(receiver.matching(reportOf(uuid)).length, 0);
    const before = (await getJson(`${server.url}/v0.1/dispatch/${uuid}`, await app.bearer())).json;
    assert.equal(before.workflow[1].state, 'not-started');
    await advanceClock(server.url, server.basicAuth, 1);
    await receiver.waitFor((w) => statusesOf(uuid)(w) && w.json.to.type === 'sms' && w.json.status === 'submitted');
    await advanceClock(server.url, server.basicAuth, 1);
    const [report] = await receiver.waitFor(reportOf(uuid));
    assert.equal(report!.json.status, 'completed');
    assert.deepEqual(report!.json._links.messages.map((m: any) => [m.channel, m.status]), [['messenger', 'delivered'], ['sms', 'delivered']]);
    assert.deepEqual(report!.json.usage, { price: '0.0363', currency: 'EUR' });
    const timeline = (await getJson(`${server.url}/v0.1/dispatch/${uuid}`, await app.bearer())).json;
    assert.equal(timeline.status, 'completed');
    assert.equal(timeline.workflow[0].outcome.kind, 'expired');
    assert.equal(timeline.workflow[1].outcome.kind, 'delivered');
    assert.equal(Date.parse(timeline.workflow[1].started_at) - Date.parse(timeline.workflow[0].submitted_at), 600_000);
  });

  test('Messenger rejected: the SMS is sent at once', async () => {
    const recipient = newRecipient();
    await script('messenger', recipient, { reject: { code: 1020, reason: 'Invalid params' } });
    const uuid = await send(tutorialBody(recipient));
    const [sms] = await receiver.waitFor((w) => statusesOf(uuid)(w) && w.json.to.type === 'sms' && w.json.status === 'submitted');
    const [rejected] = receiver.matching((w) => statusesOf(uuid)(w) && w.json.status === 'rejected');
    assert.deepEqual(rejected!.json.error, { code: 1020, reason: 'Invalid params' });
    assert.equal(sms!.json.timestamp, rejected!.json.timestamp, 'no time passed between the rejection and the SMS');
  });

  test('last step undeliverable: the dispatch ends in error', async () => {
    const recipient = newRecipient();
    const smsTo = '447700900777';
    await script('messenger', recipient, { reject: { code: 1020 } });
    await script('sms', smsTo, { undeliverable_after: 2, error: { code: 1300, reason: 'Not part of the provider network' } });
    const uuid = await send(tutorialBody(recipient).replace(TO_NUMBER, smsTo));
    await receiver.waitFor((w) => statusesOf(uuid)(w) && w.json.to.type === 'sms' && w.json.status === 'submitted');
    await advanceClock(server.url, server.basicAuth, 2);
    const [report] = await receiver.waitFor(reportOf(uuid));
    assert.equal(report!.json.status, 'error');
    assert.deepEqual(report!.json._links.messages.map((m: any) => [m.channel, m.status]), [['messenger', 'rejected'], ['sms', 'undeliverable']]);
    assert.deepEqual(report!.json.usage, { price: '0.002', currency: 'EUR' });
  });

  test('status webhooks carry _links.dispatch and _links.workflow', async () => {
    const uuid = await send(tutorialBody(newRecipient()));
    const [submitted] = await receiver.waitFor((w) => statusesOf(uuid)(w) && w.json.status === 'submitted');
    assert.deepEqual(submitted!.json._links, {
      dispatch: { href: `v0.1/dispatch/${uuid}`, dispatch_uuid: uuid },
      workflow: { href: `v0.1/dispatch/${uuid}`, dispatch_uuid: uuid },
    });
  });

  test('bad workflows are 400 naming the field; unknown dispatches 404', async () => {
    const bad = tutorialBody(newRecipient()).replace('"expiry_time": 600', '"expiry_time": 5');
    const response = await postJson(`${server.url}/v0.1/dispatch`, await app.bearer(), bad);
    assert.equal(response.status, 400);
    assert.deepEqual(response.json.invalid_parameters.map((p: any) => p.name), ['workflow[0].failover.expiry_time']);
    const missing = await getJson(`${server.url}/v0.1/dispatch/00000000-0000-0000-0000-000000000000`, await app.bearer());
    assert.equal(missing.status, 404);
  });

  test('path variants and Basic auth are accepted', async () => {
    for (const path of ['/v0.1/dispatch/', '/v0.1/dispatch?']) {
      const response = await postJson(`${server.url}${path}`, server.basicAuth, tutorialBody(newRecipient()));
      assert.equal(response.status, 202, path);
    }
  });
});
