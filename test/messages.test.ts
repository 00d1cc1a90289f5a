/**
 * Messages API v0.1 over real HTTP (DESIGN §3, reference/nexmo-api.md §2): sends on every
 * channel with Basic auth and with an application JWT, the 400 problem+json of every address
 * and content rule, faults in the request itself, the message resource with its status history,
 * who may see a message, and where its status webhooks go.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { generateApplicationJwt } from '../src/cli/generate-jwt.js';
import type { MessageRecord } from '../src/core/records.js';
import { startTestServer, type TestAccount, type TestServer } from './support/test-server.js';
import { WebhookReceiver, type ReceivedWebhook } from './support/webhook-receiver.js';

type Json = Record<string, any>;

interface TestApplication {
  id: string;
  privateKey: string;
  statusUrl: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TRACE_ID = /^[0-9a-f]{32}$/;
const INVALID_PARAMS = 'https://www.nexmo.com/messages/Errors#InvalidParams';

// ---------------------------------------------------------------------------------------------
// one valid example per channel (reference/nexmo-api.md §2.2–2.4)

const EXAMPLES: Record<string, Json> = {
  sms: {
    to: { type: 'sms', number: '447700900000' },
    from: { type: 'sms', number: '447700900001' },
    message: { content: { type: 'text', text: 'Hello from OpenDispatch' } },
    client_ref: 'sms-example',
  },
  mms: {
    to: { type: 'mms', number: '14155550100' },
    from: { type: 'mms', number: '14155550101' },
    message: { content: { type: 'image', image: { url: 'https://example.com/cat.jpg', caption: 'A cat' } } },
  },
  whatsapp: {
    to: { type: 'whatsapp', number: '447700900002' },
    from: { type: 'whatsapp', number: '447700900003' },
    message: { content: { type: 'text', text: 'Hello on WhatsApp' }, whatsapp: { policy: 'deterministic', locale: 'en-GB' } },
  },
  messenger: {
    to: { type: 'messenger', id: '1234567890' },
    from: { type: 'messenger', id: '9876543210' },
    message: { content: { type: 'text', text: 'Hello on Messenger' }, messenger: { category: 'message_tag', tag: 'CONFIRMED_EVENT_UPDATE' } },
  },
  viber_service_msg: {
    to: { type: 'viber_service_msg', number: '447700900004' },
    from: { type: 'viber_service_msg', id: '16273' },
    message: { content: { type: 'text', text: 'Hello on Viber' }, viber_service_msg: { category: 'transaction', ttl: 600 } },
  },
};

/** A deep copy of a channel's example, changed by `change`. */
function example(channel: keyof typeof EXAMPLES, change: (body: Json) => void = () => {}): Json {
  const body = structuredClone(EXAMPLES[channel]!);
  change(body);
  return body;
}

// ---------------------------------------------------------------------------------------------
// one server for the file: virtual clock, account default status URL on the receiver

let server: TestServer;
let receiver: WebhookReceiver;
let appA: TestApplication;
let appB: TestApplication;
let otherAccount: TestAccount;
let otherAccountApp: TestApplication;

before(async () => {
  receiver = await new WebhookReceiver().start();
  server = await startTestServer({ clock: 'virtual', statusUrl: `${receiver.url}/account-status` });
  appA = await createApplication(server.basicAuth, 'app A', `${receiver.url}/app-a-status`);
  appB = await createApplication(server.basicAuth, 'app B', `${receiver.url}/app-b-status`);
  otherAccount = await server.createAccount();
  otherAccountApp = await createApplication(otherAccount.basicAuth, 'other account app', `${receiver.url}/other-status`);
});

after(async () => {
  await server?.close();
  await receiver?.close();
});

async function createApplication(basicAuth: string, name: string, statusUrl: string): Promise<TestApplication> {
  const response = await fetch(`${server.url}/v2/applications`, {
    method: 'POST',
    headers: { authorization: basicAuth, 'content-type': 'application/json' },
    body: JSON.stringify({
      name,
      capabilities: { messages: { webhooks: { status_url: { address: statusUrl, http_method: 'POST' }, inbound_url: { address: `${statusUrl}-inbound`, http_method: 'POST' } } } },
    }),
  });
  assert.equal(response.status, 201);
  const body = (await response.json()) as Json;
  assert.match(body.keys.private_key, /^-----BEGIN PRIVATE KEY-----/);
  return { id: body.id, privateKey: body.keys.private_key, statusUrl };
}

async function jwtFor(application: TestApplication): Promise<string> {
  return `Bearer ${await generateApplicationJwt({ privateKeyPem: application.privateKey, applicationId: application.id })}`;
}

function send(authorization: string, body: unknown, path = '/v0.1/messages'): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** Asserts the 202 `{message_uuid}` and returns the uuid. */
async function accepted(response: Response): Promise<string> {
  const text = await response.text();
  assert.equal(response.status, 202, text);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const body = JSON.parse(text) as Json;
  assert.deepEqual(Object.keys(body), ['message_uuid']);
  assert.match(body.message_uuid, UUID);
  return body.message_uuid;
}

/** The stored record, read right after the 202: it must already be there. */
async function stored(uuid: string): Promise<MessageRecord> {
  const record = await server.store.findMessage(uuid);
  assert.ok(record, `message ${uuid} was not stored before the 202`);
  return record;
}

