/**
 * The sandbox phone network end to end (DESIGN §4): scripted recipients, handsets, manual reads,
 * inbound replies and the virtual clock, all through real HTTP. Time moves only with
 * `POST /sandbox/clock/advance`; async arrival is awaited with the receiver, and "nothing more
 * happens" is checked once the engine has no due job left (`settle`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateApplicationJwt } from '../src/cli/generate-jwt.js';
import { startTestServer, basic, type TestServer } from './support/test-server.js';
import { inEventOrder, WebhookReceiver, type ReceivedWebhook } from './support/webhook-receiver.js';

// ---------------------------------------------------------------------------------------------
// helpers

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** `authorization` defaults to the main account's Basic auth; `null` sends none. */
async function call(server: TestServer, method: string, path: string, body?: unknown, authorization: string | null = server.basicAuth): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (authorization !== null) headers.authorization = authorization;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${server.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: text === '' ? undefined : JSON.parse(text) };
}

const USER = '447700900100';
const BUSINESS = '447700900001';

function sms(to: string, text = 'hello', from = BUSINESS) {
  return { to: { type: 'sms', number: to }, from: { type: 'sms', number: from }, message: { content: { type: 'text', text } } };
}

function whatsapp(to: string, text = 'hello', from = BUSINESS) {
  return { to: { type: 'whatsapp', number: to }, from: { type: 'whatsapp', number: from }, message: { content: { type: 'text', text } } };
}

async function send(server: TestServer, body: unknown, authorization: string = server.basicAuth): Promise<string> {
  const answer = await call(server, 'POST', '/v0.1/messages', body, authorization);
  assert.equal(answer.status, 202, answer.text);
  assert.match(answer.json.message_uuid, /^[0-9a-f-]{36}$/);
  return answer.json.message_uuid as string;
}

async function script(server: TestServer, channel: string, address: string, behaviour: unknown, authorization = server.basicAuth): Promise<Answer> {
  return call(server, 'PUT', `/sandbox/recipients/${channel}/${address}`, behaviour, authorization);
}

async function advance(server: TestServer, seconds: number): Promise<void> {
  const before = await clockNow(server);
  const answer = await call(server, 'POST', '/sandbox/clock/advance', { seconds });
  assert.equal(answer.status, 200, answer.text);
  assert.deepEqual(answer.json, { clock: 'virtual', now: iso(before + Math.round(seconds * 1000)) });
}

