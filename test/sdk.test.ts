/**
 * The official SDK against the server, unchanged apart from the host (reference/nexmo-api.md §5.1):
 * nexmo@2.7.0-beta-1, the last nexmo release whose `channel` (Messages v0.1) is wired up. It
 * POSTs to `/v0.1/messages?` with a fresh RS256 JWT per request that carries no `exp`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from './support/test-server.js';
import { recordingHttp, type WireExchange } from './support/recording-http.js';

type Json = Record<string, any>;
type Callback = (err: Json | null, data: Json | null) => void;

interface NexmoClient {
  channel: { send(to: Json, from: Json, message: Json, callback: Callback): void };
}
type NexmoConstructor = new (credentials: Json, options?: Json) => NexmoClient;

const require = createRequire(import.meta.url);
const Nexmo = require('nexmo') as NexmoConstructor;
const nexmoVersion = (JSON.parse(readFileSync(require.resolve('nexmo/package.json'), 'utf8')) as Json).version;

interface TestApplication {
  id: string;
  privateKey: string;
}

let server: TestServer;
let app: TestApplication;
let otherApp: TestApplication;
let keyDir: string;

before(async () => {
  server = await startTestServer();
  app = await createApplication('sdk app');
  otherApp = await createApplication('sdk other app');
  keyDir = mkdtempSync(join(tmpdir(), 'opendispatch-sdk-'));
});

after(async () => {
  await server?.close();
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

async function createApplication(name: string): Promise<TestApplication> {
  const response = await fetch(`${server.url}/v2/applications`, {
    method: 'POST',
    headers: { authorization: server.basicAuth, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  assert.equal(response.status, 201);
  const body = (await response.json()) as Json;
  return { id: body.id, privateKey: body.keys.private_key };
}

function nexmo(privateKey: string, applicationId: string, extraOptions: Json = {}): NexmoClient {
  return new Nexmo(
    { apiKey: server.apiKey, apiSecret: server.apiSecret, applicationId, privateKey },
    { apiHost: 'localhost', port: server.server.port, ...extraOptions },
  );
}

function channelSend(client: NexmoClient, to: Json, from: Json, message: Json): Promise<{ err: Json | null; data: Json | null }> {
  return new Promise((resolve) => client.channel.send(to, from, message, (err, data) => resolve({ err, data })));
}

const jwtPart = (token: string, index: 0 | 1) => JSON.parse(Buffer.from(token.split('.')[index]!, 'base64url').toString('utf8')) as Json;

const SMS_TO = { type: 'sms', number: '447700900000' };
const SMS_FROM = { type: 'sms', number: '447700900001' };
const HELLO = { content: { type: 'text', text: 'hello' } };

test('the installed SDK is nexmo@2.7.0-beta-1', () => {
  assert.equal(nexmoVersion, '2.7.0-beta-1');
});

test('channel.send of an SMS with a PEM string gets a message_uuid', async () => {
  const wire: WireExchange[] = [];
  const client = nexmo(app.privateKey, app.id, { http: recordingHttp(wire) });
  const { err, data } = await channelSend(client, SMS_TO, SMS_FROM, HELLO);
  assert.equal(err, null);
  assert.deepEqual(Object.keys(data ?? {}), ['message_uuid']);
  const record = await server.store.findMessage(data!.message_uuid);
  assert.ok(record);
  assert.deepEqual(
    { apiKey: record.apiKey, applicationId: record.applicationId, channel: record.channel, to: record.to, from: record.from, message: record.message },
    { apiKey: server.apiKey, applicationId: app.id, channel: 'sms', to: SMS_TO, from: SMS_FROM, message: HELLO },
  );

  // What went over the wire: reference/nexmo-api.md §5.1.
  assert.equal(wire.length, 1);
  const [request] = wire;
  assert.equal(request!.method, 'POST');
  assert.equal(request!.path, '/v0.1/messages?');
  assert.equal(request!.headers['content-type'], 'application/json');
  assert.match(request!.headers['user-agent'] ?? '', /^nexmo-node\/2\.7\.0-beta-1 node\//);
  assert.equal(request!.body, JSON.stringify({ to: SMS_TO, from: SMS_FROM, message: HELLO }));
  const token = /^Bearer (.+)$/.exec(request!.headers.authorization ?? '')?.[1];
  assert.ok(token, 'no Bearer token');
  assert.equal(jwtPart(token, 0).alg, 'RS256');
  const claims = jwtPart(token, 1);
  assert.deepEqual(Object.keys(claims).sort(), ['application_id', 'iat', 'jti']);
  assert.equal(claims.application_id, app.id);
});

test('channel.send of a Messenger message with a private key file path', async () => {
  const keyFile = join(keyDir, 'private.key');
  writeFileSync(keyFile, app.privateKey, { mode: 0o600 });
  const client = nexmo(keyFile, app.id);
  const to = { type: 'messenger', id: '1234567890' };
  const from = { type: 'messenger', id: '9876543210' };
  const message = { content: { type: 'text', text: 'hello from the SDK' }, messenger: { category: 'response' } };
  const { err, data } = await channelSend(client, to, from, message);
  assert.equal(err, null);
  const record = await server.store.findMessage(data!.message_uuid);
  assert.deepEqual(
    { applicationId: record?.applicationId, channel: record?.channel, to: record?.to, from: record?.from, message: record?.message },
    { applicationId: app.id, channel: 'messenger', to, from, message },
  );
});

test('one client sends several messages, each with a fresh token', async () => {
  const wire: WireExchange[] = [];
  const client = nexmo(app.privateKey, app.id, { http: recordingHttp(wire) });
  const uuids = new Set<string>();
  for (const text of ['one', 'two', 'three']) {
    const { err, data } = await channelSend(client, SMS_TO, SMS_FROM, { content: { type: 'text', text } });
    assert.equal(err, null);
    uuids.add(data!.message_uuid);
  }
  assert.equal(uuids.size, 3);
  const jtis = wire.map((request) => jwtPart(request.headers.authorization!.slice('Bearer '.length), 1).jti);
  assert.equal(new Set(jtis).size, 3);
});

test('a 400 reaches the SDK callback as err.statusCode 400 with body.invalid_parameters', async () => {
  const client = nexmo(app.privateKey, app.id);
  const { err, data } = await channelSend(client, { type: 'sms', number: '+447700900000' }, { type: 'sms', number: 'Far Too Long Sender' }, { content: { type: 'text', text: '' } });
  assert.equal(data, null);
  assert.ok(err);
  assert.equal(err.statusCode, 400);
  assert.equal(err.headers['x-nexmo-trace-id'], err.body.instance);
  assert.deepEqual(Object.keys(err.body), ['type', 'title', 'detail', 'instance', 'invalid_parameters']);
  assert.equal(err.body.type, 'https://www.nexmo.com/messages/Errors#InvalidParams');
  assert.equal(err.body.detail, 'Found errors validating 3 of your submitted parameters.');
  assert.deepEqual(
    (err.body.invalid_parameters as Json[]).map((entry) => entry.name).sort(),
    ['from.number', 'message.content.text', 'to.number'],
  );
});

test('a key that does not match the application reaches the SDK as a 401 Invalid Token', async () => {
  const client = nexmo(otherApp.privateKey, app.id);
  const { err, data } = await channelSend(client, SMS_TO, SMS_FROM, HELLO);
  assert.equal(data, null);
  assert.ok(err);
  assert.equal(err.statusCode, 401);
  assert.deepEqual(err.body, {
    type: 'https://developer.nexmo.com/api-errors#unauthorized',
    title: 'Unauthorised',
    detail: 'Invalid Token',
    instance: err.headers['x-nexmo-trace-id'],
  });
});
