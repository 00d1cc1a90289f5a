/**
 * Dispatch edge cases over HTTP, on the virtual clock: malformed workflows, visibility across
 * applications and accounts, the GET timeline, a three-step walk, late receipts, a receipt racing
 * the expiry timer, and the last step's ceiling.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './support/test-server.js';
import { inEventOrder, WebhookReceiver, type ReceivedWebhook } from './support/webhook-receiver.js';
import { advanceClock, createApplication, getJson, postJson, putJson, type TestApplication } from './support/api-client.js';

type Json = Record<string, any>;

const FB_SENDER_ID = '1234567890';
const FROM_NUMBER = '447700900000';

const messengerStep = (recipient: string, failover?: Json): Json => ({
  from: { type: 'messenger', id: FB_SENDER_ID },
  to: { type: 'messenger', id: recipient },
  message: { content: { type: 'text', text: 'This is a Facebook Messenger Message sent via the Dispatch API' } },
  ...(failover && { failover }),
});
const smsStep = (to: string, failover?: Json): Json => ({
  from: { type: 'sms', number: FROM_NUMBER },
  to: { type: 'sms', number: to },
  message: { content: { type: 'text', text: 'This is an SMS sent via the Dispatch API' } },
  ...(failover && { failover }),
});
const whatsappStep = (to: string, failover?: Json): Json => ({
  from: { type: 'whatsapp', number: '447700900002' },
  to: { type: 'whatsapp', number: to },
  message: { content: { type: 'text', text: 'A WhatsApp message' } },
  ...(failover && { failover }),
});
const viberStep = (to: string, failover?: Json): Json => ({
  from: { type: 'viber_service_msg', id: 'OpenDispatch' },
  to: { type: 'viber_service_msg', number: to },
  message: { content: { type: 'text', text: 'A Viber service message' } },
  ...(failover && { failover }),
});
const tutorial = (recipient = '7300000000', smsTo = '447700930000', expiry: unknown = 600): Json => ({
  template: 'failover',
  workflow: [messengerStep(recipient, { expiry_time: expiry, condition_status: 'read' }), smsStep(smsTo)],
});

let seq = 0;
const newRecipient = () => String(7300000000 + ++seq);
const newNumber = () => String(447700930000 + ++seq);

const ofDispatch = (uuid: string) => (w: ReceivedWebhook) => w.json._links?.dispatch?.dispatch_uuid === uuid;
const reportOf = (uuid: string) => (w: ReceivedWebhook) => w.json.template === 'failover' && w.json.dispatch_uuid === uuid;
const stepStatus = (uuid: string, channel: string, status: string) => (w: ReceivedWebhook) => ofDispatch(uuid)(w) && w.json.to.type === channel && w.json.status === status;
const isoPlus = (iso: string, seconds: number) => new Date(Date.parse(iso) + seconds * 1000).toISOString();

describe('dispatch faults and edge cases (virtual clock)', () => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  let app: TestApplication;
  let otherApp: TestApplication;

  before(async () => {
    receiver = await new WebhookReceiver().start();
    server = await startTestServer({ clock: 'virtual' });
    const webhooks = { statusUrl: `${receiver.url}/status`, inboundUrl: `${receiver.url}/inbound` };
    app = await createApplication(server.url, server.basicAuth, webhooks);
    otherApp = await createApplication(server.url, server.basicAuth, webhooks);
  });
  after(async () => {
    await server?.close();
    await receiver?.close();
  });

  const send = async (body: Json): Promise<string> => {
    const response = await postJson(`${server.url}/v0.1/dispatch`, await app.bearer(), body);
    assert.equal(response.status, 202, JSON.stringify(response.json));
    return response.json.dispatch_uuid as string;
  };
  const script = async (channel: string, address: string, behaviour: Json) => {
    const response = await putJson(`${server.url}/sandbox/recipients/${channel}/${address}`, server.basicAuth, behaviour);
    assert.equal(response.status, 200, JSON.stringify(response.json));
  };
  const advance = (seconds: number) => advanceClock(server.url, server.basicAuth, seconds);
  const timeline = async (uuid: string): Promise<Json> => {
    const response = await getJson(`${server.url}/v0.1/dispatch/${uuid}`, await app.bearer());
    assert.equal(response.status, 200, JSON.stringify(response.json));
    return response.json;
  };
  const handset = async (channel: string, to: string): Promise<Json[]> =>
    (await getJson(`${server.url}/sandbox/messages?channel=${channel}&to=${to}`, server.basicAuth)).json.messages;

  describe('malformed workflows are 400 naming the field', () => {
    const withStep = (index: number, change: (step: Json) => void) => () => {
      const body = tutorial();
      change(body.workflow[index]);
      return body;
    };
    const cases: Array<[string, () => Json | string, string[]]> = [
      ['an empty JSON object', () => ({}), ['workflow']],
      ['a body of zero bytes', () => '', ['workflow']],
      ['a JSON array', () => '[]', ['body']],
      ['invalid JSON', () => '{"template": "failover",', ['body']],
      ['template missing', () => ({ workflow: tutorial().workflow }), ['template']],
      ['template other than failover', () => ({ ...tutorial(), template: 'fallback' }), ['template']],
      ['workflow missing', () => ({ template: 'failover' }), ['workflow']],
      ['workflow not an array', () => ({ template: 'failover', workflow: tutorial().workflow[1] }), ['workflow']],
      ['workflow empty', () => ({ template: 'failover', workflow: [] }), ['workflow']],
      ['workflow of nulls only', () => ({ template: 'failover', workflow: [null, null] }), ['workflow']],
      [
        '11 steps',
        () => ({ template: 'failover', workflow: [...Array.from({ length: 10 }, () => messengerStep('7399999999', { expiry_time: 60, condition_status: 'read' })), smsStep('447700939999')] }),
        ['workflow'],
      ],
      ['a step that is not an object', () => ({ template: 'failover', workflow: [tutorial().workflow[0], 'sms'] }), ['workflow[1]']],
      ['failover on the last step', withStep(1, (s) => (s.failover = { expiry_time: 600, condition_status: 'delivered' })), ['workflow[1].failover']],
      ['failover missing on a step that is not the last', withStep(0, (s) => delete s.failover), ['workflow[0].failover']],
      ['failover null on a step that is not the last', withStep(0, (s) => (s.failover = null)), ['workflow[0].failover']],
      ['failover not an object', withStep(0, (s) => (s.failover = 600)), ['workflow[0].failover']],
      ['expiry_time missing', withStep(0, (s) => delete s.failover.expiry_time), ['workflow[0].failover.expiry_time']],
      ['expiry_time 14', withStep(0, (s) => (s.failover.expiry_time = 14)), ['workflow[0].failover.expiry_time']],
      ['expiry_time 86401', withStep(0, (s) => (s.failover.expiry_time = 86_401)), ['workflow[0].failover.expiry_time']],
      ['expiry_time 60.5', withStep(0, (s) => (s.failover.expiry_time = 60.5)), ['workflow[0].failover.expiry_time']],
      ['expiry_time a word', withStep(0, (s) => (s.failover.expiry_time = 'ten minutes')), ['workflow[0].failover.expiry_time']],
      ['expiry_time a numeric string out of range', withStep(0, (s) => (s.failover.expiry_time = '5')), ['workflow[0].failover.expiry_time']],
      ['condition_status missing', withStep(0, (s) => delete s.failover.condition_status), ['workflow[0].failover.condition_status']],
      ['condition_status unknown', withStep(0, (s) => (s.failover.condition_status = 'seen')), ['workflow[0].failover.condition_status']],
      [
        'an SMS step asking for read',
        () => ({ template: 'failover', workflow: [smsStep('447700939998', { expiry_time: 60, condition_status: 'read' }), messengerStep('7399999998')] }),
        ['workflow[0].failover.condition_status'],
      ],
      [
        'an MMS step asking for read',
        () => ({
          template: 'failover',
          workflow: [
            { from: { type: 'mms', number: '14155550100' }, to: { type: 'mms', number: '14155550101' }, message: { content: { type: 'image', image: { url: 'https://example.com/a.jpg' } } }, failover: { expiry_time: 60, condition_status: 'read' } },
            smsStep('447700939997'),
          ],
        }),
        ['workflow[0].failover.condition_status'],
      ],
      ['messenger to with a number instead of an id', withStep(0, (s) => (s.to = { type: 'messenger', number: '447700900001' })), ['workflow[0].to.id']],
      ['messenger from id missing (an unset env var)', withStep(0, (s) => (s.from = { type: 'messenger' })), ['workflow[0].from.id']],
      ['messenger to id of 51 characters', withStep(0, (s) => (s.to.id = '1'.repeat(51))), ['workflow[0].to.id']],
      ['sms to with a leading +', withStep(1, (s) => (s.to.number = '+447700900001')), ['workflow[1].to.number']],
      ['sms to not a number', withStep(1, (s) => (s.to.number = 'TO_NUMBER')), ['workflow[1].to.number']],
      ['sms from a sender ID longer than 11 characters', withStep(1, (s) => (s.from.number = 'OpenDispatch1')), ['workflow[1].from.number']],
      ['sms to a JSON number with a fraction', withStep(1, (s) => (s.to.number = 447700900001.5)), ['workflow[1].to.number']],
      ['whatsapp to not E.164', withStep(1, (s) => Object.assign(s, whatsappStep('00447700900001'))), ['workflow[1].to.number']],
      ['whatsapp from with an id instead of a number', withStep(1, (s) => Object.assign(s, whatsappStep('447700900001'), { from: { type: 'whatsapp', id: 'biz' } })), ['workflow[1].from.number']],
      ['viber to with an id instead of a number', withStep(1, (s) => Object.assign(s, viberStep('447700900001'), { to: { type: 'viber_service_msg', id: 'user' } })), ['workflow[1].to.number']],
      ['viber from with a number instead of an id', withStep(1, (s) => Object.assign(s, viberStep('447700900001'), { from: { type: 'viber_service_msg', number: '447700900000' } })), ['workflow[1].from.id']],
      ['to.type unknown', withStep(0, (s) => (s.to.type = 'telegram')), ['workflow[0].to.type']],
      ['from.type not the same as to.type', withStep(1, (s) => (s.from = { type: 'messenger', id: FB_SENDER_ID })), ['workflow[1].from.type']],
      ['to missing', withStep(0, (s) => delete s.to), ['workflow[0].to']],
      ['message missing', withStep(1, (s) => delete s.message), ['workflow[1].message']],
      ['SMS content that is an image', withStep(1, (s) => (s.message.content = { type: 'image', image: { url: 'https://example.com/a.jpg' } })), ['workflow[1].message.content.type']],
      [
        'every bad field at once, under the index the client sent (nulls skipped)',
        () => ({ template: 'failover', workflow: [messengerStep('7399999997', { expiry_time: 5, condition_status: 'read' }), null, smsStep('+44')] }),
        ['workflow[0].failover.expiry_time', 'workflow[2].to.number'],
      ],
    ];

    for (const [label, body, names] of cases) {
      test(label, async () => {
        const response = await postJson(`${server.url}/v0.1/dispatch`, await app.bearer(), body());
        assert.equal(response.status, 400, JSON.stringify(response.json));
        assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
        assert.equal(response.json.type, 'https://www.nexmo.com/messages/Errors#InvalidParams');
        assert.equal(response.json.title, "Your request parameters didn't validate.");
        assert.equal(response.json.detail, `Found errors validating ${names.length} of your submitted parameters.`);
        assert.equal(response.json.instance, response.headers.get('x-nexmo-trace-id'));
        assert.deepEqual(response.json.invalid_parameters.map((p: Json) => p.name), names);
        for (const parameter of response.json.invalid_parameters) assert.ok(typeof parameter.reason === 'string' && parameter.reason.length > 0);
      });
    }

    test('an empty body and {} both give the real API\'s reason', async () => {
      for (const body of ['', '{}']) {
        const response = await postJson(`${server.url}/v0.1/dispatch`, await app.bearer(), body);
        assert.equal(response.status, 400);
        assert.deepEqual(response.json.invalid_parameters, [{ name: 'workflow', reason: 'The workflow JSON Object cannot be empty' }], JSON.stringify(body));
      }
    });

    test('the reasons say what is allowed', async () => {
      const reasonFor = async (body: Json) => (await postJson(`${server.url}/v0.1/dispatch`, await app.bearer(), body)).json.invalid_parameters[0].reason as string;
      assert.match(await reasonFor({ template: 'failover', workflow: Array.from({ length: 11 }, (_, i) => (i < 10 ? messengerStep('7399999999', { expiry_time: 60, condition_status: 'read' }) : smsStep('447700939999'))) }), /1 to 10/);
      assert.match(await reasonFor(withStep(0, (s) => (s.failover.expiry_time = 14))()), /15 to 86400/);
      assert.match(await reasonFor({ template: 'failover', workflow: [smsStep('447700939998', { expiry_time: 60, condition_status: 'read' }), messengerStep('7399999998')] }), /delivered/);
      assert.match(await reasonFor(withStep(1, (s) => (s.failover = { expiry_time: 60, condition_status: 'delivered' }))()), /last step/);
    });

    test('nothing was sent for any rejected request', async () => {
      for (const [channel, to] of [['messenger', '7399999999'], ['messenger', '7399999997'], ['messenger', '7300000000'], ['sms', '447700939999']] as const) {
        assert.deepEqual(await handset(channel, to), [], `${channel} ${to}`);
      }
    });

    test('accepted leniencies: expiry_time as a numeric string, 10 steps, a trailing null, digit-only JSON numbers', async () => {
      const recipient = newRecipient();
      const stringExpiry = await send(tutorial(recipient, newNumber(), '600'));
      const view = await timeline(stringExpiry);
      assert.deepEqual(view.workflow[0].failover, { condition_status: 'read', expiry_time: 600 });
      assert.equal(view.workflow[1].failover, undefined);

      const tenSteps = await send({
        template: 'failover',
        workflow: [...Array.from({ length: 9 }, () => messengerStep(newRecipient(), { expiry_time: 15, condition_status: 'read' })), smsStep(newNumber())],
      });
      assert.equal((await timeline(tenSteps)).workflow.length, 10);

      const nulls = await send({ template: 'failover', workflow: [null, messengerStep(newRecipient(), { expiry_time: 60, condition_status: 'delivered' }), null, smsStep(newNumber()), null] });
      assert.deepEqual((await timeline(nulls)).workflow.map((s: Json) => s.channel), ['messenger', 'sms']);

      const numbers = await send({
        template: 'failover',
        workflow: [messengerStep(newRecipient(), { expiry_time: 600, condition_status: 'read' }), { ...smsStep('x'), to: { type: 'sms', number: 447700939996 } }],
      });
      assert.deepEqual((await timeline(numbers)).workflow[1].to, { type: 'sms', number: '447700939996' });
    });
  });

  describe('visibility of GET /v0.1/dispatch/{uuid}', () => {
    test('another application\'s JWT and another account\'s Basic auth get 404; the owner and its account see it', async () => {
      const uuid = await send(tutorial(newRecipient(), newNumber()));
      const url = `${server.url}/v0.1/dispatch/${uuid}`;

      const own = await getJson(url, await app.bearer());
      assert.equal(own.status, 200);
      assert.equal(own.json.dispatch_uuid, uuid);
      const sameAccountBasic = await getJson(url, server.basicAuth);
      assert.equal(sameAccountBasic.status, 200);

      const otherApplication = await getJson(url, await otherApp.bearer());
      assert.equal(otherApplication.status, 404);
      assert.equal(otherApplication.json.title, 'Not Found');
      assert.equal(otherApplication.json.type, 'https://developer.nexmo.com/api-errors#not-found');

      const otherAccount = await server.createAccount();
      const otherBasic = await getJson(url, otherAccount.basicAuth);
      assert.equal(otherBasic.status, 404);
      const otherAccountApp = await createApplication(server.url, otherAccount.basicAuth, { statusUrl: `${receiver.url}/status`, inboundUrl: `${receiver.url}/inbound` });
      assert.equal((await getJson(url, await otherAccountApp.bearer())).status, 404);
      // Same answer as for a dispatch that does not exist: nothing tells the two apart.
      const missing = await getJson(`${server.url}/v0.1/dispatch/6f1c1c2e-0000-4000-8000-000000000000`, otherAccount.basicAuth);
      assert.equal(missing.status, 404);
      assert.deepEqual({ ...otherBasic.json, instance: undefined, detail: undefined }, { ...missing.json, instance: undefined, detail: undefined });
      assert.ok(!JSON.stringify(otherBasic.json).includes(FB_SENDER_ID));

      const noAuth = await fetch(url);
      assert.equal(noAuth.status, 401);
    });
  });

  describe('the GET timeline', () => {
    test('condition met: when it was sent, each status with its time, and why it ended', async () => {
      const recipient = newRecipient();
      await script('messenger', recipient, { delivered_after: 2, read_after: 7 });
      const uuid = await send(tutorial(recipient, newNumber()));
      const [submitted] = await receiver.waitFor(stepStatus(uuid, 'messenger', 'submitted'));
      // One receipt per advance, so each is checked on its own.
      await advance(2);
      await receiver.waitFor(stepStatus(uuid, 'messenger', 'delivered'));
      await advance(5);
      const [report] = await receiver.waitFor(reportOf(uuid));
      assert.equal(report!.json.status, 'completed');
      const t0 = submitted!.json.timestamp as string;

      const view = await timeline(uuid);
      assert.equal(view.status, 'completed');
      assert.equal(view.ended_at, isoPlus(t0, 7));
      assert.equal(view.late_receipts, 0);
      assert.deepEqual(view._links, { self: { href: `/v0.1/dispatch/${uuid}` } });
      const [step0, step1] = view.workflow;
      assert.deepEqual(
        { ...step0, statuses: undefined },
        {
          step: 0,
          channel: 'messenger',
          to: { type: 'messenger', id: recipient },
          from: { type: 'messenger', id: FB_SENDER_ID },
          failover: { condition_status: 'read', expiry_time: 600 },
          state: 'ended',
          message_uuid: submitted!.json.message_uuid,
          started_at: t0,
          submitted_at: t0,
          message_status: 'read',
          statuses: undefined,
          ended_at: isoPlus(t0, 7),
          outcome: { kind: 'condition-met', status: 'read', description: 'condition read met (read): the workflow completed' },
        },
      );
      assert.deepEqual(step0.statuses, [
        { status: 'submitted', timestamp: t0 },
        { status: 'delivered', timestamp: isoPlus(t0, 2) },
        { status: 'read', timestamp: isoPlus(t0, 7) },
      ]);
      assert.deepEqual(step1, { step: 1, channel: 'sms', to: step1.to, from: { type: 'sms', number: FROM_NUMBER }, state: 'not-started' });
    });

    test('expired: the next step starts expiry_time after submission, and the timeline says why', async () => {
      const recipient = newRecipient();
      const smsTo = newNumber();
      const uuid = await send(tutorial(recipient, smsTo, 30));
      const [submitted] = await receiver.waitFor(stepStatus(uuid, 'messenger', 'submitted'));
      const t0 = submitted!.json.timestamp as string;
      await advance(1);
      await receiver.waitFor(stepStatus(uuid, 'messenger', 'delivered'));
      await advance(29);
      await receiver.waitFor(stepStatus(uuid, 'sms', 'submitted'));
      await advance(1);
      await receiver.waitFor(reportOf(uuid));

      const view = await timeline(uuid);
      const [step0, step1] = view.workflow;
      assert.equal(step0.state, 'ended');
      assert.equal(step0.message_status, 'delivered');
      assert.equal(step0.ended_at, isoPlus(t0, 30));
      assert.deepEqual(step0.outcome, { kind: 'expired', description: 'condition read not met within 30 s of submission: moved to the next step' });
      assert.deepEqual(step0.statuses.map((s: Json) => [s.status, s.timestamp]), [['submitted', t0], ['delivered', isoPlus(t0, 1)]]);
      assert.equal(step1.state, 'ended');
      assert.equal(step1.started_at, isoPlus(t0, 30));
      assert.equal(step1.submitted_at, isoPlus(t0, 30));
      assert.deepEqual(step1.statuses.map((s: Json) => [s.status, s.timestamp]), [['submitted', isoPlus(t0, 30)], ['delivered', isoPlus(t0, 31)]]);
      assert.deepEqual(step1.outcome, { kind: 'delivered', status: 'delivered', description: 'last step delivered: the workflow completed' });
      assert.equal(view.status, 'completed');
      assert.equal(view.ended_at, isoPlus(t0, 31));
    });

    test('rejected when sent: the next step starts at once, the timeline names the code', async () => {
      const recipient = newRecipient();
      await script('messenger', recipient, { reject: { code: 1340, reason: 'Outside of the allowed window' } });
      const uuid = await send(tutorial(recipient, newNumber()));
      const [rejected] = await receiver.waitFor(stepStatus(uuid, 'messenger', 'rejected'));
      const [sms] = await receiver.waitFor(stepStatus(uuid, 'sms', 'submitted'));
      assert.deepEqual(rejected!.json.error, { code: 1340, reason: 'Outside of the allowed window' });
      assert.equal(sms!.json.timestamp, rejected!.json.timestamp);
      await advance(1);
      const [report] = await receiver.waitFor(reportOf(uuid));
      assert.deepEqual(report!.json._links.messages.map((m: Json) => [m.channel, m.status]), [['messenger', 'rejected'], ['sms', 'delivered']]);

      const [step0, step1] = (await timeline(uuid)).workflow;
      assert.equal(step0.state, 'ended');
      assert.equal(step0.message_status, 'rejected');
      assert.deepEqual(step0.statuses, [{ status: 'rejected', timestamp: rejected!.json.timestamp, error: { code: 1340, reason: 'Outside of the allowed window' } }]);
      assert.equal(step0.ended_at, rejected!.json.timestamp);
      assert.deepEqual(step0.outcome, {
        kind: 'send-failed',
        error: { code: 1340, reason: 'Outside of the allowed window' },
        description: 'send failed (1340 Outside of the allowed window): moved to the next step at once',
      });
      assert.equal(step1.started_at, rejected!.json.timestamp);
    });

    test('undeliverable after submission: the next step starts at once, the timeline names the code', async () => {
      const recipient = newRecipient();
      await script('messenger', recipient, { undeliverable_after: 4, error: { code: 1300, reason: 'Not part of the provider network' } });
      const uuid = await send(tutorial(recipient, newNumber()));
      const [submitted] = await receiver.waitFor(stepStatus(uuid, 'messenger', 'submitted'));
      await advance(4);
      const [sms] = await receiver.waitFor(stepStatus(uuid, 'sms', 'submitted'));
      const t0 = submitted!.json.timestamp as string;
      assert.equal(sms!.json.timestamp, isoPlus(t0, 4));
      const [step0] = (await timeline(uuid)).workflow;
      assert.deepEqual(step0.outcome, {
        kind: 'failed',
        status: 'undeliverable',
        error: { code: 1300, reason: 'Not part of the provider network' },
        description: 'undeliverable (1300 Not part of the provider network): moved to the next step at once',
      });
      assert.deepEqual(step0.statuses.map((s: Json) => s.status), ['submitted', 'undeliverable']);
    });
  });

  test('three steps (whatsapp read → viber delivered → sms) walk all the way to the SMS', async () => {
    const whatsappTo = newNumber();
    const viberTo = newNumber();
    const smsTo = newNumber();
    await script('whatsapp', whatsappTo, { delivered_after: 1 });
    await script('viber_service_msg', viberTo, { silent: true });
    const uuid = await send({
      template: 'failover',
      workflow: [
        whatsappStep(whatsappTo, { expiry_time: 60, condition_status: 'read' }),
        viberStep(viberTo, { expiry_time: 30, condition_status: 'delivered' }),
        smsStep(smsTo),
      ],
    });
    const [whatsapp] = await receiver.waitFor(stepStatus(uuid, 'whatsapp', 'submitted'));
    const t0 = whatsapp!.json.timestamp as string;
    await advance(59);
    assert.equal(receiver.matching(stepStatus(uuid, 'viber_service_msg', 'submitted')).length, 0);
    await advance(1);
    const [viber] = await receiver.waitFor(stepStatus(uuid, 'viber_service_msg', 'submitted'));
    assert.equal(viber!.json.timestamp, isoPlus(t0, 60));
    assert.deepEqual(viber!.json.from, { type: 'viber_service_msg', id: 'OpenDispatch' });
    await advance(29);
    assert.equal(receiver.matching(stepStatus(uuid, 'sms', 'submitted')).length, 0);
    await advance(1);
    const [sms] = await receiver.waitFor(stepStatus(uuid, 'sms', 'submitted'));
    assert.equal(sms!.json.timestamp, isoPlus(t0, 90));
    await advance(1);
    const [report] = await receiver.waitFor(reportOf(uuid));
    assert.equal(report!.json.status, 'completed');
    assert.equal(report!.json.timestamp, isoPlus(t0, 91));
    assert.deepEqual(report!.json._links.messages.map((m: Json) => [m.channel, m.status]), [['whatsapp', 'delivered'], ['viber_service_msg', 'submitted'], ['sms', 'delivered']]);
    assert.deepEqual(
      inEventOrder(await receiver.waitFor(ofDispatch(uuid), 5), ['whatsapp', 'viber_service_msg', 'sms']).map((w) => [w.json.to.type, w.json.status, (Date.parse(w.json.timestamp) - Date.parse(t0)) / 1000]),
      [['whatsapp', 'submitted', 0], ['whatsapp', 'delivered', 1], ['viber_service_msg', 'submitted', 60], ['sms', 'submitted', 90], ['sms', 'delivered', 91]],
    );
    const view = await timeline(uuid);
    assert.deepEqual(view.workflow.map((s: Json) => [s.channel, s.state, s.outcome.kind, s.started_at]), [
      ['whatsapp', 'ended', 'expired', t0],
      ['viber_service_msg', 'ended', 'expired', isoPlus(t0, 60)],
      ['sms', 'ended', 'delivered', isoPlus(t0, 90)],
    ]);
    assert.equal(view.workflow[1].outcome.description, 'condition delivered not met within 30 s of submission: moved to the next step');
    for (const [channel, to] of [['whatsapp', whatsappTo], ['viber_service_msg', viberTo], ['sms', smsTo]] as const) {
      assert.equal((await handset(channel, to)).length, 1, `${channel} received exactly one message`);
    }
  });

  test('late receipts: a read after the expiry is still POSTed with _links.dispatch, never revives the step, and is counted', async () => {
    const recipient = newRecipient();
    const smsTo = newNumber();
    await script('messenger', recipient, { delivered_after: 1, read_after: 700 });
    const uuid = await send(tutorial(recipient, smsTo, 600));
    const [submitted] = await receiver.waitFor(stepStatus(uuid, 'messenger', 'submitted'));
    const t0 = submitted!.json.timestamp as string;
    await advance(1);
    await receiver.waitFor(stepStatus(uuid, 'messenger', 'delivered'));
    await advance(599);
    const [sms] = await receiver.waitFor(stepStatus(uuid, 'sms', 'submitted'));
    assert.equal(sms!.json.timestamp, isoPlus(t0, 600));
    await advance(1);
    const [report] = await receiver.waitFor(reportOf(uuid));
    assert.equal(report!.json.status, 'completed');
    assert.deepEqual(report!.json._links.messages.map((m: Json) => [m.channel, m.status]), [['messenger', 'delivered'], ['sms', 'delivered']]);
    const decided = await timeline(uuid);
    assert.equal(decided.late_receipts, 0);

    await advance(99);
    const [read] = await receiver.waitFor(stepStatus(uuid, 'messenger', 'read'));
    assert.equal(read!.json.timestamp, isoPlus(t0, 700));
    assert.equal(read!.json.message_uuid, submitted!.json.message_uuid);
    assert.deepEqual(read!.json._links.dispatch, { href: `v0.1/dispatch/${uuid}`, dispatch_uuid: uuid });

    const view = await timeline(uuid);
    assert.equal(view.status, 'completed');
    assert.equal(view.ended_at, decided.ended_at);
    assert.equal(view.late_receipts, 1);
    assert.deepEqual(view.workflow[0].outcome, decided.workflow[0].outcome);
    assert.equal(view.workflow[0].outcome.kind, 'expired');
    assert.equal(view.workflow[0].message_status, 'read');
    assert.deepEqual(view.workflow[0].statuses.at(-1), { status: 'read', timestamp: isoPlus(t0, 700) });
    assert.deepEqual(view.workflow[1], decided.workflow[1]);
    // One report, one SMS, and nothing new after the late read.
    await advance(600);
    assert.equal(receiver.matching(reportOf(uuid)).length, 1);
    assert.equal((await handset('sms', smsTo)).length, 1);
    assert.equal(receiver.matching(ofDispatch(uuid)).length, 5);
  });

  test('a late receipt while the next step still runs is counted and does not end the dispatch', async () => {
    const recipient = newRecipient();
    const smsTo = newNumber();
    await script('messenger', recipient, { delivered_after: 1, read_after: 50 });
    await script('sms', smsTo, { silent: true });
    const uuid = await send(tutorial(recipient, smsTo, 30));
    await receiver.waitFor(stepStatus(uuid, 'messenger', 'submitted'));
    await advance(1);
    await receiver.waitFor(stepStatus(uuid, 'messenger', 'delivered'));
    await advance(29);
    await receiver.waitFor(stepStatus(uuid, 'sms', 'submitted'));
    await advance(20);
    await receiver.waitFor(stepStatus(uuid, 'messenger', 'read'));
    const view = await timeline(uuid);
    assert.equal(view.status, 'running');
    assert.equal(view.late_receipts, 1);
    assert.deepEqual(view.workflow.map((s: Json) => s.state), ['ended', 'in-progress']);
    assert.equal(receiver.matching(reportOf(uuid)).length, 0);
  });

  test('a read and the expiry timer due at the same instant: the read wins, every time', async () => {
    // Several runs, so that a race between the two would show. A follow-up due no later than a
    // timer of its step is decided first (DESIGN §3): the condition is met at 600 s.
    for (let run = 0; run < 6; run += 1) {
      const recipient = newRecipient();
      const smsTo = newNumber();
      await script('messenger', recipient, { delivered_after: 1, read_after: 600 });
      const uuid = await send(tutorial(recipient, smsTo, 600));
      const [submitted] = await receiver.waitFor(stepStatus(uuid, 'messenger', 'submitted'));
      const t0 = submitted!.json.timestamp as string;
      await advance(1);
      await receiver.waitFor(stepStatus(uuid, 'messenger', 'delivered'));
      // Now only the read (scripted at 600 s) and the expiry timer (600 s) are due, at one instant.
      await advance(599);
      await receiver.waitFor(stepStatus(uuid, 'messenger', 'read'));
      const [report] = await receiver.waitFor(reportOf(uuid));
      await advance(600);
      assert.equal(receiver.matching(reportOf(uuid)).length, 1, 'exactly one final report');
      assert.equal(report!.json.status, 'completed');
      assert.equal(report!.json.timestamp, isoPlus(t0, 600));
      assert.deepEqual(report!.json._links.messages.map((m: Json) => [m.channel, m.status]), [['messenger', 'read']]);
      assert.equal(receiver.matching(stepStatus(uuid, 'sms', 'submitted')).length, 0, `run ${run}: the SMS was never sent`);
      assert.deepEqual(await handset('sms', smsTo), []);
      const view = await timeline(uuid);
      assert.equal(view.workflow[0].outcome.kind, 'condition-met');
      assert.equal(view.workflow[1].state, 'not-started');
      assert.equal(view.late_receipts, 0);
    }
  });

  test('a step whose provider fails transiently past expiry_time is given up at expiry; the next step starts then', async () => {
    const recipient = newRecipient();
    const smsTo = newNumber();
    await script('messenger', recipient, { transient_failures: 100, retry_after: 10 });
    const t0 = Date.parse((await getJson(`${server.url}/sandbox/clock`, server.basicAuth)).json.now);
    const uuid = await send(tutorial(recipient, smsTo, 15));
    await advance(14);
    assert.equal(receiver.matching(ofDispatch(uuid)).length, 0, 'still trying within the window: no status yet');
    await advance(1);
    const [rejected] = await receiver.waitFor(stepStatus(uuid, 'messenger', 'rejected'));
    assert.deepEqual(rejected!.json.error, { code: 1100, reason: 'Communication failed: not accepted by the provider within the step window' });
    const [sms] = await receiver.waitFor(stepStatus(uuid, 'sms', 'submitted'));
    assert.equal(sms!.json.timestamp, new Date(t0 + 15_000).toISOString());
    await advance(30);
    const [report] = await receiver.waitFor(reportOf(uuid));
    assert.deepEqual(report!.json._links.messages.map((m: Json) => [m.channel, m.status]), [['messenger', 'rejected'], ['sms', 'delivered']]);
    const [step0] = (await timeline(uuid)).workflow;
    assert.equal(step0.outcome.kind, 'not-submitted');
    const messenger = (await getJson(`${server.url}/v0.1/messages/${step0.message_uuid}`, server.basicAuth)).json;
    assert.deepEqual(messenger.attempts.map((a: Json) => [Date.parse(a.timestamp) - t0, a.outcome]), [[0, 'failed'], [10_000, 'failed']], 'no try after the step was given up');
  });

  test('a step whose provider fails transiently within the window is retried; the expiry runs from its submission', async () => {
    const recipient = newRecipient();
    const smsTo = newNumber();
    await script('messenger', recipient, { transient_failures: 2, retry_after: 2 });
    const t0 = Date.parse((await getJson(`${server.url}/sandbox/clock`, server.basicAuth)).json.now);
    const uuid = await send(tutorial(recipient, smsTo, 15));
    await advance(4);
    const [submitted] = await receiver.waitFor(stepStatus(uuid, 'messenger', 'submitted'));
    assert.equal(submitted!.json.timestamp, new Date(t0 + 4000).toISOString(), 'tries at 0, 2 and 4 s');
    await advance(15);
    const [sms] = await receiver.waitFor(stepStatus(uuid, 'sms', 'submitted'));
    assert.equal(sms!.json.timestamp, new Date(t0 + 19_000).toISOString());
  });

  // Product bug, reported: one clock advance over several due jobs runs them concurrently, not in
  // due order, so a receipt scripted at 1 s can be decided after the expiry timer at 600 s.
  test('one advance over a delivery at 1 s and the expiry at 600 s: the delivery meets the condition', async () => {
    const recipient = newRecipient();
    const smsTo = newNumber();
    const uuid = await send({ template: 'failover', workflow: [messengerStep(recipient, { expiry_time: 600, condition_status: 'delivered' }), smsStep(smsTo)] });
    const [submitted] = await receiver.waitFor(stepStatus(uuid, 'messenger', 'submitted'));
    await advance(700);
    const [report] = await receiver.waitFor(reportOf(uuid), 1, 2_000);
    assert.equal(report!.json.timestamp, isoPlus(submitted!.json.timestamp, 1));
    assert.deepEqual(report!.json._links.messages.map((m: Json) => m.channel), ['messenger']);
    assert.deepEqual(await handset('sms', smsTo), []);
  });
});

describe('the last step\'s ceiling (dispatch.ceiling_seconds 100)', () => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  let app: TestApplication;

  before(async () => {
    receiver = await new WebhookReceiver().start();
    server = await startTestServer({ clock: 'virtual', configFile: { dispatch: { ceiling_seconds: 100 } } });
    app = await createApplication(server.url, server.basicAuth, { statusUrl: `${receiver.url}/status`, inboundUrl: `${receiver.url}/inbound` });
  });
  after(async () => {
    await server?.close();
    await receiver?.close();
  });

  test('a single SMS step to a silent recipient ends in error when the ceiling passes', async () => {
    const smsTo = '447700940001';
    await putJson(`${server.url}/sandbox/recipients/sms/${smsTo}`, server.basicAuth, { silent: true });
    const response = await postJson(`${server.url}/v0.1/dispatch`, await app.bearer(), { template: 'failover', workflow: [smsStep(smsTo)] });
    assert.equal(response.status, 202, JSON.stringify(response.json));
    const uuid = response.json.dispatch_uuid as string;
    const [submitted] = await receiver.waitFor(stepStatus(uuid, 'sms', 'submitted'));
    const t0 = submitted!.json.timestamp as string;

    await advanceClock(server.url, server.basicAuth, 99);
    const running = await getJson(`${server.url}/v0.1/dispatch/${uuid}`, await app.bearer());
    assert.equal(running.json.status, 'running');
    assert.equal(receiver.matching(reportOf(uuid)).length, 0);

    await advanceClock(server.url, server.basicAuth, 1);
    const [report] = await receiver.waitFor(reportOf(uuid));
    assert.deepEqual(report!.json, {
      template: 'failover',
      status: 'error',
      timestamp: isoPlus(t0, 100),
      usage: { price: '0', currency: 'EUR' },
      dispatch_uuid: uuid,
      _links: { messages: [{ message_uuid: submitted!.json.message_uuid, href: `v0.1/messages/${submitted!.json.message_uuid}`, channel: 'sms', status: 'submitted' }] },
    });
    const view = await getJson(`${server.url}/v0.1/dispatch/${uuid}`, await app.bearer());
    assert.equal(view.json.status, 'error');
    assert.deepEqual(view.json.workflow[0].outcome, { kind: 'ceiling', description: 'no final status within the ceiling: the workflow ended in error' });
    assert.equal(view.json.workflow[0].ended_at, isoPlus(t0, 100));
    await advanceClock(server.url, server.basicAuth, 1000);
    assert.equal(receiver.matching(reportOf(uuid)).length, 1);
  });
});
