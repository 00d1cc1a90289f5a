/**
 * Dispatch through the official SDKs, unchanged apart from the host (reference/nexmo-api.md §5.1,
 * §6.2): `nexmo@2.7.0-beta-1` with `{apiHost: 'localhost', port}` and `@vonage/server-sdk@2.10.7-beta-2`
 * with `{apiHost: 'http://localhost', port}`. Both POST `/v0.1/dispatch?` with a fresh RS256 JWT
 * and the body `{"template":"failover","workflow":[…]}`. Virtual clock: the tutorial's 60 s expiry
 * is driven by advancing time.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from './support/test-server.js';
import { inEventOrder, WebhookReceiver, type ReceivedWebhook } from './support/webhook-receiver.js';
import { advanceClock, createApplication, getJson, type TestApplication } from './support/api-client.js';
import { recordingHttp, type WireExchange } from './support/recording-http.js';

type Json = Record<string, any>;
type Callback = (err: Json | null, data: Json | null) => void;

interface DispatchClient {
  dispatch: { create(template: string, workflow: unknown[], callback?: Callback): void };
}
type ClientConstructor = new (credentials: Json, options?: Json) => DispatchClient;

const require = createRequire(import.meta.url);
const Nexmo = require('nexmo') as ClientConstructor;
const Vonage = require('@vonage/server-sdk') as ClientConstructor;
const versionOf = (name: string) => (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as Json).version as string;

const FB_SENDER_ID = '1234567890';
const FROM_NUMBER = '447700900000';

/** The current Node snippet's workflow (§6.2): ids and numbers are strings from process.env. */
function snippetWorkflow(recipientId: string, toNumber: string, expiry: number = 60): Json[] {
  return [
    {
      from: { type: 'messenger', id: FB_SENDER_ID },
      to: { type: 'messenger', id: recipientId },
      message: { content: { type: 'text', text: 'Dispatch API: Message 1' } },
      failover: { expiry_time: expiry, condition_status: 'read' },
    },
    {
      from: { type: 'sms', number: FROM_NUMBER },
      to: { type: 'sms', number: toNumber },
      message: { content: { type: 'text', text: 'Dispatch API: Message 2' } },
    },
  ];
}

function create(client: DispatchClient, workflow: unknown[]): Promise<{ err: Json | null; data: Json | null }> {
  return new Promise((resolve) => client.dispatch.create('failover', workflow, (err, data) => resolve({ err, data })));
}

const jwtClaims = (authorization: string) => JSON.parse(Buffer.from(authorization.replace(/^Bearer /, '').split('.')[1]!, 'base64url').toString('utf8')) as Json;