/** A problem+json of the given status whose `instance` is the response's trace id; returns the body. */
async function problem(response: Response, status: number): Promise<Json> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const body = JSON.parse(text) as Json;
  const traceId = response.headers.get('x-nexmo-trace-id');
  assert.match(traceId ?? '', TRACE_ID);
  assert.equal(body.instance, traceId);
  return body;
}

/** The Messages 400: exact shape, and `invalid_parameters` naming exactly `names`. */
async function assertInvalidParams(response: Response, names: string[]): Promise<void> {
  const body = await problem(response, 400);
  assert.deepEqual(Object.keys(body), ['type', 'title', 'detail', 'instance', 'invalid_parameters']);
  assert.equal(body.type, INVALID_PARAMS);
  assert.equal(body.title, "Your request parameters didn't validate.");
  assert.equal(body.detail, `Found errors validating ${body.invalid_parameters.length} of your submitted parameters.`);
  for (const entry of body.invalid_parameters as Json[]) {
    assert.deepEqual(Object.keys(entry), ['name', 'reason']);
    assert.equal(typeof entry.reason, 'string');
    assert.ok(entry.reason.length > 0);
  }
  const found = (body.invalid_parameters as Json[]).map((entry) => entry.name as string);
  assert.deepEqual([...found].sort(), [...names].sort(), JSON.stringify(body.invalid_parameters));
}

async function advanceClock(seconds: number): Promise<void> {
  const response = await fetch(`${server.url}/sandbox/clock/advance`, {
    method: 'POST',
    headers: { authorization: server.basicAuth, 'content-type': 'application/json' },
    body: JSON.stringify({ seconds }),
  });
  assert.equal(response.status, 200);
}

const webhookFor = (uuid: string, status: string) => (webhook: ReceivedWebhook) => webhook.json.message_uuid === uuid && webhook.json.status === status;

// ---------------------------------------------------------------------------------------------
// sends that are accepted

for (const channel of Object.keys(EXAMPLES)) {
  test(`${channel}: the example is accepted with Basic auth and stored before the 202`, async () => {
    const body = example(channel);
    const uuid = await accepted(await send(server.basicAuth, body));
    const record = await stored(uuid);
    assert.deepEqual(
      { apiKey: record.apiKey, applicationId: record.applicationId, direction: record.direction, channel: record.channel, to: record.to, from: record.from, message: record.message, clientRef: record.clientRef },
      { apiKey: server.apiKey, applicationId: undefined, direction: 'outbound', channel, to: body.to, from: body.from, message: body.message, clientRef: body.client_ref },
    );
    assert.equal(record.statusUrl, `${receiver.url}/account-status`);
    assert.ok(['queued', 'submitted'].includes(record.status), record.status);
  });

  test(`${channel}: the example is accepted with an application JWT and stored before the 202`, async () => {
    const body = example(channel);
    const uuid = await accepted(await send(await jwtFor(appA), body));
    const record = await stored(uuid);
    assert.deepEqual(
      { apiKey: record.apiKey, applicationId: record.applicationId, channel: record.channel, to: record.to, from: record.from, message: record.message, clientRef: record.clientRef },
      { apiKey: server.apiKey, applicationId: appA.id, channel, to: body.to, from: body.from, message: body.message, clientRef: body.client_ref },
    );
    assert.equal(record.statusUrl, appA.statusUrl);
  });
}

test('path variants /v0.1/messages/ and /v0.1/messages? are the same endpoint', async () => {
  for (const path of ['/v0.1/messages/', '/v0.1/messages?', '/v0.1/messages?trace=1']) {
    for (const authorization of [server.basicAuth, await jwtFor(appA)]) {
      const uuid = await accepted(await send(authorization, example('sms'), path));
      await stored(uuid);
    }
  }
});

