/**
 * Outbound webhooks (DESIGN §3 "Webhooks out", reference §2.6–2.8 and §4.2): exact bytes of
 * each payload, the HS256 signature checked with an independent library (jsonwebtoken), and
 * durable delivery: retries on the 5 s / 10 s schedule, no retry on a 4xx, a receiver that is
 * down then back, and a receiver that hangs. Time moves only with the virtual clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { generateApplicationJwt } from '../src/cli/generate-jwt.js';
import { freePort, startTestServer, type TestServer } from './support/test-server.js';
import { WebhookReceiver, type ReceivedWebhook } from './support/webhook-receiver.js';

// The verifier Vonage's own sample uses; nothing of ours is involved in checking signatures.
const jsonwebtoken = createRequire(import.meta.url)('jsonwebtoken') as {
  verify(token: string, secret: string, options: { algorithms: string[]; issuer?: string }): Record<string, unknown>;
  decode(token: string, options: { complete: true }): { header: Record<string, unknown>; payload: Record<string, unknown> };
};

// ---------------------------------------------------------------------------------------------
// helpers

interface Answer {
  status: number;
  text: string;
  json: any;
}

/** `authorization` defaults to the main account's Basic auth. */
async function call(server: TestServer, method: string, path: string, body?: unknown, authorization: string = server.basicAuth): Promise<Answer> {
  const headers: Record<string, string> = { authorization };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${server.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, text, json: text === '' ? undefined : JSON.parse(text) };
}

const USER = '447700900100';
const BUSINESS = '447700900001';

function sms(to: string, extra: Record<string, unknown> = {}, text = 'hello') {
  return { to: { type: 'sms', number: to }, from: { type: 'sms', number: BUSINESS }, message: { content: { type: 'text', text } }, ...extra };
}

async function send(server: TestServer, body: unknown, authorization: string = server.basicAuth): Promise<string> {
  const answer = await call(server, 'POST', '/v0.1/messages', body, authorization);
  assert.equal(answer.status, 202, answer.text);
  return answer.json.message_uuid as string;
}

async function script(server: TestServer, address: string, behaviour: unknown): Promise<void> {
  const answer = await call(server, 'PUT', `/sandbox/recipients/sms/${address}`, behaviour);
  assert.equal(answer.status, 200, answer.text);
}

async function advance(server: TestServer, seconds: number): Promise<void> {
  const answer = await call(server, 'POST', '/sandbox/clock/advance', { seconds });
  assert.equal(answer.status, 200, answer.text);
}

async function clockNow(server: TestServer): Promise<number> {
  const answer = await call(server, 'GET', '/sandbox/clock');
  assert.equal(answer.status, 200, answer.text);
  return Date.parse(answer.json.now);
}

const iso = (ms: number): string => new Date(ms).toISOString();
const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** Resolves once no job is in flight and none is due at the current (virtual) time. */
function settle(server: TestServer): Promise<void> {
  return server.server.engine.settle();
}

const withStatus = (uuid: string, status: string) => (webhook: ReceivedWebhook) => webhook.json.message_uuid === uuid && webhook.json.status === status;

async function webhooksOf(server: TestServer, uuid: string): Promise<Array<{ id: string; kind: string; url: string; state: string; attempts: number }>> {
  const answer = await call(server, 'GET', `/v0.1/messages/${uuid}`);
  assert.equal(answer.status, 200, answer.text);
  return answer.json.webhooks;
}

/** Attempts as stored, without the measured duration (checked here) and without absent fields. */
async function attemptsOf(server: TestServer, webhookId: string): Promise<Array<Record<string, unknown>>> {
  const attempts = await server.store.listWebhookAttempts(webhookId);
  return attempts.map(({ durationMs, ...rest }) => {
    assert.equal(typeof durationMs, 'number');
    assert.ok(durationMs >= 0);
    return Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined));
  });
}

/**
 * Checks `Authorization: Bearer <jwt>` the way a Vonage customer would (reference §4.2 and the
 * official sample), and returns the claims.
 */