describe('Dispatch through the official SDKs (virtual clock)', () => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  let app: TestApplication;
  let keyDir: string;
  let keyFile: string;
  let seq = 0;
  const newRecipient = () => String(7100000000 + ++seq);
  const newNumber = () => String(447700910000 + ++seq);

  const statusesOf = (uuid: string) => (w: ReceivedWebhook) => w.json._links?.dispatch?.dispatch_uuid === uuid;
  const reportOf = (uuid: string) => (w: ReceivedWebhook) => w.json.template === 'failover' && w.json.dispatch_uuid === uuid;

  before(async () => {
    receiver = await new WebhookReceiver().start();
    server = await startTestServer({
      clock: 'virtual',
      configFile: { pricing: { channels: { sms: { default: '0.0333' }, messenger: { default: '0.001' } }, dispatch_fee: '0.002' } },
    });
    app = await createApplication(server.url, server.basicAuth, { statusUrl: `${receiver.url}/webhooks/status`, inboundUrl: `${receiver.url}/webhooks/inbound` });
    keyDir = mkdtempSync(join(tmpdir(), 'opendispatch-dispatch-sdk-'));
    keyFile = join(keyDir, 'private.key');
    writeFileSync(keyFile, app.privateKey);
  });

  after(async () => {
    await server?.close();
    await receiver?.close();
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  });

  const credentials = (privateKey: string) => ({ apiKey: server.apiKey, apiSecret: server.apiSecret, applicationId: app.id, privateKey });
  const nexmo = (privateKey: string, extra: Json = {}) => new Nexmo(credentials(privateKey), { apiHost: 'localhost', port: server.server.port, ...extra });
  const vonage = (privateKey: string, extra: Json = {}) => new Vonage(credentials(privateKey), { apiHost: 'http://localhost', port: server.server.port, ...extra });

  test('the installed SDKs are the Dispatch-capable betas', () => {
    assert.equal(versionOf('nexmo'), '2.7.0-beta-1');
    assert.equal(versionOf('@vonage/server-sdk'), '2.10.7-beta-2');
  });

  /**
   * The tutorial end to end: Messenger delivered but never read; after 60 s the SMS goes out,
   * is delivered 1 s later, and the final report says completed with both messages.
   */
  async function tutorialThroughSdk(label: string, makeClient: (extra: Json) => DispatchClient, userAgent: RegExp): Promise<void> {
    const wire: WireExchange[] = [];
    const client = makeClient({ http: recordingHttp(wire) });
    const recipient = newRecipient();
    const toNumber = newNumber();
    const workflow = snippetWorkflow(recipient, toNumber);

    const { err, data } = await create(client, workflow);
    assert.equal(err, null, `${label}: ${JSON.stringify(err)}`);
    assert.deepEqual(Object.keys(data ?? {}), ['dispatch_uuid'], label);
    const uuid = data!.dispatch_uuid as string;
    assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

    // What went on the wire (§5.1).
    assert.equal(wire.length, 1, label);
    const [sent] = wire;
    assert.equal(sent!.method, 'POST');
    assert.equal(sent!.path, '/v0.1/dispatch?');
    assert.equal(sent!.headers['content-type'], 'application/json');
    assert.match(sent!.headers['user-agent'] ?? '', userAgent);
    assert.equal(sent!.body, JSON.stringify({ template: 'failover', workflow }));
    const claims = jwtClaims(sent!.headers.authorization ?? '');
    assert.equal(claims.application_id, app.id);
    assert.equal(await sent!.response, 202);

    // The dispatch belongs to the JWT's application and holds the workflow as sent.
    const record = await server.store.findDispatch(uuid);
    assert.ok(record, label);
    assert.equal(record.applicationId, app.id);
    assert.equal(record.apiKey, server.apiKey);
    assert.deepEqual(record.workflow.map((step) => [step.to, step.from]), workflow.map((step) => [step.to, step.from]));

    // Messenger: submitted, then delivered at 1 s (the sandbox default), never read.
    await advanceClock(server.url, server.basicAuth, 1);
    const [submitted, delivered] = await receiver.waitFor(statusesOf(uuid), 2);
    const link = { href: `v0.1/dispatch/${uuid}`, dispatch_uuid: uuid };
    assert.equal(submitted!.path, '/webhooks/status');
    assert.deepEqual(Object.keys(submitted!.json), ['message_uuid', 'to', 'from', 'timestamp', 'status', '_links']);
    assert.deepEqual(
      { to: submitted!.json.to, from: submitted!.json.from, status: submitted!.json.status, _links: submitted!.json._links },
      { to: { type: 'messenger', id: recipient }, from: { type: 'messenger', id: FB_SENDER_ID }, status: 'submitted', _links: { dispatch: link, workflow: link } },
    );
    assert.match(submitted!.json.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(
      { uuid: delivered!.json.message_uuid, status: delivered!.json.status, usage: delivered!.json.usage, dispatch: delivered!.json._links.dispatch },
      { uuid: submitted!.json.message_uuid, status: 'delivered', usage: { price: '0.001', currency: 'EUR' }, dispatch: link },
    );
    assert.equal(Date.parse(delivered!.json.timestamp) - Date.parse(submitted!.json.timestamp), 1000);

    // Nothing more before the expiry: no SMS, no report.
    await advanceClock(server.url, server.basicAuth, 58);
    const handset = await getJson(`${server.url}/sandbox/messages?channel=sms&to=${toNumber}`, server.basicAuth);
    assert.deepEqual(handset.json.messages, [], `${label}: no SMS before the 60 s expiry`);
    assert.equal(receiver.matching(reportOf(uuid)).length, 0);

    // 60 s after the Messenger submission: the SMS; 1 s later it is delivered and the report follows.
    await advanceClock(server.url, server.basicAuth, 1);
    const [smsSubmitted] = await receiver.waitFor((w) => statusesOf(uuid)(w) && w.json.to.type === 'sms' && w.json.status === 'submitted');
    assert.equal(Date.parse(smsSubmitted!.json.timestamp) - Date.parse(submitted!.json.timestamp), 60_000);
    assert.deepEqual(smsSubmitted!.json.to, { type: 'sms', number: toNumber });
    assert.deepEqual(smsSubmitted!.json._links.dispatch, link);
    await advanceClock(server.url, server.basicAuth, 1);
    const [report] = await receiver.waitFor(reportOf(uuid));
    const statuses = inEventOrder(await receiver.waitFor(statusesOf(uuid), 4), ['messenger', 'sms']);
    const smsUuid = smsSubmitted!.json.message_uuid as string;
    assert.deepEqual(statuses.map((w) => [w.json.to.type, w.json.status]), [['messenger', 'submitted'], ['messenger', 'delivered'], ['sms', 'submitted'], ['sms', 'delivered']]);

    assert.equal(report!.path, '/webhooks/status');
    assert.deepEqual(Object.keys(report!.json), ['template', 'status', 'timestamp', 'usage', 'dispatch_uuid', '_links']);
    assert.deepEqual(report!.json, {
      template: 'failover',
      status: 'completed',
      timestamp: new Date(Date.parse(submitted!.json.timestamp) + 61_000).toISOString(),
      usage: { price: '0.0363', currency: 'EUR' },
      dispatch_uuid: uuid,
      _links: {
        messages: [
          { message_uuid: submitted!.json.message_uuid, href: `v0.1/messages/${submitted!.json.message_uuid}`, channel: 'messenger', usage: { price: '0.001', currency: 'EUR' }, status: 'delivered' },
          { message_uuid: smsUuid, href: `v0.1/messages/${smsUuid}`, channel: 'sms', usage: { price: '0.0333', currency: 'EUR' }, status: 'delivered' },
        ],
      },
    });
    // Exactly one report.
    await advanceClock(server.url, server.basicAuth, 600);
    assert.equal(receiver.matching(reportOf(uuid)).length, 1);
  }

  test('nexmo@2.7.0-beta-1 (PEM string): dispatch.create of the Node snippet, then the webhooks', async () => {
    await tutorialThroughSdk('nexmo', (extra) => nexmo(app.privateKey, extra), /^nexmo-node\/2\.7\.0-beta-1 node\//);
  });

  test('@vonage/server-sdk@2.10.7-beta-2 (key file path): dispatch.create of the Node snippet, then the webhooks', async () => {
    await tutorialThroughSdk('vonage', (extra) => vonage(keyFile, extra), /^@vonage\/server-sdk\/2\.10\.7-beta-2 node\//);
  });

  test('nexmo with the private key as a file path and Vonage with a PEM string also get a dispatch_uuid', async () => {
    for (const [label, client] of [['nexmo', nexmo(keyFile)], ['vonage', vonage(app.privateKey)]] as const) {
      const { err, data } = await create(client, snippetWorkflow(newRecipient(), newNumber()));
      assert.equal(err, null, `${label}: ${JSON.stringify(err)}`);
      assert.equal(typeof data?.dispatch_uuid, 'string', label);
      assert.ok(await server.store.findDispatch(data!.dispatch_uuid), label);
    }
  });

  /**
   * The 2018–2020 snippet put its callback inside the workflow array and passed no callback, so
   * `[step1, step2, null]` goes on the wire and the response is never read. The server ignores
   * the null and runs the two steps.
   */
  for (const [label, makeClient] of [
    ['nexmo', (extra: Json) => nexmo(app.privateKey, extra)],
    ['vonage', (extra: Json) => vonage(app.privateKey, extra)],
  ] as const) {
    test(`${label}: the 2018 snippet's workflow with the callback inside the array ([step1, step2, null]) is accepted`, async () => {
      const wire: WireExchange[] = [];
      const client = makeClient({ http: recordingHttp(wire) });
      const recipient = newRecipient();
      const toNumber = newNumber();
      const [messenger, sms] = snippetWorkflow(recipient, toNumber, 600);
      messenger!.message.content.text = 'This is a Facebook Messenger message sent from the Dispatch API';
      sms!.message.content.text = 'This is an SMS sent from the Dispatch API';
      let called = false;
      // Exactly the buggy call: the callback is the third workflow element, no third argument.
      client.dispatch.create('failover', [messenger, sms, (_err: unknown, _data: unknown) => (called = true)]);

      const [submitted] = await receiver.waitFor((w) => w.json.status === 'submitted' && w.json.to?.id === recipient);
      assert.equal(wire.length, 1);
      assert.equal(wire[0]!.path, '/v0.1/dispatch?');
      assert.equal(await wire[0]!.response, 202);
      const body = JSON.parse(wire[0]!.body) as Json;
      assert.equal(body.workflow.length, 3);
      assert.equal(body.workflow[2], null);
      assert.ok(wire[0]!.body.endsWith(',null]}'), wire[0]!.body);

      const uuid = submitted!.json._links.dispatch.dispatch_uuid as string;
      const record = await server.store.findDispatch(uuid);
      assert.equal(record?.workflow.length, 2, 'the null entry is dropped');
      // The workflow runs as two steps: 600 s later the SMS, then a completed report.
      await advanceClock(server.url, server.basicAuth, 1);
      await receiver.waitFor((w) => statusesOf(uuid)(w) && w.json.status === 'delivered');
      await advanceClock(server.url, server.basicAuth, 599);
      await receiver.waitFor((w) => statusesOf(uuid)(w) && w.json.to.type === 'sms' && w.json.status === 'submitted');
      await advanceClock(server.url, server.basicAuth, 1);
      const [report] = await receiver.waitFor(reportOf(uuid));
      assert.equal(report!.json.status, 'completed');
      assert.deepEqual(report!.json._links.messages.map((m: Json) => [m.channel, m.status]), [['messenger', 'delivered'], ['sms', 'delivered']]);
      const handset = await getJson(`${server.url}/sandbox/messages?channel=sms&to=${toNumber}`, server.basicAuth);
      assert.deepEqual(handset.json.messages.map((m: Json) => m.message.content.text), ['This is an SMS sent from the Dispatch API']);
      assert.equal(called, false, 'the callback inside the array is never called');
    });
  }

  test('an SDK 400: expiry_time 5 comes back as err.statusCode 400 naming workflow[0].failover.expiry_time', async () => {
    for (const [label, client] of [['nexmo', nexmo(app.privateKey)], ['vonage', vonage(app.privateKey)]] as const) {
      const recipient = newRecipient();
      const { err, data } = await create(client, snippetWorkflow(recipient, newNumber(), 5));
      assert.equal(data, null, label);
      assert.ok(err, label);
      assert.equal(err.statusCode, 400, label);
      assert.match(err.headers['content-type'], /^application\/problem\+json\b/, label);
      assert.equal(err.body.type, 'https://www.nexmo.com/messages/Errors#InvalidParams', label);
      assert.equal(err.body.title, "Your request parameters didn't validate.", label);
      assert.equal(err.body.detail, 'Found errors validating 1 of your submitted parameters.', label);
      assert.equal(err.body.instance, err.headers['x-nexmo-trace-id'], label);
      assert.equal(err.body.invalid_parameters.length, 1, label);
      assert.equal(err.body.invalid_parameters[0].name, 'workflow[0].failover.expiry_time', label);
      assert.match(err.body.invalid_parameters[0].reason, /15.*86400/, label);
      const handset = await getJson(`${server.url}/sandbox/messages?channel=messenger&to=${recipient}`, server.basicAuth);
      assert.deepEqual(handset.json.messages, [], `${label}: nothing sent`);
    }
  });
});