test('content-type with a charset is JSON too', async () => {
  const response = await fetch(`${server.url}/v0.1/messages`, {
    method: 'POST',
    headers: { authorization: server.basicAuth, 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(example('sms')),
  });
  await accepted(response);
});

/** Valid bodies beyond the examples, with what must be stored (default: the body as sent). */
const VALID_VARIANTS: Array<{ name: string; body: Json; stored?: Partial<Pick<Json, 'to' | 'from' | 'message' | 'client_ref'>> }> = [
  { name: 'sms alphanumeric sender ID', body: example('sms', (b) => (b.from.number = 'MyBrand')) },
  { name: 'sms sender ID of 11 characters with inner spaces', body: example('sms', (b) => (b.from.number = 'My Brand 12')) },
  { name: 'sms text of exactly 1000 characters', body: example('sms', (b) => (b.message.content.text = 'x'.repeat(1000))) },
  { name: 'sms text of 1000 emoji (2000 UTF-16 units) counts code points', body: example('sms', (b) => (b.message.content.text = '😀'.repeat(1000))) },
  { name: 'sms 15-digit number', body: example('sms', (b) => (b.to.number = '123456789012345')) },
  {
    name: 'sms number sent as a JSON number is stored as a string',
    body: example('sms', (b) => (b.to.number = 447700900000)),
    stored: { to: { type: 'sms', number: '447700900000' } },
  },
  {
    name: 'null optional fields are absent',
    body: example('sms', (b) => {
      b.client_ref = null;
      b.message.whatsapp = null;
    }),
    stored: { client_ref: undefined, message: { content: { type: 'text', text: 'Hello from OpenDispatch' } } },
  },
  {
    name: 'unknown fields and other channels\' options are dropped',
    body: example('sms', (b) => {
      b.extra = 1;
      b.to.id = 'ignored';
      b.message.content.image = { url: 'https://example.com/ignored.png' };
      b.message.whatsapp = { policy: 'fallback' };
      b.message.messenger = { category: 'nonsense' };
    }),
    stored: { to: { type: 'sms', number: '447700900000' }, message: { content: { type: 'text', text: 'Hello from OpenDispatch' } } },
  },
  { name: 'client_ref of 40 characters', body: example('sms', (b) => (b.client_ref = 'r'.repeat(40))) },
  { name: 'mms image without caption over http', body: example('mms', (b) => (b.message.content.image = { url: 'http://example.com/a.gif' })) },
  { name: 'whatsapp text of 4096 characters', body: example('whatsapp', (b) => (b.message.content.text = 'w'.repeat(4096))) },
  {
    name: 'whatsapp template with both parameter shapes and an en_GB locale',
    body: example('whatsapp', (b) => {
      b.message.content = { type: 'template', template: { name: 'whatsapp:hsm:technology:nexmo:verify', parameters: [{ default: 'Nexmo' }, '64873'] } };
      b.message.whatsapp = { locale: 'en_GB' };
    }),
  },
  { name: 'whatsapp image with caption', body: example('whatsapp', (b) => (b.message.content = { type: 'image', image: { url: 'https://example.com/a.png', caption: 'cap' } })) },
  { name: 'whatsapp audio', body: example('whatsapp', (b) => (b.message.content = { type: 'audio', audio: { url: 'https://example.com/a.mp3' } })) },
  { name: 'whatsapp video', body: example('whatsapp', (b) => (b.message.content = { type: 'video', video: { url: 'https://example.com/a.mp4' } })) },
  { name: 'whatsapp file with caption', body: example('whatsapp', (b) => (b.message.content = { type: 'file', file: { url: 'https://example.com/a.pdf', caption: 'invoice' } })) },
  {
    name: 'whatsapp custom object nested 32 levels',
    body: example('whatsapp', (b) => (b.message.content = { type: 'custom', custom: nested(31, { type: 'interactive' }) })),
  },
  { name: 'messenger text of exactly 640 characters', body: example('messenger', (b) => (b.message.content.text = 'm'.repeat(640))) },
  {
    name: 'messenger ids sent as JSON numbers are stored as strings',
    body: example('messenger', (b) => {
      b.to.id = 1234567890;
      b.from.id = 9876543210;
    }),
    stored: { to: { type: 'messenger', id: '1234567890' }, from: { type: 'messenger', id: '9876543210' } },
  },
  { name: 'messenger non-numeric ids of 50 characters', body: example('messenger', (b) => (b.to.id = 'p'.repeat(50))) },
  { name: 'messenger image', body: example('messenger', (b) => (b.message.content = { type: 'image', image: { url: 'https://example.com/a.jpg' } })) },
  { name: 'messenger file', body: example('messenger', (b) => (b.message.content = { type: 'file', file: { url: 'https://example.com/a.zip' } })) },
  { name: 'messenger custom', body: example('messenger', (b) => (b.message.content = { type: 'custom', custom: { attachment: { type: 'template', payload: { template_type: 'button' } } } })) },
  { name: 'messenger category response without tag', body: example('messenger', (b) => (b.message.messenger = { category: 'response' })) },
  { name: 'viber image', body: example('viber_service_msg', (b) => (b.message.content = { type: 'image', image: { url: 'https://example.com/a.jpg' } })) },
  {
    name: 'viber template needs no locale',
    body: example('viber_service_msg', (b) => (b.message.content = { type: 'template', template: { name: 'tpl', parameters: ['a'] } })),
  },
  { name: 'viber ttl 30 and promotion', body: example('viber_service_msg', (b) => (b.message.viber_service_msg = { category: 'promotion', ttl: 30, type: 'template' })) },
  { name: 'viber ttl 259200', body: example('viber_service_msg', (b) => (b.message.viber_service_msg = { ttl: 259_200 })) },
];

function nested(levels: number, leaf: Json): Json {
  let value: Json = leaf;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

test('valid variants are accepted and stored normalised', async () => {
  const authorization = server.basicAuth;
  for (const variant of VALID_VARIANTS) {
    const uuid = await accepted(await send(authorization, variant.body));
    const record = await stored(uuid);
    const { client_ref, ...rest } = { ...variant.body, ...variant.stored };
    assert.deepEqual(
      { to: record.to, from: record.from, message: record.message, clientRef: record.clientRef },
      { to: rest.to, from: rest.from, message: rest.message, clientRef: client_ref ?? undefined },
      variant.name,
    );
  }
});

// ---------------------------------------------------------------------------------------------
// address and content rules: one bad body → the exact names in invalid_parameters

const INVALID: Array<{ name: string; body: unknown; names: string[] }> = [
  // the three parts
  { name: 'missing to', body: example('sms', (b) => delete b.to), names: ['to'] },
  { name: 'missing from', body: example('sms', (b) => delete b.from), names: ['from'] },
  { name: 'missing message', body: example('sms', (b) => delete b.message), names: ['message'] },
  { name: 'missing message.content', body: example('sms', (b) => (b.message = {})), names: ['message.content'] },
  { name: 'missing content type', body: example('sms', (b) => delete b.message.content.type), names: ['message.content.type'] },
  { name: 'missing to.type', body: example('sms', (b) => delete b.to.type), names: ['to.type'] },
  { name: 'unknown channel on both sides', body: example('sms', (b) => (b.to.type = b.from.type = 'telegram')), names: ['to.type', 'from.type'] },
  { name: 'unknown channel on to only', body: example('sms', (b) => (b.to.type = 'telegram')), names: ['to.type'] },
  { name: 'from.type differs from to.type', body: example('sms', (b) => (b.from.type = 'whatsapp')), names: ['from.type'] },
  { name: 'client_ref of 41 characters', body: example('sms', (b) => (b.client_ref = 'r'.repeat(41))), names: ['client_ref'] },
  { name: 'client_ref empty', body: example('sms', (b) => (b.client_ref = '')), names: ['client_ref'] },
  {
    name: 'every bad field at once',
    body: example('sms', (b) => {
      b.to.number = '+447700900000';
      b.from.number = '';
      b.message.content.text = '';
      b.client_ref = 'r'.repeat(41);
    }),
    names: ['to.number', 'from.number', 'message.content.text', 'client_ref'],
  },
  // wrong types
  { name: 'to is a string', body: example('sms', (b) => (b.to = 'sms:447700900000')), names: ['to'] },
  { name: 'to is an array', body: example('sms', (b) => (b.to = [b.to])), names: ['to'] },
  { name: 'from is a number', body: example('sms', (b) => (b.from = 447700900001)), names: ['from'] },
  { name: 'message is a string', body: example('sms', (b) => (b.message = 'hello')), names: ['message'] },
  { name: 'message.content is an array', body: example('sms', (b) => (b.message.content = [])), names: ['message.content'] },
  { name: 'to.type is a number', body: example('sms', (b) => (b.to.type = 5)), names: ['to.type'] },
  { name: 'to.number is a boolean', body: example('sms', (b) => (b.to.number = true)), names: ['to.number'] },
  { name: 'to.number is a fraction', body: example('sms', (b) => (b.to.number = 4477009000.5)), names: ['to.number'] },
  { name: 'to.number is negative', body: example('sms', (b) => (b.to.number = -447700900000)), names: ['to.number'] },
  { name: 'to.number beyond 2^53', body: example('sms', (b) => (b.to.number = 2 ** 60)), names: ['to.number'] },
  { name: 'content.type is an array', body: example('sms', (b) => (b.message.content.type = ['text'])), names: ['message.content.type'] },
  { name: 'text is a number', body: example('sms', (b) => (b.message.content.text = 42)), names: ['message.content.text'] },
  { name: 'client_ref is a number', body: example('sms', (b) => (b.client_ref = 12)), names: ['client_ref'] },
  // sms
  { name: 'sms number with +', body: example('sms', (b) => (b.to.number = '+447700900000')), names: ['to.number'] },
  { name: 'sms number with 00', body: example('sms', (b) => (b.to.number = '00447700900000')), names: ['to.number'] },
  { name: 'sms number of 6 digits', body: example('sms', (b) => (b.to.number = '447700')), names: ['to.number'] },
  { name: 'sms number of 16 digits', body: example('sms', (b) => (b.to.number = '4477009000001234')), names: ['to.number'] },
  { name: 'sms number with a letter', body: example('sms', (b) => (b.to.number = '44770090000a')), names: ['to.number'] },
  { name: 'sms recipient as alphanumeric', body: example('sms', (b) => (b.to.number = 'MyBrand')), names: ['to.number'] },
  { name: 'sms to.id instead of number', body: example('sms', (b) => (b.to = { type: 'sms', id: '447700900000' })), names: ['to.number'] },
  { name: 'sms sender ID of 12 characters', body: example('sms', (b) => (b.from.number = 'OpenDispatch')), names: ['from.number'] },
  { name: 'sms sender ID with punctuation', body: example('sms', (b) => (b.from.number = 'Open-Disp')), names: ['from.number'] },
  { name: 'sms sender ID with a leading space', body: example('sms', (b) => (b.from.number = ' MyBrand')), names: ['from.number'] },
  { name: 'sms text of 1001 characters', body: example('sms', (b) => (b.message.content.text = 'x'.repeat(1001))), names: ['message.content.text'] },
  { name: 'sms empty text', body: example('sms', (b) => (b.message.content.text = '')), names: ['message.content.text'] },
  { name: 'sms missing text', body: example('sms', (b) => delete b.message.content.text), names: ['message.content.text'] },
  {
    name: 'sms image content',
    body: example('sms', (b) => (b.message.content = { type: 'image', image: { url: 'https://example.com/a.jpg' } })),
    names: ['message.content.type'],
  },
  {
    name: 'sms image content with a bad url reports both',
    body: example('sms', (b) => (b.message.content = { type: 'image', image: { url: 'nope' } })),
    names: ['message.content.type', 'message.content.image.url'],
  },
  { name: 'sms unknown content type', body: example('sms', (b) => (b.message.content = { type: 'sticker' })), names: ['message.content.type'] },
  // mms
  { name: 'mms text content', body: example('mms', (b) => (b.message.content = { type: 'text', text: 'hi' })), names: ['message.content.type'] },
  { name: 'mms image missing', body: example('mms', (b) => delete b.message.content.image), names: ['message.content.image'] },
  { name: 'mms image is a string', body: example('mms', (b) => (b.message.content.image = 'https://example.com/a.jpg')), names: ['message.content.image'] },
  { name: 'mms image url missing', body: example('mms', (b) => delete b.message.content.image.url), names: ['message.content.image.url'] },
  { name: 'mms image url ftp', body: example('mms', (b) => (b.message.content.image.url = 'ftp://example.com/a.jpg')), names: ['message.content.image.url'] },
  { name: 'mms image url relative', body: example('mms', (b) => (b.message.content.image.url = '/a.jpg')), names: ['message.content.image.url'] },
  {
    name: 'mms image url over 2000 characters',
    body: example('mms', (b) => (b.message.content.image.url = `https://example.com/${'a'.repeat(2000)}`)),
    names: ['message.content.image.url'],
  },
  { name: 'mms caption of 3001 characters', body: example('mms', (b) => (b.message.content.image.caption = 'c'.repeat(3001))), names: ['message.content.image.caption'] },
  { name: 'mms empty caption', body: example('mms', (b) => (b.message.content.image.caption = '')), names: ['message.content.image.caption'] },
  { name: 'mms number with letters', body: example('mms', (b) => (b.to.number = 'abc')), names: ['to.number'] },
  { name: 'mms alphanumeric sender', body: example('mms', (b) => (b.from.number = 'MyBrand')), names: ['from.number'] },
  // whatsapp
  { name: 'whatsapp text of 4097 characters', body: example('whatsapp', (b) => (b.message.content.text = 'w'.repeat(4097))), names: ['message.content.text'] },
  { name: 'whatsapp to.id instead of number', body: example('whatsapp', (b) => (b.to = { type: 'whatsapp', id: '447700900002' })), names: ['to.number'] },
  { name: 'whatsapp number with +', body: example('whatsapp', (b) => (b.from.number = '+447700900003')), names: ['from.number'] },
  {
    name: 'whatsapp template without locale',
    body: example('whatsapp', (b) => {
      b.message.content = { type: 'template', template: { name: 'ns:tpl', parameters: [{ default: 'x' }] } };
      b.message.whatsapp = { policy: 'deterministic' };
    }),
    names: ['message.whatsapp.locale'],
  },
  {
    name: 'whatsapp template without a whatsapp object',
    body: example('whatsapp', (b) => {
      b.message.content = { type: 'template', template: { name: 'ns:tpl' } };
      delete b.message.whatsapp;
    }),
    names: ['message.whatsapp.locale'],
  },
  { name: 'whatsapp template name missing', body: example('whatsapp', (b) => (b.message.content = { type: 'template', template: { parameters: ['x'] } })), names: ['message.content.template.name'] },
  { name: 'whatsapp template parameters not an array', body: example('whatsapp', (b) => (b.message.content = { type: 'template', template: { name: 'ns:tpl', parameters: 'x' } })), names: ['message.content.template.parameters'] },
  {
    name: 'whatsapp template parameter of a wrong type',
    body: example('whatsapp', (b) => (b.message.content = { type: 'template', template: { name: 'ns:tpl', parameters: ['ok', 1] } })),
    names: ['message.content.template.parameters[1]'],
  },
  {
    name: 'whatsapp template parameter default not a string',
    body: example('whatsapp', (b) => (b.message.content = { type: 'template', template: { name: 'ns:tpl', parameters: [{ default: 5 }, { value: 'x' }] } })),
    names: ['message.content.template.parameters[0].default', 'message.content.template.parameters[1].default'],
  },
  { name: 'whatsapp policy fallback', body: example('whatsapp', (b) => (b.message.whatsapp.policy = 'fallback')), names: ['message.whatsapp.policy'] },
  { name: 'whatsapp unknown policy', body: example('whatsapp', (b) => (b.message.whatsapp.policy = 'random')), names: ['message.whatsapp.policy'] },
  { name: 'whatsapp locale of 1 character', body: example('whatsapp', (b) => (b.message.whatsapp.locale = 'e')), names: ['message.whatsapp.locale'] },
  { name: 'whatsapp locale with a space', body: example('whatsapp', (b) => (b.message.whatsapp.locale = 'en GB')), names: ['message.whatsapp.locale'] },
  { name: 'whatsapp options not an object', body: example('whatsapp', (b) => (b.message.whatsapp = 'en-GB')), names: ['message.whatsapp'] },
  { name: 'whatsapp audio without url', body: example('whatsapp', (b) => (b.message.content = { type: 'audio', audio: {} })), names: ['message.content.audio.url'] },
  { name: 'whatsapp custom not an object', body: example('whatsapp', (b) => (b.message.content = { type: 'custom', custom: 'x' })), names: ['message.content.custom'] },
  {
    name: 'whatsapp custom nested 33 levels',
    body: example('whatsapp', (b) => (b.message.content = { type: 'custom', custom: nested(32, { type: 'interactive' }) })),
    names: ['message.content.custom'],
  },
  // messenger
  { name: 'messenger to.number instead of id', body: example('messenger', (b) => (b.to = { type: 'messenger', number: '1234567890' })), names: ['to.id'] },
  { name: 'messenger id of 51 characters', body: example('messenger', (b) => (b.to.id = 'p'.repeat(51))), names: ['to.id'] },
  { name: 'messenger empty from.id', body: example('messenger', (b) => (b.from.id = '')), names: ['from.id'] },
  { name: 'messenger text of 641 characters', body: example('messenger', (b) => (b.message.content.text = 'm'.repeat(641))), names: ['message.content.text'] },
  {
    name: 'messenger template content',
    body: example('messenger', (b) => (b.message.content = { type: 'template', template: { name: 'tpl' } })),
    names: ['message.content.type'],
  },
  { name: 'messenger message_tag without tag', body: example('messenger', (b) => delete b.message.messenger.tag), names: ['message.messenger.tag'] },
  { name: 'messenger unknown category', body: example('messenger', (b) => (b.message.messenger.category = 'urgent')), names: ['message.messenger.category'] },
  { name: 'messenger tag of 101 characters', body: example('messenger', (b) => (b.message.messenger.tag = 't'.repeat(101))), names: ['message.messenger.tag'] },
  { name: 'messenger options not an object', body: example('messenger', (b) => (b.message.messenger = 'update')), names: ['message.messenger'] },
  { name: 'messenger video url not a url', body: example('messenger', (b) => (b.message.content = { type: 'video', video: { url: 'not a url' } })), names: ['message.content.video.url'] },
  // viber
  { name: 'viber from.number instead of id', body: example('viber_service_msg', (b) => (b.from = { type: 'viber_service_msg', number: '16273' })), names: ['from.id'] },
  { name: 'viber to.id instead of number', body: example('viber_service_msg', (b) => (b.to = { type: 'viber_service_msg', id: '447700900004' })), names: ['to.number'] },
  { name: 'viber ttl 29', body: example('viber_service_msg', (b) => (b.message.viber_service_msg.ttl = 29)), names: ['message.viber_service_msg.ttl'] },
  { name: 'viber ttl 259201', body: example('viber_service_msg', (b) => (b.message.viber_service_msg.ttl = 259_201)), names: ['message.viber_service_msg.ttl'] },
  { name: 'viber ttl as a string', body: example('viber_service_msg', (b) => (b.message.viber_service_msg.ttl = '600')), names: ['message.viber_service_msg.ttl'] },
  { name: 'viber ttl a fraction', body: example('viber_service_msg', (b) => (b.message.viber_service_msg.ttl = 600.5)), names: ['message.viber_service_msg.ttl'] },
  { name: 'viber unknown category', body: example('viber_service_msg', (b) => (b.message.viber_service_msg.category = 'marketing')), names: ['message.viber_service_msg.category'] },
  { name: 'viber type of 101 characters', body: example('viber_service_msg', (b) => (b.message.viber_service_msg.type = 'y'.repeat(101))), names: ['message.viber_service_msg.type'] },
  {
    name: 'viber audio content',
    body: example('viber_service_msg', (b) => (b.message.content = { type: 'audio', audio: { url: 'https://example.com/a.mp3' } })),
    names: ['message.content.type'],
  },
  { name: 'viber text of 1001 characters', body: example('viber_service_msg', (b) => (b.message.content.text = 'v'.repeat(1001))), names: ['message.content.text'] },
];

test('every address and content rule gives a 400 naming every bad field', async () => {
  for (const [index, { name, body, names }] of INVALID.entries()) {
    // Alternate the two auth methods: validation does not depend on them.
    const authorization = index % 2 === 0 ? server.basicAuth : await jwtFor(appA);
    await assertInvalidParams(await send(authorization, body), names).catch((error: Error) => {
      error.message = `${name}: ${error.message}`;
      throw error;
    });
  }
});

// ---------------------------------------------------------------------------------------------
// faults in the request itself: 4xx problem+json, never a 5xx

function raw(body: string | undefined, contentType: string | undefined): Promise<Response> {
  const headers: Record<string, string> = { authorization: server.basicAuth };
  if (contentType !== undefined) headers['content-type'] = contentType;
  return fetch(`${server.url}/v0.1/messages`, { method: 'POST', headers, body });
}

const UNSUPPORTED_MEDIA_TYPE = {
  type: 'https://developer.nexmo.com/api-errors#content-type-header',
  title: 'Unsupported Content-Type header',
  detail: 'Send the body as application/json.',
};

const FAULTS: Array<{ name: string; body: string | undefined; contentType: string | undefined; status: number; names?: string[]; exact?: Json }> = [
  { name: 'malformed JSON', body: '{"to":', contentType: 'application/json', status: 400, names: ['body'] },
  { name: 'trailing garbage after JSON', body: `${JSON.stringify(EXAMPLES.sms)}x`, contentType: 'application/json', status: 400, names: ['body'] },
  { name: 'empty body', body: '', contentType: 'application/json', status: 400, names: ['body'] },
  { name: 'no body and no content type', body: undefined, contentType: undefined, status: 400, names: ['body'] },
  { name: 'a JSON array', body: JSON.stringify([EXAMPLES.sms]), contentType: 'application/json', status: 400, names: ['body'] },
  { name: 'JSON null', body: 'null', contentType: 'application/json', status: 400, names: ['body'] },
  { name: 'a JSON string', body: '"hello"', contentType: 'application/json', status: 400, names: ['body'] },
  { name: 'a JSON number', body: '42', contentType: 'application/json', status: 400, names: ['body'] },
  { name: 'prototype poisoning', body: '{"__proto__":{"admin":true},"to":{"type":"sms","number":"447700900000"}}', contentType: 'application/json', status: 400, names: ['body'] },
  { name: 'arrays nested 150 000 deep', body: `${'['.repeat(150_000)}${']'.repeat(150_000)}`, contentType: 'application/json', status: 400, names: ['body'] },
  {
    name: 'custom content nested 100 000 deep',
    body: `{"to":{"type":"whatsapp","number":"447700900002"},"from":{"type":"whatsapp","number":"447700900003"},"message":{"content":{"type":"custom","custom":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}}}`,
    contentType: 'application/json',
    status: 400,
    names: ['message.content.custom'],
  },
  { name: 'text/plain JSON', body: JSON.stringify(EXAMPLES.sms), contentType: 'text/plain', status: 415, exact: UNSUPPORTED_MEDIA_TYPE },
  { name: 'text/plain; charset=utf-8', body: JSON.stringify(EXAMPLES.sms), contentType: 'text/plain; charset=utf-8', status: 415, exact: UNSUPPORTED_MEDIA_TYPE },
  { name: 'form-urlencoded', body: 'to=447700900000&text=hi', contentType: 'application/x-www-form-urlencoded', status: 415, exact: UNSUPPORTED_MEDIA_TYPE },
  { name: 'an empty content type', body: JSON.stringify(EXAMPLES.sms), contentType: '', status: 415, exact: UNSUPPORTED_MEDIA_TYPE },
  { name: 'an invalid content type', body: JSON.stringify(EXAMPLES.sms), contentType: 'json', status: 415, exact: UNSUPPORTED_MEDIA_TYPE },
  {
    name: 'a body over 1 MB',
    body: JSON.stringify(example('sms', (b) => (b.message.content.text = 'x'.repeat(1024 * 1024)))),
    contentType: 'application/json',
    status: 413,
    exact: { type: 'https://developer.nexmo.com/api-errors#payload-too-large', title: 'Payload Too Large', detail: 'The request body must be at most 1 MB.' },
  },
];

test('faults in the request are 4xx problem+json, never a 5xx', async () => {
  for (const fault of FAULTS) {
    const response = await raw(fault.body, fault.contentType);
    assert.ok(response.status < 500, `${fault.name}: ${response.status}`);
    if (fault.names) {
      await assertInvalidParams(response, fault.names).catch((error: Error) => {
        error.message = `${fault.name}: ${error.message}`;
        throw error;
      });
    } else {
      const body = await problem(response, fault.status);
      const { instance, ...rest } = body;
      assert.deepEqual(rest, fault.exact, fault.name);
    }
  }
});

test('a body of exactly 1 MB is read (and judged on its content)', async () => {
  const base = JSON.stringify(example('sms', (b) => (b.message.content.text = '')));
  const padding = 1024 * 1024 - base.length;
  const body = base.replace('"text":""', `"text":"${'x'.repeat(padding)}"`);
  assert.equal(Buffer.byteLength(body), 1024 * 1024);
  await assertInvalidParams(await raw(body, 'application/json'), ['message.content.text']);
});

test('the JSON parse error names the body', async () => {
  const body = await problem(await raw('{"to":', 'application/json'), 400);
  assert.equal(body.invalid_parameters.length, 1);
  assert.equal(body.invalid_parameters[0].name, 'body');
  assert.match(body.invalid_parameters[0].reason, /JSON/);
});

// ---------------------------------------------------------------------------------------------
// the message resource, and who may see it

test('GET /v0.1/messages/{uuid} returns the message with its status history after delivery', async () => {
  const body = example('sms', (b) => (b.client_ref = 'history-1'));
  const uuid = await accepted(await send(await jwtFor(appA), body));
  const sentAt = (await stored(uuid)).createdAt;
  await receiver.waitFor(webhookFor(uuid, 'submitted'));

  // Before delivery: submitted, nothing else.
  const before = await fetch(`${server.url}/v0.1/messages/${uuid}`, { headers: { authorization: await jwtFor(appA) } });
  assert.equal(before.status, 200);
  const early = (await before.json()) as Json;
  assert.equal(early.status, 'submitted');
  assert.deepEqual(early.history, [{ status: 'submitted', timestamp: new Date(sentAt).toISOString() }]);

  await advanceClock(1);
  await receiver.waitFor(webhookFor(uuid, 'delivered'));

  const response = await fetch(`${server.url}/v0.1/messages/${uuid}`, { headers: { authorization: await jwtFor(appA) } });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const { webhooks, ...resource } = (await response.json()) as Json;
  const usage = { price: '0', currency: 'EUR' };
  assert.deepEqual(resource, {
    message_uuid: uuid,
    direction: 'outbound',
    channel: 'sms',
    to: body.to,
    from: body.from,
    message: body.message,
    client_ref: 'history-1',
    status: 'delivered',
    timestamp: new Date(sentAt).toISOString(),
    usage,
    history: [
      { status: 'submitted', timestamp: new Date(sentAt).toISOString() },
      { status: 'delivered', timestamp: new Date(sentAt + 1000).toISOString(), usage },
    ],
    attempts: [{ attempt: 1, provider: 'sandbox', timestamp: new Date(sentAt).toISOString(), outcome: 'submitted' }],
    _links: { self: { href: `/v0.1/messages/${uuid}` } },
  });
  assert.equal(webhooks.length, 2);
  for (const webhook of webhooks as Json[]) {
    assert.deepEqual(Object.keys(webhook).sort(), ['attempts', 'id', 'kind', 'state', 'url']);
    assert.equal(webhook.kind, 'message-status');
    assert.equal(webhook.url, appA.statusUrl);
  }

  // The same account's Basic auth sees every message of the account.
  const viaBasic = await fetch(`${server.url}/v0.1/messages/${uuid}`, { headers: { authorization: server.basicAuth } });
  assert.equal(viaBasic.status, 200);
  assert.equal(((await viaBasic.json()) as Json).message_uuid, uuid);
});

async function assertMessageNotFound(uuid: string, authorization: string): Promise<void> {
  const response = await fetch(`${server.url}/v0.1/messages/${uuid}`, { headers: { authorization } });
  const body = await problem(response, 404);
  assert.deepEqual(body, {
    type: 'https://developer.nexmo.com/api-errors#not-found',
    title: 'Not Found',
    detail: `Message '${uuid}' does not exist, or you do not have access`,
    instance: body.instance,
  });
}

test('GET of an unknown message is a 404', async () => {
  await assertMessageNotFound(randomUUID(), server.basicAuth);
  await assertMessageNotFound(randomUUID(), await jwtFor(appA));
  await assertMessageNotFound('not-a-uuid', server.basicAuth);
});

test('a JWT sees only its own application\'s messages; another account sees none', async () => {
  const viaA = await accepted(await send(await jwtFor(appA), example('whatsapp')));
  const viaBasic = await accepted(await send(server.basicAuth, example('messenger')));

  // Another application of the same account.
  await assertMessageNotFound(viaA, await jwtFor(appB));
  // A JWT does not see the account's Basic-auth messages, which belong to no application.
  await assertMessageNotFound(viaBasic, await jwtFor(appA));
  // Another account, by Basic auth and by its application's JWT.
  await assertMessageNotFound(viaA, otherAccount.basicAuth);
  await assertMessageNotFound(viaBasic, otherAccount.basicAuth);
  await assertMessageNotFound(viaA, await jwtFor(otherAccountApp));

  // The owner still sees it.
  const own = await fetch(`${server.url}/v0.1/messages/${viaA}`, { headers: { authorization: await jwtFor(appA) } });
  assert.equal(own.status, 200);
});

test('GET /v0.1/messages/{uuid} needs credentials', async () => {
  const uuid = await accepted(await send(server.basicAuth, example('sms')));
  const response = await fetch(`${server.url}/v0.1/messages/${uuid}`);
  const body = await problem(response, 401);
  assert.deepEqual(body, { type: 'https://developer.nexmo.com/api-errors#unauthorized', title: 'Unauthorised', detail: 'Invalid Token', instance: body.instance });
});

// ---------------------------------------------------------------------------------------------
// where status webhooks go

function base64urlJson(segment: string): Json {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Json;
}

/** Checks the HS256 signature with the account's signature secret; returns the claims. */
function verifiedWebhookClaims(webhook: ReceivedWebhook, signatureSecret: string): Json {
  const match = /^Bearer (.+)$/.exec(String(webhook.headers.authorization ?? ''));
  assert.ok(match, 'webhook carries no Bearer JWT');
  const [header, payload, signature] = match[1]!.split('.');
  assert.deepEqual(base64urlJson(header!), { alg: 'HS256', typ: 'JWT' });
  const expected = createHmac('sha256', signatureSecret).update(`${header}.${payload}`).digest('base64url');
  assert.equal(signature, expected, 'webhook signature does not verify with the account signature secret');
  const claims = base64urlJson(payload!);
  assert.equal(claims.payload_hash, createHash('sha256').update(webhook.raw).digest('hex'));
  return claims;
}

test('a JWT send reports to its application\'s messages status_url', async () => {
  const body = example('viber_service_msg', (b) => (b.client_ref = 'to-app'));
  const uuid = await accepted(await send(await jwtFor(appA), body));
  const sentAt = (await stored(uuid)).createdAt;
  const [submitted] = await receiver.waitFor(webhookFor(uuid, 'submitted'));
  assert.equal(submitted!.path, '/app-a-status');
  assert.equal(submitted!.headers['content-type'], 'application/json');
  assert.deepEqual(submitted!.json, {
    message_uuid: uuid,
    to: body.to,
    from: body.from,
    timestamp: new Date(sentAt).toISOString(),
    status: 'submitted',
    client_ref: 'to-app',
  });
  assert.equal(submitted!.raw, JSON.stringify(submitted!.json));
  const claims = verifiedWebhookClaims(submitted!, server.signatureSecret);
  assert.equal(claims.iss, 'Vonage');
  assert.equal(claims.api_key, server.apiKey);
  assert.equal(claims.application_id, appA.id);

  await advanceClock(1);
  const [delivered] = await receiver.waitFor(webhookFor(uuid, 'delivered'));
  assert.equal(delivered!.path, '/app-a-status');
  assert.deepEqual(receiver.matching((w) => w.json.message_uuid === uuid && w.path !== '/app-a-status'), []);
});

test('a Basic-auth send reports to the account\'s default status URL', async () => {
  const body = example('mms');
  const uuid = await accepted(await send(server.basicAuth, body));
  const sentAt = (await stored(uuid)).createdAt;
  const [submitted] = await receiver.waitFor(webhookFor(uuid, 'submitted'));
  assert.equal(submitted!.path, '/account-status');
  assert.deepEqual(submitted!.json, { message_uuid: uuid, to: body.to, from: body.from, timestamp: new Date(sentAt).toISOString(), status: 'submitted' });
  const claims = verifiedWebhookClaims(submitted!, server.signatureSecret);
  assert.equal(claims.api_key, server.apiKey);
  assert.equal(claims.application_id, undefined);

  await advanceClock(1);
  const [delivered] = await receiver.waitFor(webhookFor(uuid, 'delivered'));
  assert.equal(delivered!.path, '/account-status');
  assert.deepEqual(receiver.matching((w) => w.json.message_uuid === uuid && w.path !== '/account-status'), []);
});