function verifySignature(headers: IncomingHttpHeaders, raw: string, secret: string, expected: { apiKey: string; applicationId?: string }) {
  const authorization = headers.authorization ?? '';
  assert.match(authorization, /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
  const token = authorization.slice('Bearer '.length);
  assert.deepEqual(jsonwebtoken.decode(token, { complete: true }).header, { alg: 'HS256', typ: 'JWT' });
  const claims = jsonwebtoken.verify(token, secret, { algorithms: ['HS256'], issuer: 'Vonage' });
  assert.deepEqual(
    Object.keys(claims).sort(),
    ['api_key', ...(expected.applicationId ? ['application_id'] : []), 'iat', 'iss', 'jti', 'payload_hash'].sort(),
  );
  assert.equal(claims.iss, 'Vonage');
  assert.equal(claims.api_key, expected.apiKey);
  assert.equal(claims.application_id, expected.applicationId);
  assert.match(String(claims.jti), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(Number.isInteger(claims.iat));
  // Signed with wall-clock time (receivers compare iat with their own clock), not the virtual one.
  assert.ok(Math.abs((claims.iat as number) - Date.now() / 1000) < 60, `iat ${claims.iat} is now`);
  assert.equal(claims.payload_hash, sha256(raw), 'payload_hash is the SHA-256 of the exact body');
  // The official Node sample re-serialises the parsed body; compact JSON makes that agree.
  assert.equal(sha256(JSON.stringify(JSON.parse(raw))), claims.payload_hash);
  assert.throws(() => jsonwebtoken.verify(token, `${secret}x`, { algorithms: ['HS256'] }), /invalid signature/);
  return claims;
}

function assertWebhookRequest(webhook: ReceivedWebhook, path: string): void {
  assert.equal(webhook.path, path, 'no query string');
  assert.equal(webhook.headers['content-type'], 'application/json');
  assert.equal(webhook.headers['content-length'], String(Buffer.byteLength(webhook.raw)));
}

/** A bare HTTP receiver on a given port, for a receiver that comes back where it was. */
async function listenOn(port: number): Promise<{ server: Server; received: Array<{ raw: string; headers: IncomingHttpHeaders }> }> {
  const received: Array<{ raw: string; headers: IncomingHttpHeaders }> = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ raw: Buffer.concat(chunks).toString('utf8'), headers: request.headers });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return { server, received };
}

