/**
 * The one slow dispatch test (~17 s): the real clock, the shortest expiry_time the API allows
 * (15 s). Everything else about timing is tested with the virtual clock; this checks that a
 * durable timer row really wakes the engine on time when nothing advances the clock.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './support/test-server.js';
import { WebhookReceiver, type ReceivedWebhook } from './support/webhook-receiver.js';
import { createApplication, getJson, postJson, putJson, type TestApplication } from './support/api-client.js';

let server: TestServer;
let receiver: WebhookReceiver;
let app: TestApplication;

before(async () => {
  receiver = await new WebhookReceiver().start();
  server = await startTestServer(); // the real clock
  app = await createApplication(server.url, server.basicAuth, { statusUrl: `${receiver.url}/status`, inboundUrl: `${receiver.url}/inbound` });
});

after(async () => {
  await server?.close();
  await receiver?.close();
});

test('real clock, expiry_time 15: Messenger delivered but not read, the SMS follows ~15 s after its submission', async () => {
  const recipient = '7200000001';
  const toNumber = '447700920001';
  const clock = await getJson(`${server.url}/sandbox/clock`, server.basicAuth);
  assert.equal(clock.json.clock, 'real');
  const scripted = await putJson(`${server.url}/sandbox/recipients/messenger/${recipient}`, server.basicAuth, { delivered_after: 0.2 });
  assert.equal(scripted.status, 200);

  const response = await postJson(`${server.url}/v0.1/dispatch`, await app.bearer(), {
    template: 'failover',
    workflow: [
      {
        from: { type: 'messenger', id: '1234567890' },
        to: { type: 'messenger', id: recipient },
        message: { content: { type: 'text', text: 'Read me within 15 s' } },
        failover: { expiry_time: 15, condition_status: 'read' },
      },
      {
        from: { type: 'sms', number: '447700900000' },
        to: { type: 'sms', number: toNumber },
        message: { content: { type: 'text', text: 'You did not read it' } },
      },
    ],
  });
  assert.equal(response.status, 202, JSON.stringify(response.json));
  const uuid = response.json.dispatch_uuid as string;
  const ofDispatch = (w: ReceivedWebhook) => w.json._links?.dispatch?.dispatch_uuid === uuid;
  const stepStatus = (channel: string, status: string) => (w: ReceivedWebhook) => ofDispatch(w) && w.json.to.type === channel && w.json.status === status;

  const [messengerSubmitted] = await receiver.waitFor(stepStatus('messenger', 'submitted'), 1, 5_000);
  const [messengerDelivered] = await receiver.waitFor(stepStatus('messenger', 'delivered'), 1, 5_000);
  assert.ok(Date.parse(messengerDelivered!.json.timestamp) >= Date.parse(messengerSubmitted!.json.timestamp));

  // Well before the expiry nothing has moved on.
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  assert.equal(receiver.matching(stepStatus('sms', 'submitted')).length, 0, 'no SMS 5 s into a 15 s expiry');
  const midway = await getJson(`${server.url}/v0.1/dispatch/${uuid}`, await app.bearer());
  assert.equal(midway.json.status, 'running');
  assert.deepEqual(midway.json.workflow.map((step: any) => step.state), ['in-progress', 'not-started']);

  const [smsSubmitted] = await receiver.waitFor(stepStatus('sms', 'submitted'), 1, 20_000);
  const timestampGapMs = Date.parse(smsSubmitted!.json.timestamp) - Date.parse(messengerSubmitted!.json.timestamp);
  assert.ok(timestampGapMs >= 14_500 && timestampGapMs <= 17_000, `SMS submitted ${timestampGapMs} ms after the Messenger submission (webhook timestamps)`);
  const arrivalGapMs = smsSubmitted!.at - messengerSubmitted!.at;
  assert.ok(arrivalGapMs >= 14_000, `SMS submitted webhook arrived ${arrivalGapMs} ms after the Messenger one`);
  assert.ok(arrivalGapMs <= 20_000, `SMS submitted webhook arrived ${arrivalGapMs} ms after the Messenger one`);

  const [report] = await receiver.waitFor((w) => w.json.template === 'failover' && w.json.dispatch_uuid === uuid, 1, 10_000);
  assert.equal(report!.json.status, 'completed');
  assert.deepEqual(report!.json._links.messages.map((m: any) => [m.channel, m.status]), [['messenger', 'delivered'], ['sms', 'delivered']]);
  assert.deepEqual(report!.json._links.messages.map((m: any) => m.message_uuid), [messengerSubmitted!.json.message_uuid, smsSubmitted!.json.message_uuid]);

  const timeline = await getJson(`${server.url}/v0.1/dispatch/${uuid}`, await app.bearer());
  assert.equal(timeline.json.status, 'completed');
  assert.equal(timeline.json.workflow[0].outcome.kind, 'expired');
  const expiredAfterMs = Date.parse(timeline.json.workflow[0].ended_at) - Date.parse(timeline.json.workflow[0].submitted_at);
  assert.ok(expiredAfterMs >= 15_000 && expiredAfterMs <= 17_000, `step 0 left ${expiredAfterMs} ms after its submission`);
  assert.equal(timeline.json.workflow[1].outcome.kind, 'delivered');
  assert.equal(receiver.matching((w) => w.json.template === 'failover' && w.json.dispatch_uuid === uuid).length, 1);
});