async function clockNow(server: TestServer): Promise<number> {
  const answer = await call(server, 'GET', '/sandbox/clock');
  assert.equal(answer.status, 200, answer.text);
  return Date.parse(answer.json.now);
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Resolves once the engine has nothing left to do at the current (virtual) time: no job in
 * flight and none due. Webhooks are jobs, so everything that was going to arrive has arrived.
 */
function settle(server: TestServer): Promise<void> {
  return server.server.engine.settle();
}

const about = (uuid: string) => (webhook: ReceivedWebhook) => webhook.json.message_uuid === uuid;
const statusesOf = (receiver: WebhookReceiver, uuid: string): string[] => inEventOrder(receiver.matching(about(uuid))).map((w) => w.json.status);
const withStatus = (uuid: string, status: string) => (webhook: ReceivedWebhook) => webhook.json.message_uuid === uuid && webhook.json.status === status;

async function messageResource(server: TestServer, uuid: string): Promise<any> {
  const answer = await call(server, 'GET', `/v0.1/messages/${uuid}`);
  assert.equal(answer.status, 200, answer.text);
  return answer.json;
}

async function handset(server: TestServer, channel: string, to: string, authorization = server.basicAuth): Promise<any[]> {
  const answer = await call(server, 'GET', `/sandbox/messages?channel=${channel}&to=${to}`, undefined, authorization);
  assert.equal(answer.status, 200, answer.text);
  return answer.json.messages;
}

/** A virtual-clock server whose account reports to a fresh receiver. */
async function sandboxWorld(options: { configFile?: Record<string, unknown> } = {}) {
  const receiver = await new WebhookReceiver().start();
  const server = await startTestServer({ clock: 'virtual', statusUrl: `${receiver.url}/status`, inboundUrl: `${receiver.url}/inbound`, ...options });
  return {
    receiver,
    server,
    close: async () => {
      await server.close();
      await receiver.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// scripted recipients

test('an unscripted recipient: submitted, delivered after 1 s (not earlier), never read', async () => {
  const { server, receiver, close } = await sandboxWorld();
  try {
    const t0 = await clockNow(server);
    const uuid = await send(server, sms(USER));
    const [submitted] = await receiver.waitFor(withStatus(uuid, 'submitted'));
    assert.equal(submitted!.path, '/status');
    assert.equal(submitted!.json.timestamp, iso(t0));
    assert.equal(submitted!.json.error, undefined);
    assert.equal(submitted!.json.usage, undefined);

    await advance(server, 0.999);
    await settle(server);
    assert.deepEqual(statusesOf(receiver, uuid), ['submitted']);
    assert.equal((await messageResource(server, uuid)).status, 'submitted');

    await advance(server, 0.001);
    const [delivered] = await receiver.waitFor(withStatus(uuid, 'delivered'));
    assert.equal(delivered!.json.timestamp, iso(t0 + 1000));
    // The sandbox charges nothing unless a price table is configured.
    assert.deepEqual(delivered!.json.usage, { currency: 'EUR', price: '0' });

    await advance(server, 86_400);
    await settle(server);
    assert.deepEqual(statusesOf(receiver, uuid), ['submitted', 'delivered']);
    const resource = await messageResource(server, uuid);
    assert.equal(resource.status, 'delivered');
    assert.deepEqual(resource.history.map((h: any) => h.status), ['submitted', 'delivered']);
    const [onHandset] = await handset(server, 'sms', USER);
    assert.equal(onHandset.message_uuid, uuid);
    assert.equal(onHandset.status, 'delivered');
    assert.equal('read_at' in onHandset, false);
  } finally {
    await close();
  }
});

test('{delivered_after: 0.5, read_after: 2}: delivered at 0.5 s, then read at 2 s', async () => {
  const { server, receiver, close } = await sandboxWorld();
  try {
    const put = await script(server, 'whatsapp', USER, { delivered_after: 0.5, read_after: 2 });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.json, { channel: 'whatsapp', address: USER, script: { delivered_after: 0.5, read_after: 2 } });
    const got = await call(server, 'GET', `/sandbox/recipients/whatsapp/${USER}`);
    assert.deepEqual(got.json, { channel: 'whatsapp', address: USER, script: { delivered_after: 0.5, read_after: 2 } });

    const t0 = await clockNow(server);
    const uuid = await send(server, whatsapp(USER));
    await receiver.waitFor(withStatus(uuid, 'submitted'));

    await advance(server, 0.5);
    const [delivered] = await receiver.waitFor(withStatus(uuid, 'delivered'));
    assert.equal(delivered!.json.timestamp, iso(t0 + 500));
    await advance(server, 1.499);
    await settle(server);
    assert.deepEqual(statusesOf(receiver, uuid), ['submitted', 'delivered']);

    await advance(server, 0.001);
    const [read] = await receiver.waitFor(withStatus(uuid, 'read'));
    assert.equal(read!.json.timestamp, iso(t0 + 2000));
    assert.equal(read!.json.usage, undefined, 'usage belongs to delivered only');

    await advance(server, 3600);
    await settle(server);
    assert.deepEqual(statusesOf(receiver, uuid), ['submitted', 'delivered', 'read']);
    assert.equal((await messageResource(server, uuid)).status, 'read');
    const [onHandset] = await handset(server, 'whatsapp', USER);
    assert.equal(onHandset.status, 'read');
    assert.equal(onHandset.read_at, iso(t0 + 2000));
  } finally {
    await close();
  }
});

test('SMS and MMS recipients cannot be scripted to read: those channels have no read receipts', async () => {
  const { server, close } = await sandboxWorld();
  try {
    for (const channel of ['sms', 'mms']) {
      const put = await script(server, channel, USER, { delivered_after: 0.5, read_after: 2 });
      assert.equal(put.status, 400, put.text);
      assert.deepEqual(put.json.invalid_parameters, [{ name: 'read_after', reason: `${channel} has no read receipts` }]);
    }
  } finally {
    await close();
  }
});

test('one big clock jump still reports each scripted receipt at its scripted time', async () => {
  const { server, receiver, close } = await sandboxWorld();
  try {
    assert.equal((await script(server, 'whatsapp', USER, { delivered_after: 0.5, read_after: 2 })).status, 200);
    const t0 = await clockNow(server);
    const uuid = await send(server, { to: { type: 'whatsapp', number: USER }, from: { type: 'whatsapp', number: BUSINESS }, message: { content: { type: 'text', text: 'hi' } } });
    await receiver.waitFor(withStatus(uuid, 'submitted'));
    await advance(server, 600);
    await receiver.waitFor(withStatus(uuid, 'read'));
    await settle(server);
    const byStatus = Object.fromEntries(receiver.matching(about(uuid)).map((w) => [w.json.status, w.json.timestamp]));
    assert.deepEqual(byStatus, { submitted: iso(t0), delivered: iso(t0 + 500), read: iso(t0 + 2000) });
    const resource = await messageResource(server, uuid);
    assert.equal(resource.status, 'read');
    // Both receipts are claimed in the same batch and race, so the history's order may differ
    // (a read can be recorded before its delivery); each keeps its scripted time.
    assert.deepEqual(
      Object.fromEntries(resource.history.map((h: any) => [h.status, h.timestamp])),
      { submitted: iso(t0), delivered: iso(t0 + 500), read: iso(t0 + 2000) },
    );
    assert.equal(resource.history.length, 3);
    const [onHandset] = await handset(server, 'whatsapp', USER);
    assert.equal(onHandset.read_at, iso(t0 + 2000));
  } finally {
    await close();
  }
});

test('{reject: {code: 1020, reason: "Invalid params"}}: a rejected webhook with the error, nothing on the handset', async () => {
  const { server, receiver, close } = await sandboxWorld();
  try {
    assert.equal((await script(server, 'sms', USER, { reject: { code: 1020, reason: 'Invalid params' } })).status, 200);
    const t0 = await clockNow(server);
    const uuid = await send(server, sms(USER));
    const [rejected] = await receiver.waitFor(withStatus(uuid, 'rejected'));
    assert.deepEqual(rejected!.json.error, { code: 1020, reason: 'Invalid params' });
    assert.equal(rejected!.json.timestamp, iso(t0));
    assert.equal(rejected!.json.usage, undefined);

    await advance(server, 86_400);
    await settle(server);
    assert.deepEqual(statusesOf(receiver, uuid), ['rejected'], 'never submitted, never delivered');
    assert.deepEqual(await handset(server, 'sms', USER), []);
    const resource = await messageResource(server, uuid);
    assert.equal(resource.status, 'rejected');
    assert.deepEqual(resource.error, { code: 1020, reason: 'Invalid params' });
    // Nothing reached a handset, so there is nothing to read.
    assert.equal((await call(server, 'POST', `/sandbox/messages/${uuid}/read`)).status, 404);
  } finally {
    await close();
  }
});

test('a reject without a reason gets the code\'s short text', async () => {
  const { server, receiver, close } = await sandboxWorld();
  try {
    const put = await script(server, 'sms', USER, { reject: { code: 1240 } });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.json.script, { reject: { code: 1240, reason: 'Illegal number' } });
    const uuid = await send(server, sms(USER));
    const [rejected] = await receiver.waitFor(withStatus(uuid, 'rejected'));
    assert.deepEqual(rejected!.json.error, { code: 1240, reason: 'Illegal number' });
  } finally {
    await close();
  }
});

test('{undeliverable_after: 3, error: {code: 1300}}: submitted, then undeliverable with the error at 3 s', async () => {
  const { server, receiver, close } = await sandboxWorld();
  try {
    const error = { code: 1300, reason: 'Not part of the provider network' };
    assert.equal((await script(server, 'sms', USER, { undeliverable_after: 3, error })).status, 200);
    const t0 = await clockNow(server);
    const uuid = await send(server, sms(USER));
    await receiver.waitFor(withStatus(uuid, 'submitted'));

    await advance(server, 2.999);
    await settle(server);
    assert.deepEqual(statusesOf(receiver, uuid), ['submitted']);

    await advance(server, 0.001);
    const [undeliverable] = await receiver.waitFor(withStatus(uuid, 'undeliverable'));
    assert.deepEqual(undeliverable!.json.error, error);
    assert.equal(undeliverable!.json.timestamp, iso(t0 + 3000));
    assert.equal(undeliverable!.json.usage, undefined);

    await advance(server, 86_400);
    await settle(server);
    assert.deepEqual(statusesOf(receiver, uuid), ['submitted', 'undeliverable']);
    const resource = await messageResource(server, uuid);
    assert.equal(resource.status, 'undeliverable');
    assert.deepEqual(resource.error, error);
    const [onHandset] = await handset(server, 'sms', USER);
    assert.equal(onHandset.status, 'undeliverable');
    // An undeliverable message cannot be read.
    const read = await call(server, 'POST', `/sandbox/messages/${uuid}/read`);
    assert.equal(read.status, 409, read.text);
    await settle(server);
    assert.deepEqual(statusesOf(receiver, uuid), ['submitted', 'undeliverable']);
  } finally {
    await close();
  }
});

test('{silent: true}: stays submitted even a day later', async () => {
  const { server, receiver, close } = await sandboxWorld();
  try {
    assert.equal((await script(server, 'sms', USER, { silent: true })).status, 200);
    const uuid = await send(server, sms(USER));
    await receiver.waitFor(withStatus(uuid, 'submitted'));
    await advance(server, 86_400);
    await settle(server);
    assert.deepEqual(statusesOf(receiver, uuid), ['submitted']);
    assert.equal((await messageResource(server, uuid)).status, 'submitted');
    const [onHandset] = await handset(server, 'sms', USER);
    assert.equal(onHandset.message_uuid, uuid);
    assert.equal(onHandset.status, 'submitted');
    assert.equal(await server.store.countJobs(), 0, 'no receipt is waiting');
  } finally {
    await close();
  }
});

test('re-scripting a recipient applies to later messages only', async () => {
  const { server, receiver, close } = await sandboxWorld();
  try {
    assert.equal((await script(server, 'sms', USER, { silent: true })).status, 200);
    const first = await send(server, sms(USER, 'one'));
    await receiver.waitFor(withStatus(first, 'submitted'));
    assert.equal((await script(server, 'sms', USER, { delivered_after: 0.5 })).status, 200);
    const second = await send(server, sms(USER, 'two'));
    await receiver.waitFor(withStatus(second, 'submitted'));
    await advance(server, 10);
    await receiver.waitFor(withStatus(second, 'delivered'));
    await settle(server);
    assert.deepEqual(statusesOf(receiver, first), ['submitted']);
    assert.deepEqual(statusesOf(receiver, second), ['submitted', 'delivered']);
  } finally {
    await close();
  }
});

// ---------------------------------------------------------------------------------------------
// handsets and manual reads

test('a manual read sends delivered and read now and cancels the scripted receipts', async () => {
  const { server, receiver, close } = await sandboxWorld();
  try {
    assert.equal((await script(server, 'messenger', 'user-psid-1', { delivered_after: 5, read_after: 10 })).status, 200);
    const uuid = await send(server, { to: { type: 'messenger', id: 'user-psid-1' }, from: { type: 'messenger', id: 'page-1' }, message: { content: { type: 'text', text: 'hi' } } });
    await receiver.waitFor(withStatus(uuid, 'submitted'));
    await advance(server, 1);
    const t1 = await clockNow(server);

    const read = await call(server, 'POST', `/sandbox/messages/${uuid}/read`);
    assert.equal(read.status, 200, read.text);
    assert.equal(read.json.message_uuid, uuid);
    assert.equal(read.json.status, 'read');
    assert.equal(read.json.read_at, iso(t1));
    assert.deepEqual(read.json.to, { type: 'messenger', id: 'user-psid-1' });
    assert.deepEqual(read.json.from, { type: 'messenger', id: 'page-1' });

    await receiver.waitFor(about(uuid), 3);
    const [delivered, wasRead] = [receiver.matching(withStatus(uuid, 'delivered')), receiver.matching(withStatus(uuid, 'read'))];
    assert.equal(delivered.length, 1);
    assert.equal(wasRead.length, 1);
    assert.equal(delivered[0]!.json.timestamp, iso(t1));
    assert.equal(wasRead[0]!.json.timestamp, iso(t1));

    // The scripted delivered (5 s) and read (10 s) were cancelled.
    await advance(server, 86_400);
    await settle(server);
    assert.deepEqual(statusesOf(receiver, uuid).sort(), ['delivered', 'read', 'submitted']);
    const resource = await messageResource(server, uuid);
    assert.equal(resource.status, 'read');
    assert.deepEqual(resource.history.map((h: any) => h.status), ['submitted', 'delivered', 'read']);

    // Reading again changes nothing.
    const again = await call(server, 'POST', `/sandbox/messages/${uuid}/read`);
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.read_at, iso(t1));
    await settle(server);
    assert.equal(receiver.matching(about(uuid)).length, 3);
  } finally {
    await close();
  }
});

test('a manual read of a delivered message sends only read', async () => {
  const { server, receiver, close } = await sandboxWorld();
  try {
    const uuid = await send(server, sms(USER));
    await receiver.waitFor(withStatus(uuid, 'submitted'));
    await advance(server, 1);
    await receiver.waitFor(withStatus(uuid, 'delivered'));
    const read = await call(server, 'POST', `/sandbox/messages/${uuid}/read`);
    assert.equal(read.status, 200, read.text);
    await receiver.waitFor(withStatus(uuid, 'read'));
    await advance(server, 3600);
    await settle(server);
    assert.deepEqual(statusesOf(receiver, uuid), ['submitted', 'delivered', 'read']);
  } finally {
    await close();
  }
});

test('reading an unknown or another account\'s message is 404', async () => {
  const { server, receiver, close } = await sandboxWorld();
  try {
    const uuid = await send(server, sms(USER));
    await receiver.waitFor(withStatus(uuid, 'submitted'));
    const other = await server.createAccount();
    const foreign = await call(server, 'POST', `/sandbox/messages/${uuid}/read`, undefined, other.basicAuth);
    assert.equal(foreign.status, 404, foreign.text);
    assert.equal(foreign.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    const unknown = await call(server, 'POST', '/sandbox/messages/00000000-0000-4000-8000-000000000000/read');
    assert.equal(unknown.status, 404, unknown.text);
    await settle(server);
    assert.deepEqual(statusesOf(receiver, uuid), ['submitted']);
  } finally {
    await close();
  }
});

test('GET /sandbox/messages lists what a handset received, newest first, with status', async () => {
  const { server, receiver, close } = await sandboxWorld();
  try {
    assert.equal((await script(server, 'sms', USER, { silent: true })).status, 200);
    const sent: Array<{ uuid: string; at: number; text: string }> = [];
    for (const text of ['first', 'second', 'third']) {
      const at = await clockNow(server);
      const uuid = await send(server, sms(USER, text));
      await receiver.waitFor(withStatus(uuid, 'submitted'));
      sent.push({ uuid, at, text });
      await advance(server, 1);
    }
    // Other handsets and channels do not show up.
    const elsewhere = await send(server, sms('447700900999', 'not yours'));
    const whatsapp = await send(server, { to: { type: 'whatsapp', number: USER }, from: { type: 'whatsapp', number: BUSINESS }, message: { content: { type: 'text', text: 'wa' } } });
    await receiver.waitFor(withStatus(elsewhere, 'submitted'));
    await receiver.waitFor(withStatus(whatsapp, 'submitted'));
    const manual = await call(server, 'POST', `/sandbox/messages/${sent[1]!.uuid}/read`);
    assert.equal(manual.status, 200, manual.text);
    const readAt = await clockNow(server);

    const listed = await handset(server, 'sms', USER);
    assert.deepEqual(listed, [
      { message_uuid: sent[2]!.uuid, channel: 'sms', to: { type: 'sms', number: USER }, from: { type: 'sms', number: BUSINESS }, message: { content: { type: 'text', text: 'third' } }, received_at: iso(sent[2]!.at), status: 'submitted', times_received: 1 },
      { message_uuid: sent[1]!.uuid, channel: 'sms', to: { type: 'sms', number: USER }, from: { type: 'sms', number: BUSINESS }, message: { content: { type: 'text', text: 'second' } }, received_at: iso(sent[1]!.at), status: 'read', read_at: iso(readAt), times_received: 1 },
      { message_uuid: sent[0]!.uuid, channel: 'sms', to: { type: 'sms', number: USER }, from: { type: 'sms', number: BUSINESS }, message: { content: { type: 'text', text: 'first' } }, received_at: iso(sent[0]!.at), status: 'submitted', times_received: 1 },
    ]);
    assert.deepEqual((await handset(server, 'whatsapp', USER)).map((m) => m.message_uuid), [whatsapp]);
    assert.deepEqual((await handset(server, 'sms', '447700900999')).map((m) => m.message_uuid), [elsewhere]);

    const limited = await call(server, 'GET', `/sandbox/messages?channel=sms&to=${USER}&limit=2`);
    assert.deepEqual(limited.json.messages.map((m: any) => m.message_uuid), [sent[2]!.uuid, sent[1]!.uuid]);
    const all = await call(server, 'GET', '/sandbox/messages');
    assert.equal(all.json.messages.length, 5);
    const badLimit = await call(server, 'GET', '/sandbox/messages?limit=0');
    assert.equal(badLimit.status, 400);
    assert.deepEqual(badLimit.json.invalid_parameters.map((p: any) => p.name), ['limit']);

    // Another account's handset view of the same number is empty.
    const other = await server.createAccount();
    assert.deepEqual(await handset(server, 'sms', USER, other.basicAuth), []);
  } finally {
    await close();
  }
});

// ---------------------------------------------------------------------------------------------
// inbound replies

test('a reply goes to the inbound_url of the application that wrote to the user; otherwise to the account default', async () => {
  const account = await new WebhookReceiver().start();
  const appReceiver = await new WebhookReceiver().start();
  const server = await startTestServer({ clock: 'virtual', statusUrl: `${account.url}/status`, inboundUrl: `${account.url}/inbound` });
  try {
    const created = await call(server, 'POST', '/v2/applications', {
      name: 'replies',
      capabilities: { messages: { webhooks: { inbound_url: { address: `${appReceiver.url}/inbound`, http_method: 'POST' }, status_url: { address: `${appReceiver.url}/status`, http_method: 'POST' } } } },
    });
    assert.equal(created.status, 201, created.text);
    const jwt = await generateApplicationJwt({ privateKeyPem: created.json.keys.private_key, applicationId: created.json.id });

    const outbound = await send(server, sms(USER, 'Shall we?'), `Bearer ${jwt}`);
    const [status] = await appReceiver.waitFor(withStatus(outbound, 'submitted'));
    assert.equal(status!.path, '/status');

    const t = await clockNow(server);
    const reply = await call(server, 'POST', '/sandbox/inbound', { channel: 'sms', from: USER, to: BUSINESS, text: 'Yes please' });
    assert.equal(reply.status, 202, reply.text);
    const inboundUuid = reply.json.message_uuid as string;
    assert.match(inboundUuid, /^[0-9a-f-]{36}$/);
    const [inbound] = await appReceiver.waitFor((w) => w.path === '/inbound');
    assert.deepEqual(inbound!.json, {
      message_uuid: inboundUuid,
      to: { type: 'sms', number: BUSINESS },
      from: { type: 'sms', number: USER },
      timestamp: iso(t),
      direction: 'inbound',
      message: { content: { type: 'text', text: 'Yes please' } },
    });

    // A user nobody wrote to: the account's default inbound URL.
    const stranger = await call(server, 'POST', '/sandbox/inbound', { channel: 'messenger', from: 'psid-77', to: 'page-9', text: 'hello?' });
    assert.equal(stranger.status, 202, stranger.text);
    const [toAccount] = await account.waitFor((w) => w.path === '/inbound');
    assert.deepEqual(toAccount!.json, {
      message_uuid: stranger.json.message_uuid,
      to: { type: 'messenger', id: 'page-9' },
      from: { type: 'messenger', id: 'psid-77' },
      timestamp: iso(t),
      direction: 'inbound',
      message: { content: { type: 'text', text: 'hello?' } },
    });

    // The same user writing to another business number has no conversation with the application.
    const otherNumber = await call(server, 'POST', '/sandbox/inbound', { channel: 'sms', from: USER, to: '447700900002', text: 'wrong number' });
    assert.equal(otherNumber.status, 202, otherNumber.text);
    await account.waitFor((w) => w.path === '/inbound', 2);

    await settle(server);
    assert.equal(appReceiver.matching((w) => w.path === '/inbound').length, 1);
    assert.equal(account.matching((w) => w.path === '/inbound').length, 2);
    assert.equal(account.matching((w) => w.path === '/status').length, 0, 'JWT sends report to the application');

    // The inbound message is visible through the Messages API of the account.
    const stored = await messageResource(server, inboundUuid);
    assert.equal(stored.direction, 'inbound');
    assert.deepEqual(stored.from, { type: 'sms', number: USER });
  } finally {
    await server.close();
    await account.close();
    await appReceiver.close();
  }
});

test('a reply with nowhere to go is 422; bad replies are 400 naming the field', async () => {
  const receiver = await new WebhookReceiver().start();
  // Only a status URL: no default inbound URL.
  const server = await startTestServer({ clock: 'virtual', statusUrl: `${receiver.url}/status` });
  try {
    const nowhere = await call(server, 'POST', '/sandbox/inbound', { channel: 'sms', from: USER, to: BUSINESS, text: 'anyone?' });
    assert.equal(nowhere.status, 422, nowhere.text);
    assert.equal(nowhere.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(nowhere.json.title, 'Unprocessable Entity');

    // A Basic-auth conversation has no application, and the account has no inbound URL either.
    const outbound = await send(server, sms(USER));
    await receiver.waitFor(withStatus(outbound, 'submitted'));
    assert.equal((await call(server, 'POST', '/sandbox/inbound', { channel: 'sms', from: USER, to: BUSINESS, text: 'anyone?' })).status, 422);

    const cases: Array<[unknown, string[]]> = [
      [{ channel: 'fax', from: USER, to: BUSINESS, text: 'x' }, ['channel']],
      [{ channel: 'sms', to: BUSINESS, text: 'x' }, ['from']],
      [{ channel: 'sms', from: USER, to: '', text: 'x' }, ['to']],
      [{ channel: 'sms', from: USER, to: BUSINESS }, ['text']],
      [{ channel: 'sms', from: USER, to: BUSINESS, text: '' }, ['text']],
      [[], ['body']],
    ];
    for (const [body, names] of cases) {
      const answer = await call(server, 'POST', '/sandbox/inbound', body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.equal(answer.json.type, 'https://www.nexmo.com/messages/Errors#InvalidParams');
      assert.deepEqual(answer.json.invalid_parameters.map((p: any) => p.name), names, JSON.stringify(body));
    }
    await settle(server);
    assert.equal(receiver.matching((w) => w.path !== '/status').length, 0);
  } finally {
    await server.close();
    await receiver.close();
  }
});

// ---------------------------------------------------------------------------------------------
// validation, auth, clock, accounts

test('bad scripts are 400 naming the field, and leave the previous script in place', async () => {
  const { server, close } = await sandboxWorld();
  try {
    assert.equal((await script(server, 'sms', USER, { delivered_after: 2 })).status, 200);
    const cases: Array<[unknown, string[]]> = [
      [{ delivered_after: -1 }, ['delivered_after']],
      [{ delivered_after: '1' }, ['delivered_after']],
      [{ delivered_after: 2, read_after: 1 }, ['read_after']],
      [{ reject: { code: 'x' } }, ['reject.code']],
      [{ reject: { code: 1020, reason: 7 } }, ['reject.reason']],
      [{ reject: 5 }, ['reject']],
      [{ undeliverable_after: 3, error: { code: 12 } }, ['error.code']],
      [{ undeliverable_after: -3 }, ['undeliverable_after']],
      [{ silent: false }, ['silent']],
      [{ reject: { code: 1020 }, silent: true }, ['reject']],
      [{ delivered_after: 1, error: { code: 1300 } }, ['error']],
      [{ delivered_afer: 1 }, ['delivered_afer', 'body']],
      [{}, ['body']],
      [[1], ['body']],
    ];
    for (const [body, names] of cases) {
      const answer = await script(server, 'sms', USER, body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.equal(answer.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      assert.equal(answer.json.type, 'https://www.nexmo.com/messages/Errors#InvalidParams');
      assert.deepEqual(answer.json.invalid_parameters.map((p: any) => p.name), names, JSON.stringify(body));
      for (const parameter of answer.json.invalid_parameters) assert.equal(typeof parameter.reason, 'string');
    }
    const kept = await call(server, 'GET', `/sandbox/recipients/sms/${USER}`);
    assert.deepEqual(kept.json.script, { delivered_after: 2 });

    const unknownChannel = await script(server, 'fax', USER, { silent: true });
    assert.equal(unknownChannel.status, 400, unknownChannel.text);
    assert.deepEqual(unknownChannel.json.invalid_parameters.map((p: any) => p.name), ['channel']);
    for (const path of ['/sandbox/recipients/fax/123', '/sandbox/messages?channel=fax']) {
      const answer = await call(server, 'GET', path);
      assert.equal(answer.status, 400, path);
      assert.deepEqual(answer.json.invalid_parameters.map((p: any) => p.name), ['channel'], path);
    }
    for (const seconds of [-1, '10', null, Number.MAX_SAFE_INTEGER]) {
      const answer = await call(server, 'POST', '/sandbox/clock/advance', { seconds });
      assert.equal(answer.status, 400, String(seconds));
      assert.deepEqual(answer.json.invalid_parameters.map((p: any) => p.name), ['seconds']);
    }
  } finally {
    await close();
  }
});

test('every sandbox route needs the account\'s Basic auth', async () => {
  const { server, close } = await sandboxWorld();
  try {
    const created = await call(server, 'POST', '/v2/applications', { name: 'jwt-holder', capabilities: { messages: { webhooks: {} } } });
    assert.equal(created.status, 201, created.text);
    const jwt = await generateApplicationJwt({ privateKeyPem: created.json.keys.private_key, applicationId: created.json.id });
    const routes: Array<[string, string, unknown]> = [
      ['PUT', `/sandbox/recipients/sms/${USER}`, { silent: true }],
      ['GET', `/sandbox/recipients/sms/${USER}`, undefined],
      ['GET', '/sandbox/messages', undefined],
      ['POST', '/sandbox/messages/00000000-0000-4000-8000-000000000000/read', undefined],
      ['POST', '/sandbox/inbound', { channel: 'sms', from: USER, to: BUSINESS, text: 'x' }],
      ['GET', '/sandbox/clock', undefined],
      ['POST', '/sandbox/clock/advance', { seconds: 1 }],
    ];
    const wrongSecret = basic(server.apiKey, 'not-the-secret-00');
    for (const [method, path, body] of routes) {
      for (const authorization of [null, wrongSecret, `Bearer ${jwt}`, 'Basic !!!']) {
        const answer = await call(server, method, path, body, authorization);
        assert.equal(answer.status, 401, `${method} ${path} with ${authorization?.slice(0, 12)}`);
        assert.equal(answer.headers.get('content-type'), 'application/problem+json; charset=utf-8');
        assert.equal(answer.json.type, 'https://developer.nexmo.com/api-errors#unauthorized');
      }
    }
    // Nothing happened: no script stored, the clock did not move.
    const got = await call(server, 'GET', `/sandbox/recipients/sms/${USER}`);
    assert.deepEqual(got.json.script, { delivered_after: 1 });
  } finally {
    await close();
  }
});

test('the clock can only be advanced on a virtual-clock server', async () => {
  const server = await startTestServer({ clock: 'real' });
  try {
    const clock = await call(server, 'GET', '/sandbox/clock');
    assert.equal(clock.status, 200);
    assert.equal(clock.json.clock, 'real');
    assert.ok(Math.abs(Date.parse(clock.json.now) - Date.now()) < 5000);
    const answer = await call(server, 'POST', '/sandbox/clock/advance', { seconds: 600 });
    assert.equal(answer.status, 409, answer.text);
    assert.equal(answer.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(answer.json.title, 'Conflict');
  } finally {
    await server.close();
  }
});

test('recipients are scripted per account: another account\'s script does not apply', async () => {
  const receiverA = await new WebhookReceiver().start();
  const receiverB = await new WebhookReceiver().start();
  const server = await startTestServer({ clock: 'virtual', statusUrl: `${receiverA.url}/status` });
  try {
    const b = await server.createAccount({ statusUrl: `${receiverB.url}/status` });
    assert.equal((await script(server, 'sms', USER, { reject: { code: 1020, reason: 'Invalid params' } })).status, 200);

    const fromA = await send(server, sms(USER));
    const fromB = await send(server, sms(USER), b.basicAuth);
    await receiverA.waitFor(withStatus(fromA, 'rejected'));
    await receiverB.waitFor(withStatus(fromB, 'submitted'));
    await advance(server, 1);
    await receiverB.waitFor(withStatus(fromB, 'delivered'));
    await settle(server);
    assert.deepEqual(statusesOf(receiverA, fromA), ['rejected']);
    assert.deepEqual(statusesOf(receiverB, fromB), ['submitted', 'delivered']);
    assert.equal(receiverA.matching(about(fromB)).length, 0);
    assert.equal(receiverB.matching(about(fromA)).length, 0);

    const seenByB = await call(server, 'GET', `/sandbox/recipients/sms/${USER}`, undefined, b.basicAuth);
    assert.deepEqual(seenByB.json, { channel: 'sms', address: USER, script: { delivered_after: 1 } });
    // B scripting the same number does not change A's recipient.
    assert.equal((await script(server, 'sms', USER, { silent: true }, b.basicAuth)).status, 200);
    const seenByA = await call(server, 'GET', `/sandbox/recipients/sms/${USER}`);
    assert.deepEqual(seenByA.json.script, { reject: { code: 1020, reason: 'Invalid params' } });
    assert.deepEqual((await handset(server, 'sms', USER, b.basicAuth)).map((m) => m.message_uuid), [fromB]);
    assert.deepEqual(await handset(server, 'sms', USER), []);
  } finally {
    await server.close();
    await receiverA.close();
    await receiverB.close();
  }
});

// ---------------------------------------------------------------------------------------------
// transient failures, concurrent reads, large handsets

test('{transient_failures: 3, retry_after: 1}: sent four times, then delivered; the failures show in the message', async () => {
  const { server, receiver, close } = await sandboxWorld();
  try {
    assert.equal((await script(server, 'sms', USER, { transient_failures: 3, retry_after: 1 })).status, 200);
    const t0 = await clockNow(server);
    const uuid = await send(server, sms(USER));
    // The sandbox asks for 1 s; the backoff between tries (1 s, 2 s, 4 s) is longer from the second on.
    await advance(server, 6.999);
    await settle(server);
    assert.deepEqual(statusesOf(receiver, uuid), [], 'a transient failure is not a status');
    assert.equal((await messageResource(server, uuid)).status, 'accepted');
    await advance(server, 0.001);
    const [submitted] = await receiver.waitFor(withStatus(uuid, 'submitted'));
    assert.equal(submitted!.json.timestamp, iso(t0 + 7000));
    await advance(server, 1);
    await receiver.waitFor(withStatus(uuid, 'delivered'));

    const resource = await messageResource(server, uuid);
    assert.equal(resource.status, 'delivered');
    assert.deepEqual(resource.history.map((h: any) => h.status), ['submitted', 'delivered']);
    const failure = (n: number) => ({ code: 1331, reason: `Provider error: the sandbox answered 503 (scripted transient failure ${n} of 3)` });
    assert.deepEqual(resource.attempts, [
      { attempt: 1, provider: 'sandbox', timestamp: iso(t0), outcome: 'failed', error: failure(1) },
      { attempt: 2, provider: 'sandbox', timestamp: iso(t0 + 1000), outcome: 'failed', error: failure(2) },
      { attempt: 3, provider: 'sandbox', timestamp: iso(t0 + 3000), outcome: 'failed', error: failure(3) },
      { attempt: 4, provider: 'sandbox', timestamp: iso(t0 + 7000), outcome: 'submitted' },
    ]);
    assert.deepEqual(statusesOf(receiver, uuid), ['submitted', 'delivered']);
    const [onHandset] = await handset(server, 'sms', USER);
    assert.deepEqual([onHandset.message_uuid, onHandset.times_received, onHandset.received_at], [uuid, 1, iso(t0 + 7000)], 'failed tries never reached the handset');

    // Each message has its own first three tries.
    const second = await send(server, sms(USER, 'again'));
    await advance(server, 10);
    await receiver.waitFor(withStatus(second, 'delivered'));
    assert.deepEqual((await messageResource(server, second)).attempts.map((a: any) => a.outcome), ['failed', 'failed', 'failed', 'submitted']);
    assert.deepEqual((await call(server, 'GET', `/sandbox/recipients/sms/${USER}`)).json.script, { transient_failures: 3, retry_after: 1 });
  } finally {
    await close();
  }
});

test('a retry_after longer than the backoff is honoured; a plain message still failing after an hour is rejected', async () => {
  const { server, receiver, close } = await sandboxWorld();
  try {
    assert.equal((await script(server, 'sms', USER, { transient_failures: 100, retry_after: 600 })).status, 200);
    const t0 = await clockNow(server);
    const uuid = await send(server, sms(USER));
    await advance(server, 3599);
    await settle(server);
    assert.deepEqual(statusesOf(receiver, uuid), []);
    await advance(server, 1);
    const [rejected] = await receiver.waitFor(withStatus(uuid, 'rejected'));
    assert.deepEqual(rejected!.json.error, { code: 1331, reason: 'Provider error: the sandbox answered 503 (scripted transient failure 7 of 100)' });
    assert.equal(rejected!.json.timestamp, iso(t0 + 3_600_000), 'the try whose retry would fall past the hour ends it');
    const resource = await messageResource(server, uuid);
    assert.equal(resource.status, 'rejected');
    assert.deepEqual(resource.attempts.map((a: any) => Date.parse(a.timestamp) - t0), [0, 600_000, 1_200_000, 1_800_000, 2_400_000, 3_000_000, 3_600_000]);
    assert.deepEqual(resource.attempts.map((a: any) => a.outcome), Array(7).fill('failed'), 'each try failed transiently; the window, not the provider, ended it');
    await advance(server, 3600);
    await settle(server);
    assert.deepEqual(statusesOf(receiver, uuid), ['rejected']);
    assert.deepEqual(await handset(server, 'sms', USER), []);
  } finally {
    await close();
  }
});

test('50 concurrent reads of one message: exactly one delivered and one read, each once as a status and a webhook', async () => {
  const { server, receiver, close } = await sandboxWorld();
  try {
    assert.equal((await script(server, 'messenger', 'psid-many', { silent: true })).status, 200);
    const uuid = await send(server, { to: { type: 'messenger', id: 'psid-many' }, from: { type: 'messenger', id: 'page-1' }, message: { content: { type: 'text', text: 'hi' } } });
    await receiver.waitFor(withStatus(uuid, 'submitted'));
    await settle(server);
    const readAt = await clockNow(server);
    const answers = await Promise.all(Array.from({ length: 50 }, () => call(server, 'POST', `/sandbox/messages/${uuid}/read`)));
    assert.deepEqual([...new Set(answers.map((a) => a.status))], [200]);
    assert.deepEqual([...new Set(answers.map((a) => a.json.read_at))], [iso(readAt)]);
    await settle(server);
    assert.deepEqual(statusesOf(receiver, uuid).sort(), ['delivered', 'read', 'submitted']);
    const resource = await messageResource(server, uuid);
    assert.deepEqual(resource.history.map((h: any) => h.status), ['submitted', 'delivered', 'read']);
    assert.equal(resource.webhooks.length, 3);
  } finally {
    await close();
  }
});

test('GET /sandbox/messages pages large handsets by size: each answer stays small, the pages add up to all', async () => {
  const { server, receiver, close } = await sandboxWorld();
  try {
    // Eighty messages of ~60 kB each (custom content may hold up to 64 kB), 4.8 MB in all.
    const big = (n: number) => ({
      to: { type: 'whatsapp', number: USER },
      from: { type: 'whatsapp', number: BUSINESS },
      message: { content: { type: 'custom', custom: { n, blob: 'x'.repeat(60_000) } } },
    });
    const sent: string[] = [];
    for (let n = 0; n < 80; n += 1) {
      sent.push(await send(server, big(n)));
      await advance(server, 1);
    }
    await settle(server);
    const seen: string[] = [];
    let path: string | undefined = '/sandbox/messages?limit=1000';
    let pages = 0;
    while (path) {
      const answer = await call(server, 'GET', path);
      assert.equal(answer.status, 200, answer.text);
      assert.ok(answer.text.length < 3 * 1024 * 1024, `a page of ${answer.text.length} bytes`);
      assert.ok(answer.json.messages.length >= 1);
      seen.push(...answer.json.messages.map((m: any) => m.message_uuid));
      path = answer.json._links?.next?.href;
      pages += 1;
    }
    assert.deepEqual(seen, [...sent].reverse(), 'newest first, each once, across the pages');
    assert.ok(pages >= 3, `${pages} pages for 4.8 MB`);
    assert.equal((await call(server, 'GET', `/sandbox/messages?channel=whatsapp&to=${USER}&limit=2`)).json._links.next.href.includes('limit=2'), true, 'a next link keeps the filters');
    const bad = await call(server, 'GET', '/sandbox/messages?after=nonsense');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json.invalid_parameters.map((p: any) => p.name), ['after']);
    assert.equal(receiver.matching((w) => w.json.status === 'delivered').length, 80);
  } finally {
    await close();
  }
});

test('a scripted failure that comes due after a manual read is not reported: a read message does not fail', async () => {
  const { server, receiver, close } = await sandboxWorld();
  try {
    assert.equal((await script(server, 'messenger', 'psid-late-fail', { undeliverable_after: 5 })).status, 200);
    const uuid = await send(server, { to: { type: 'messenger', id: 'psid-late-fail' }, from: { type: 'messenger', id: 'page-1' }, message: { content: { type: 'text', text: 'hi' } } });
    await receiver.waitFor(withStatus(uuid, 'submitted'));
    await settle(server);
    assert.equal((await call(server, 'POST', `/sandbox/messages/${uuid}/read`)).status, 200);
    await advance(server, 10);
    await settle(server);
    assert.deepEqual(statusesOf(receiver, uuid).sort(), ['delivered', 'read', 'submitted']);
    assert.equal((await messageResource(server, uuid)).status, 'read');
    assert.equal((await handset(server, 'messenger', 'psid-late-fail'))[0].status, 'read');
  } finally {
    await close();
  }
});

test('a job of a kind this version does not know is left alone: the clock still advances', async () => {
  const { server, close } = await sandboxWorld();
  try {
    const now = await clockNow(server);
    assert.equal(await server.store.commit({ jobs: [{ kind: 'from.a.later.version', payload: {}, dueAt: now }] }), 'committed');
    await advance(server, 5);
    assert.equal(await server.store.countJobs(), 1, 'kept for the version that knows it');
  } finally {
    await close();
  }
});