/** Waits (real time, bounded) for something asynchronous that no receiver records. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const PRICING = { pricing: { channels: { sms: { default: '0.0333' } } } };

// ---------------------------------------------------------------------------------------------
// payloads, byte for byte, and signatures

test('submitted and delivered status webhooks, byte for byte, priced and signed', async () => {
  const receiver = await new WebhookReceiver().start();
  const server = await startTestServer({ clock: 'virtual', statusUrl: `${receiver.url}/status`, configFile: PRICING });
  try {
    const t0 = await clockNow(server);
    const uuid = await send(server, sms(USER, { client_ref: 'order-42' }));
    const [submitted] = await receiver.waitFor(withStatus(uuid, 'submitted'));
    assert.equal(
      submitted!.raw,
      `{"message_uuid":"${uuid}","to":{"type":"sms","number":"${USER}"},"from":{"type":"sms","number":"${BUSINESS}"},` +
        `"timestamp":"${iso(t0)}","status":"submitted","client_ref":"order-42"}`,
    );
    assertWebhookRequest(submitted!, '/status');
    verifySignature(submitted!.headers, submitted!.raw, server.signatureSecret, { apiKey: server.apiKey });

    await advance(server, 1);
    const [delivered] = await receiver.waitFor(withStatus(uuid, 'delivered'));
    assert.equal(
      delivered!.raw,
      `{"message_uuid":"${uuid}","to":{"type":"sms","number":"${USER}"},"from":{"type":"sms","number":"${BUSINESS}"},` +
        `"timestamp":"${iso(t0 + 1000)}","status":"delivered","usage":{"price":"0.0333","currency":"EUR"},"client_ref":"order-42"}`,
    );
    assertWebhookRequest(delivered!, '/status');
    const a = verifySignature(delivered!.headers, delivered!.raw, server.signatureSecret, { apiKey: server.apiKey });
    const b = verifySignature(submitted!.headers, submitted!.raw, server.signatureSecret, { apiKey: server.apiKey });
    assert.notEqual(a.jti, b.jti, 'every webhook has its own jti');

    await settle(server);
    assert.equal(receiver.received.length, 2);
    // What was stored is what was sent.
    const stored = await server.store.listWebhooksForMessage(uuid);
    assert.deepEqual(stored.map((w) => w.body), [submitted!.raw, delivered!.raw]);
    const resource = await call(server, 'GET', `/v0.1/messages/${uuid}`);
    assert.deepEqual(resource.json.usage, { currency: 'EUR', price: '0.0333' });
    assert.equal(resource.json.client_ref, 'order-42');
  } finally {
    await server.close();
    await receiver.close();
  }
});

test('a rejected status webhook, byte for byte, with the scripted error and no client_ref when none was sent', async () => {
  const receiver = await new WebhookReceiver().start();
  const server = await startTestServer({ clock: 'virtual', statusUrl: `${receiver.url}/status`, configFile: PRICING });
  try {
    await script(server, USER, { reject: { code: 1020, reason: 'Invalid params' } });
    const t0 = await clockNow(server);
    const uuid = await send(server, sms(USER));
    const [rejected] = await receiver.waitFor(withStatus(uuid, 'rejected'));
    assert.equal(
      rejected!.raw,
      `{"message_uuid":"${uuid}","to":{"type":"sms","number":"${USER}"},"from":{"type":"sms","number":"${BUSINESS}"},` +
        `"timestamp":"${iso(t0)}","status":"rejected","error":{"code":1020,"reason":"Invalid params"}}`,
    );
    assertWebhookRequest(rejected!, '/status');
    verifySignature(rejected!.headers, rejected!.raw, server.signatureSecret, { apiKey: server.apiKey });
    await advance(server, 60);
    await settle(server);
    assert.equal(receiver.received.length, 1);
  } finally {
    await server.close();
    await receiver.close();
  }
});

test('an application\'s status and inbound webhooks, byte for byte, signed with its application_id', async () => {
  const receiver = await new WebhookReceiver().start();
  const server = await startTestServer({ clock: 'virtual', configFile: PRICING });
  try {
    const created = await call(server, 'POST', '/v2/applications', {
      name: 'signed',
      capabilities: { messages: { webhooks: { inbound_url: { address: `${receiver.url}/inbound`, http_method: 'POST' }, status_url: { address: `${receiver.url}/status`, http_method: 'POST' } } } },
    });
    assert.equal(created.status, 201, created.text);
    const applicationId = created.json.id as string;
    const jwt = await generateApplicationJwt({ privateKeyPem: created.json.keys.private_key, applicationId });
    await script(server, USER, { silent: true });

    const t0 = await clockNow(server);
    const uuid = await send(server, sms(USER, { client_ref: 'ref-ü' }, 'Can we meet at 3?'), `Bearer ${jwt}`);
    const [submitted] = await receiver.waitFor(withStatus(uuid, 'submitted'));
    assert.equal(
      submitted!.raw,
      `{"message_uuid":"${uuid}","to":{"type":"sms","number":"${USER}"},"from":{"type":"sms","number":"${BUSINESS}"},` +
        `"timestamp":"${iso(t0)}","status":"submitted","client_ref":"ref-ü"}`,
    );
    verifySignature(submitted!.headers, submitted!.raw, server.signatureSecret, { apiKey: server.apiKey, applicationId });

    await advance(server, 2.5);
    const t1 = await clockNow(server);
    // Non-ASCII text: payload_hash is over the UTF-8 bytes, and JSON.stringify keeps them as is.
    const text = 'Oui, à 15h ✓ — "see you" 👋';
    const reply = await call(server, 'POST', '/sandbox/inbound', { channel: 'sms', from: USER, to: BUSINESS, text });
    assert.equal(reply.status, 202, reply.text);
    const inboundUuid = reply.json.message_uuid as string;
    const [inbound] = await receiver.waitFor((w) => w.path === '/inbound');
    assert.equal(
      inbound!.raw,
      `{"message_uuid":"${inboundUuid}","to":{"type":"sms","number":"${BUSINESS}"},"from":{"type":"sms","number":"${USER}"},` +
        `"timestamp":"${iso(t1)}","direction":"inbound","message":{"content":{"type":"text","text":${JSON.stringify(text)}}}}`,
    );
    assertWebhookRequest(inbound!, '/inbound');
    verifySignature(inbound!.headers, inbound!.raw, server.signatureSecret, { apiKey: server.apiKey, applicationId });

    await settle(server);
    assert.equal(receiver.received.length, 2);
    const inboundHooks = await webhooksOf(server, inboundUuid);
    assert.deepEqual(inboundHooks.map(({ kind, url, state, attempts }) => ({ kind, url, state, attempts })), [
      { kind: 'inbound-message', url: `${receiver.url}/inbound`, state: 'delivered', attempts: 1 },
    ]);
  } finally {
    await server.close();
    await receiver.close();
  }
});

test('an inbound webhook to the account default, byte for byte, signed without application_id', async () => {
  const receiver = await new WebhookReceiver().start();
  const server = await startTestServer({ clock: 'virtual', inboundUrl: `${receiver.url}/inbound` });
  try {
    const t = await clockNow(server);
    const reply = await call(server, 'POST', '/sandbox/inbound', { channel: 'messenger', from: '1234567890', to: 'page-42', text: 'Hi' });
    assert.equal(reply.status, 202, reply.text);
    const [inbound] = await receiver.waitFor((w) => w.path === '/inbound');
    assert.equal(
      inbound!.raw,
      `{"message_uuid":"${reply.json.message_uuid}","to":{"type":"messenger","id":"page-42"},"from":{"type":"messenger","id":"1234567890"},` +
        `"timestamp":"${iso(t)}","direction":"inbound","message":{"content":{"type":"text","text":"Hi"}}}`,
    );
    verifySignature(inbound!.headers, inbound!.raw, server.signatureSecret, { apiKey: server.apiKey });
  } finally {
    await server.close();
    await receiver.close();
  }
});

// ---------------------------------------------------------------------------------------------
// delivery: retries, give-ups, outages, slow receivers

test('500, 500, then 200: retried after 5 s and then 10 s, never earlier, every attempt recorded', async () => {
  const receiver = await new WebhookReceiver().start();
  const server = await startTestServer({ clock: 'virtual', statusUrl: `${receiver.url}/status` });
  try {
    const answers = [500, 500, 200];
    receiver.respondWith = () => answers.shift() ?? 200;
    await script(server, USER, { silent: true });
    const t0 = await clockNow(server);
    const uuid = await send(server, sms(USER));

    await receiver.waitFor(withStatus(uuid, 'submitted'), 1);
    await settle(server);
    const [hook] = await webhooksOf(server, uuid);
    assert.deepEqual(hook, { id: hook!.id, kind: 'message-status', url: `${receiver.url}/status`, state: 'pending', attempts: 1 });
    assert.deepEqual(await attemptsOf(server, hook!.id), [{ webhookId: hook!.id, attempt: 1, at: t0, outcome: 'retry', statusCode: 500 }]);

    await advance(server, 4.999);
    await settle(server);
    assert.equal(receiver.received.length, 1, 'not retried before 5 s');
    await advance(server, 0.001);
    await receiver.waitFor(withStatus(uuid, 'submitted'), 2);
    await settle(server);
    assert.equal((await webhooksOf(server, uuid))[0]!.attempts, 2);

    await advance(server, 9.999);
    await settle(server);
    assert.equal(receiver.received.length, 2, 'the second retry waits 10 s');
    await advance(server, 0.001);
    await receiver.waitFor(withStatus(uuid, 'submitted'), 3);
    await settle(server);

    assert.deepEqual(await webhooksOf(server, uuid), [{ id: hook!.id, kind: 'message-status', url: `${receiver.url}/status`, state: 'delivered', attempts: 3 }]);
    assert.deepEqual(await attemptsOf(server, hook!.id), [
      { webhookId: hook!.id, attempt: 1, at: t0, outcome: 'retry', statusCode: 500 },
      { webhookId: hook!.id, attempt: 2, at: t0 + 5000, outcome: 'retry', statusCode: 500 },
      { webhookId: hook!.id, attempt: 3, at: t0 + 15_000, outcome: 'delivered', statusCode: 200 },
    ]);
    // The same bytes every time, each attempt signed afresh.
    const bodies = new Set(receiver.received.map((w) => w.raw));
    assert.equal(bodies.size, 1);
    const jtis = receiver.received.map((w) => verifySignature(w.headers, w.raw, server.signatureSecret, { apiKey: server.apiKey }).jti);
    assert.equal(new Set(jtis).size, 3);

    await advance(server, 86_400);
    await settle(server);
    assert.equal(receiver.received.length, 3, 'nothing after delivery');
  } finally {
    await server.close();
    await receiver.close();
  }
});

test('a receiver that always fails is tried on the schedule (5 s doubling to 15 min, then every 15 min) and given up after 24 h', async () => {
  const receiver = await new WebhookReceiver().start();
  const server = await startTestServer({ clock: 'virtual', statusUrl: `${receiver.url}/status` });
  try {
    receiver.respondWith = () => 502;
    await script(server, USER, { silent: true });
    const t0 = await clockNow(server);
    const uuid = await send(server, sms(USER));
    await receiver.waitFor(() => true);
    await settle(server);
    const [hook] = await webhooksOf(server, uuid);

    // Attempt k+1 follows attempt k after min(5 s × 2^(k-1), 15 min); none is due later than 24 h.
    const expectedAt = [t0];
    for (let k = 1; ; k += 1) {
      const next = expectedAt[k - 1]! + Math.min(5000 * 2 ** (k - 1), 900_000);
      if (next - t0 > 86_400_000) break;
      expectedAt.push(next);
    }
    assert.equal(expectedAt.length, 103);
    for (let k = 1; k < expectedAt.length; k += 1) {
      await advance(server, (expectedAt[k]! - expectedAt[k - 1]!) / 1000);
      await receiver.waitFor(() => true, k + 1);
    }
    await settle(server);
    await advance(server, 86_400);
    await settle(server);

    assert.equal(receiver.received.length, expectedAt.length);
    assert.deepEqual(await webhooksOf(server, uuid), [{ id: hook!.id, kind: 'message-status', url: `${receiver.url}/status`, state: 'failed', attempts: expectedAt.length }]);
    const attempts = await attemptsOf(server, hook!.id);
    assert.deepEqual(
      attempts,
      expectedAt.map((at, i) => ({ webhookId: hook!.id, attempt: i + 1, at, outcome: i === expectedAt.length - 1 ? 'failed' : 'retry', statusCode: 502 })),
    );
  } finally {
    await server.close();
    await receiver.close();
  }
});

test('408, 429 and 5xx are retried; other 4xx and 3xx fail at once and are never retried', async () => {
  const receiver = await new WebhookReceiver().start();
  const server = await startTestServer({ clock: 'virtual', statusUrl: `${receiver.url}/status` });
  try {
    const cases: Array<[number, 'pending' | 'failed']> = [
      [404, 'failed'],
      [400, 'failed'],
      [410, 'failed'],
      [301, 'failed'],
      [408, 'pending'],
      [429, 'pending'],
      [503, 'pending'],
      [599, 'pending'],
    ];
    // Each recipient number gets its own answer, decided before anything is sent.
    const answerFor = new Map<string, number>(cases.map(([code], i) => [`4477009002${String(i).padStart(2, '0')}`, code]));
    receiver.respondWith = (w) => answerFor.get(w.json.to?.number) ?? 200;
    const t0 = await clockNow(server);
    const sent: Array<{ uuid: string; number: string; code: number; state: string }> = [];
    for (const [code, state] of cases) {
      const number = `4477009002${String(sent.length).padStart(2, '0')}`;
      await script(server, number, { silent: true });
      sent.push({ uuid: await send(server, sms(number)), number, code, state });
    }
    await receiver.waitFor(() => true, cases.length);
    await settle(server);
    for (const { uuid, code, state } of sent) {
      const [hook] = await webhooksOf(server, uuid);
      assert.equal(hook!.state, state, `HTTP ${code}`);
      assert.equal(hook!.attempts, 1, `HTTP ${code}`);
      assert.deepEqual(await attemptsOf(server, hook!.id), [{ webhookId: hook!.id, attempt: 1, at: t0, outcome: state === 'failed' ? 'failed' : 'retry', statusCode: code }]);
    }
    // A day later the failed ones have still been tried once; the others were retried until the receiver recovered.
    for (const entry of sent) if (entry.state === 'pending') answerFor.delete(entry.number);
    await advance(server, 86_400);
    await settle(server);
    for (const { uuid, code, state } of sent) {
      const [hook] = await webhooksOf(server, uuid);
      assert.deepEqual([hook!.state, hook!.attempts], state === 'failed' ? ['failed', 1] : ['delivered', 2], `HTTP ${code}`);
      assert.equal(receiver.matching((w) => w.json.message_uuid === uuid).length, hook!.attempts, `HTTP ${code}: one request per recorded attempt`);
    }
  } finally {
    await server.close();
    await receiver.close();
  }
});

test('a receiver that is down (connection refused) gets the webhook once it is back', async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/status`;
  const server = await startTestServer({ clock: 'virtual', statusUrl: url });
  let back: Awaited<ReturnType<typeof listenOn>> | undefined;
  try {
    await script(server, USER, { silent: true });
    const t0 = await clockNow(server);
    const uuid = await send(server, sms(USER));
    // Nothing listens: the first attempt is refused.
    await settle(server);
    const [hook] = await webhooksOf(server, uuid);
    assert.deepEqual(hook, { id: hook!.id, kind: 'message-status', url, state: 'pending', attempts: 1 });
    const [first] = await attemptsOf(server, hook!.id);
    assert.equal(first!.outcome, 'retry');
    assert.equal(first!.at, t0);
    assert.equal(first!.statusCode, undefined);
    assert.match(String(first!.error), /ECONNREFUSED/);

    back = await listenOn(port);
    await advance(server, 4.999);
    await settle(server);
    assert.equal(back.received.length, 0, 'not retried before 5 s');
    await advance(server, 0.001);
    await settle(server);
    assert.equal(back.received.length, 1);
    const { raw, headers } = back.received[0]!;
    assert.equal(
      raw,
      `{"message_uuid":"${uuid}","to":{"type":"sms","number":"${USER}"},"from":{"type":"sms","number":"${BUSINESS}"},"timestamp":"${iso(t0)}","status":"submitted"}`,
    );
    verifySignature(headers, raw, server.signatureSecret, { apiKey: server.apiKey });
    assert.deepEqual(await webhooksOf(server, uuid), [{ id: hook!.id, kind: 'message-status', url, state: 'delivered', attempts: 2 }]);
    const attempts = await attemptsOf(server, hook!.id);
    assert.deepEqual(attempts[1], { webhookId: hook!.id, attempt: 2, at: t0 + 5000, outcome: 'delivered', statusCode: 200 });
    assert.equal(attempts.length, 2);
  } finally {
    await server.close();
    if (back) {
      back.server.closeAllConnections();
      await new Promise<void>((resolve) => back!.server.close(() => resolve()));
    }
  }
});

test('a receiver that hangs does not slow the API, and loses no webhook', async () => {
  const slow = await new WebhookReceiver().start();
  const server = await startTestServer({ clock: 'virtual', statusUrl: `${slow.url}/status`, configFile: { webhooks: { timeout_ms: 300 } } });
  try {
    let hung = 0;
    slow.respondWith = () => {
      hung += 1;
      return 'hang';
    };
    const t0 = await clockNow(server);
    // A first message whose webhook is hanging before the timed sends start.
    const uuids: string[] = [await send(server, sms(USER, {}, 'opener'))];
    await until(() => hung === 1, 'the first webhook to hang');
    const latencies: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      const started = performance.now();
      uuids.push(await send(server, sms(USER, {}, `message ${i}`)));
      latencies.push(performance.now() - started);
    }
    // Had a send waited for its webhook, 20 of them would take at least 20 × 300 ms. (Typically
    // each takes a few ms; the bound is loose so that a loaded machine does not fail the test.)
    const total = latencies.reduce((sum, latency) => sum + latency, 0);
    assert.ok(total < 3000, `send latencies ${latencies.map((l) => l.toFixed(1)).join(', ')} ms`);

    // Every first attempt hangs until the 300 ms timeout and is scheduled again.
    await settle(server);
    assert.equal(hung, 21);
    assert.equal(slow.received.length, 0);
    for (const uuid of uuids) {
      const hooks = await webhooksOf(server, uuid);
      assert.deepEqual(hooks.map(({ kind, state, attempts }) => ({ kind, state, attempts })), [{ kind: 'message-status', state: 'pending', attempts: 1 }]);
      assert.deepEqual(await attemptsOf(server, hooks[0]!.id), [{ webhookId: hooks[0]!.id, attempt: 1, at: t0, outcome: 'retry', error: 'timeout' }]);
      const [attempt] = await server.store.listWebhookAttempts(hooks[0]!.id);
      assert.ok(attempt!.durationMs >= 290 && attempt!.durationMs < 5000, `timed out after ${attempt!.durationMs} ms`);
    }

    // The receiver recovers; 5 s later every webhook is delivered: the retried submitted ones,
    // and the delivered ones the sandbox reported in the meantime.
    slow.respondWith = () => 200;
    await advance(server, 5);
    await slow.waitFor(() => true, 42);
    await settle(server);
    assert.equal(hung, 21);
    assert.equal(slow.received.length, 42);
    for (const uuid of uuids) {
      assert.equal(slow.matching(withStatus(uuid, 'submitted')).length, 1, uuid);
      assert.equal(slow.matching(withStatus(uuid, 'delivered')).length, 1, uuid);
      const hooks = await webhooksOf(server, uuid);
      assert.deepEqual(hooks.map(({ state, attempts }) => ({ state, attempts })), [
        { state: 'delivered', attempts: 2 },
        { state: 'delivered', attempts: 1 },
      ]);
      for (const hook of hooks) assert.equal((await server.store.listWebhookAttempts(hook.id)).length, hook.attempts);
    }
  } finally {
    await server.close();
    await slow.close();
  }
});

test('webhooks to a hanging receiver do not hold up another receiver\'s', async () => {
  const slow = await new WebhookReceiver().start();
  const healthy = await new WebhookReceiver().start();
  // The default 10 s timeout: the slow receiver's attempts are all still hanging throughout.
  const server = await startTestServer({ clock: 'virtual', statusUrl: `${slow.url}/status`, configFile: { webhooks: { concurrency_per_origin: 16 } } });
  try {
    let hung = 0;
    slow.respondWith = () => {
      hung += 1;
      return 'hang';
    };
    const uuids: string[] = [];
    for (let i = 0; i < 20; i += 1) uuids.push(await send(server, sms(USER, {}, `message ${i}`)));
    // One receiver gets at most webhooks.concurrency_per_origin (16 here) of the lane's slots.
    await until(() => hung === 16, '16 webhooks to hang');

    const other = await server.createAccount({ statusUrl: `${healthy.url}/status` });
    const sentAt = Date.now();
    const otherUuid = await send(server, sms('447700900555'), other.basicAuth);
    const [otherHook] = await healthy.waitFor(withStatus(otherUuid, 'submitted'), 1, 5000);
    assert.ok(otherHook!.at - sentAt < 5000, `the healthy receiver waited ${otherHook!.at - sentAt} ms`);
    // It got through while every attempt to the slow receiver was still hanging.
    for (const uuid of uuids) {
      const [hook] = await webhooksOf(server, uuid);
      assert.deepEqual([hook!.state, hook!.attempts], ['pending', 0]);
    }
    assert.equal(hung, 16, 'no more than its share of attempts to the hanging receiver');
    assert.equal(server.server.engine.jobsInFlight('webhooks'), 16);
  } finally {
    // Dropping the hanging connections ends the attempts at once (network errors, retried later).
    await slow.close();
    await server.close();
    await healthy.close();
  }
});
