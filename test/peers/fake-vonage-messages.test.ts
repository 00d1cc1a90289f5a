// Tests of FakeVonageMessages itself, over real sockets: fetch against the fake with RS256 JWTs made
// here with jose, and a local node:http listener standing in for the gateway's webhooks. Webhook
// tokens are checked with jose (HS256) and payload_hash against the exact bytes received.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { SignJWT, decodeJwt, importPKCS8, jwtVerify } from 'jose';
import { FakeVonageMessages } from './fake-vonage-messages.js';
import { type GatewayStub, startGatewayStub, type StubRequest } from './gateway-stub.js';

const startGateway = () => startGatewayStub();

const applicationId = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const signatureSecret = 'vonage-signature-secret-0123456789';
const apiKey = 'abcd1234';
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

let clock = Date.UTC(2026, 0, 15, 12, 0, 0);

/** An application JWT as the SDK and CLI make it: application_id, iat, jti, exp = iat + 900. */
async function appJwt(options: { key?: string; applicationId?: string; exp?: number | null; iat?: number } = {}): Promise<string> {
  const iat = options.iat ?? Math.floor(clock / 1000);
  const claims: Record<string, unknown> = { application_id: options.applicationId ?? applicationId, iat, jti: randomUUID() };
  const exp = options.exp === undefined ? iat + 900 : options.exp;
  if (exp !== null) claims.exp = exp;
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).sign(await importPKCS8(options.key ?? privateKeyPem, 'RS256'));
}

describe('FakeVonageMessages', () => {
  let fake: FakeVonageMessages;
  let gateway: GatewayStub;

  before(async () => {
    fake = await FakeVonageMessages.start({ applicationId, publicKeyPem, signatureSecret, apiKey, now: () => clock });
    gateway = await startGateway();
  });
  after(async () => {
    await fake.close();
    await gateway.close();
  });
  beforeEach(() => {
    gateway.status = 200;
  });

  async function send(body: unknown, options: { token?: string; path?: string; raw?: string } = {}): Promise<{ status: number; type: string | null; json: Record<string, unknown> }> {
    const response = await fetch(`${fake.baseUrl}${options.path ?? '/v1/messages'}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token ?? (await appJwt())}` },
      body: options.raw ?? JSON.stringify(body),
    });
    return { status: response.status, type: response.headers.get('content-type'), json: (await response.json()) as Record<string, unknown> };
  }

  const sms = (extra: Record<string, unknown> = {}) => ({ to: '447700900000', from: '447700900001', channel: 'sms', message_type: 'text', text: 'hello', ...extra });

  test('accepts a v1 send: 202 application/json {message_uuid}, recorded with at = now()', async () => {
    const before = fake.requests;
    const body = sms({ client_ref: 'ref-1', webhook_url: `${gateway.base}/status`, webhook_version: 'v1' });
    const answer = await send(body);
    assert.equal(answer.status, 202);
    assert.equal(answer.type, 'application/json');
    assert.deepEqual(Object.keys(answer.json), ['message_uuid']);
    assert.match(String(answer.json.message_uuid), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(fake.requests, before + 1);
    const recorded = fake.sends.at(-1);
    assert.deepEqual(recorded, {
      messageUuid: answer.json.message_uuid,
      applicationId,
      channel: 'sms',
      messageType: 'text',
      to: '447700900000',
      from: '447700900001',
      body,
      webhookUrl: `${gateway.base}/status`,
      webhookVersion: 'v1',
      clientRef: 'ref-1',
      at: clock,
    });
  });

  test('accepts the doubled slash of the SDK and answers workflow_id with failover', async () => {
    const answer = await send({ ...sms(), failover: [sms({ channel: 'sms' })] }, { path: '//v1/messages' });
    assert.equal(answer.status, 202);
    assert.equal(typeof answer.json.workflow_id, 'string');
  });

  test('refuses bad credentials with 401 unathorized', async () => {
    const tokens = [
      'not-a-jwt',
      await appJwt({ key: other }),
      await appJwt({ applicationId: 'another-app' }),
      await appJwt({ exp: Math.floor(clock / 1000) - 1, iat: Math.floor(clock / 1000) - 901 }),
      await appJwt({ exp: null }),
    ];
    for (const token of tokens) {
      const answer = await send(sms(), { token });
      assert.equal(answer.status, 401, token);
      assert.equal(answer.json.type, 'https://developer.vonage.com/api-errors/#unathorized');
      assert.equal(answer.json.title, 'You did not provide correct credentials.');
      assert.equal(typeof answer.json.instance, 'string');
    }
    const basic = await fetch(`${fake.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from('key:secret').toString('base64')}` },
      body: JSON.stringify(sms()),
    });
    assert.equal(basic.status, 401);
    await basic.body?.cancel();
  });

  test('refuses invalid params with 422 …/messages#1150 naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [sms({ to: undefined }), 'to'],
      [sms({ from: '' }), 'from'],
      [sms({ channel: undefined }), 'channel'],
      [sms({ channel: 'viber_service_msg' }), 'channel'],
      [sms({ channel: 'fax' }), 'channel'],
      [sms({ message_type: undefined }), 'message_type'],
      [sms({ message_type: 'image' }), 'message_type'],
      [sms({ text: undefined }), 'text'],
      [sms({ text: 'x'.repeat(1001) }), 'text'],
      [{ to: '447700900000', from: '447700900001', channel: 'whatsapp', message_type: 'image' }, 'image'],
      [{ to: '447700900000', from: '447700900001', channel: 'whatsapp', message_type: 'image', image: {} }, 'image.url'],
      [sms({ client_ref: 'r'.repeat(101) }), 'client_ref'],
      [sms({ webhook_version: 'v2' }), 'webhook_version'],
    ];
    const accepted = fake.sends.length;
    for (const [body, name] of cases) {
      const answer = await send(body);
      assert.equal(answer.status, 422, name);
      assert.equal(answer.type, 'application/problem+json');
      assert.equal(answer.json.type, 'https://developer.vonage.com/api-errors/messages#1150');
      assert.equal(answer.json.title, 'Invalid params');
      assert.equal(answer.json.detail, 'The value of one or more parameters is invalid.');
      const invalid = answer.json.invalid_parameters as Array<{ name: string; reason: string }>;
      assert.equal(invalid[0]?.name, name, JSON.stringify(body));
    }
    assert.equal(fake.sends.length, accepted);
    const ok = await send({ to: '447700900000', from: '447700900001', channel: 'viber_service', message_type: 'text', text: 'hi' });
    assert.equal(ok.status, 202);
  });

  test('refuses a body that is not JSON with 422 invalid-json', async () => {
    const answer = await send(undefined, { raw: '{"to":' });
    assert.equal(answer.status, 422);
    assert.equal(answer.json.type, 'https://developer.vonage.com/api-errors#invalid-json');
    assert.equal(answer.json.title, 'The request body did not contain valid JSON');
  });

  test('failNext answers problem+json before the credentials are checked', async () => {
    fake.failNext({ httpStatus: 429, code: 1000, detail: 'slow down' }, 2);
    const before = fake.requests;
    for (let i = 0; i < 2; i++) {
      const answer = await send(sms(), { token: 'bad' });
      assert.equal(answer.status, 429);
      assert.equal(answer.type, 'application/problem+json');
      assert.equal(answer.json.type, 'https://developer.vonage.com/api-errors/messages#1000');
      assert.equal(answer.json.title, 'Throttled');
      assert.equal(answer.json.detail, 'slow down');
    }
    fake.failNext({ httpStatus: 429 });
    const defaulted = await send(sms());
    assert.equal(defaulted.json.title, 'Rate Limit Hit');
    assert.equal((await send(sms())).status, 202);
    assert.equal(fake.requests, before + 4);
  });

  async function verifiedWebhook(received: StubRequest): Promise<Record<string, unknown>> {
    const token = /^Bearer (.+)$/.exec(received.headers.authorization ?? '')?.[1];
    assert.ok(token, 'Authorization: Bearer');
    const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(signatureSecret), { algorithms: ['HS256'] });
    assert.equal(protectedHeader.alg, 'HS256');
    assert.equal(payload.iss, 'Vonage');
    assert.equal(payload.iat, Math.floor(clock / 1000));
    assert.equal(typeof payload.jti, 'string');
    assert.equal(payload.api_key, apiKey);
    assert.equal(payload.application_id, applicationId);
    assert.equal(payload.payload_hash, createHash('sha256').update(received.raw).digest('hex'));
    assert.equal(received.headers['content-type'], 'application/json');
    return JSON.parse(received.raw) as Record<string, unknown>;
  }

  test('status posts a signed flat v1 status to webhook_url and resolves with our status', async () => {
    const { json } = await send(sms({ client_ref: 'ref-2', webhook_url: `${gateway.base}/status?x=1` }));
    const uuid = String(json.message_uuid);
    gateway.status = 204;
    assert.equal(await fake.status(uuid, 'submitted'), 204);
    const received = gateway.received.at(-1)!;
    assert.equal(received.url.pathname + received.url.search, '/status?x=1');
    assert.deepEqual(await verifiedWebhook(received), {
      message_uuid: uuid,
      to: '447700900000',
      from: '447700900001',
      timestamp: new Date(clock).toISOString(),
      status: 'submitted',
      channel: 'sms',
      client_ref: 'ref-2',
      usage: { currency: 'EUR', price: '0.0333' },
    });
    gateway.status = 200;
    assert.equal(await fake.status(uuid, 'delivered'), 200);
    const delivered = await verifiedWebhook(gateway.received.at(-1)!);
    assert.equal(delivered.status, 'delivered');
    assert.equal(delivered.usage, undefined, 'SMS is charged at submitted');
  });

  test('status: usage on delivered for OTT, the v1 error object on rejected, url override', async () => {
    const { json } = await send({ to: '447700900000', from: '447700900001', channel: 'whatsapp', message_type: 'text', text: 'hi' });
    const uuid = String(json.message_uuid);
    await assert.rejects(fake.status(uuid, 'delivered'), /no webhook_url/);
    const url = `${gateway.base}/other`;
    await fake.status(uuid, 'delivered', { url });
    const delivered = await verifiedWebhook(gateway.received.at(-1)!);
    assert.deepEqual(delivered.usage, { currency: 'EUR', price: '0.0050' });
    assert.equal('client_ref' in delivered, false);

    await fake.status(uuid, 'rejected', { url, error: { code: 1340, detail: 'Outside the 24 hour window' } });
    const rejected = await verifiedWebhook(gateway.received.at(-1)!);
    const error = rejected.error as Record<string, unknown>;
    assert.equal(error.type, 'https://developer.nexmo.com/api-errors/messages-olympus#1340');
    assert.equal(error.title, '1340');
    assert.equal(error.detail, 'Outside the 24 hour window');
    assert.equal(typeof error.instance, 'string');

    await fake.status(uuid, 'undeliverable', { url });
    const undeliverable = await verifiedWebhook(gateway.received.at(-1)!);
    assert.equal((undeliverable.error as Record<string, unknown>).title, '1330');
    await assert.rejects(fake.status('no-such-uuid', 'read', { url }), /no send/);
  });

  test('status signature modes: forged, missing, tampered', async () => {
    const { json } = await send(sms({ webhook_url: `${gateway.base}/status` }));
    const uuid = String(json.message_uuid);
    const key = new TextEncoder().encode(signatureSecret);

    await fake.status(uuid, 'delivered', { signature: 'forged' });
    const forged = gateway.received.at(-1)!;
    await assert.rejects(jwtVerify(forged.headers.authorization!.slice(7), key));

    await fake.status(uuid, 'delivered', { signature: 'missing' });
    assert.equal(gateway.received.at(-1)!.headers.authorization, undefined);

    await fake.status(uuid, 'delivered', { signature: 'tampered' });
    const tampered = gateway.received.at(-1)!;
    const { payload } = await jwtVerify(tampered.headers.authorization!.slice(7), key);
    assert.notEqual(payload.payload_hash, createHash('sha256').update(tampered.raw).digest('hex'));
    assert.equal(JSON.parse(tampered.raw).status, 'delivered');
    assert.equal(fake.callbacks.at(-1)?.kind, 'status');
  });

  test('inbound posts a signed v1 inbound message', async () => {
    const url = `${gateway.base}/inbound`;
    gateway.status = 200;
    assert.equal(await fake.inbound(url, { channel: 'sms', from: '447700900009', to: '447700900000', text: 'stop now' }), 200);
    const text = await verifiedWebhook(gateway.received.at(-1)!);
    assert.equal(text.channel, 'sms');
    assert.equal(text.message_type, 'text');
    assert.equal(text.text, 'stop now');
    assert.equal(text.from, '447700900009');
    assert.equal(text.to, '447700900000');
    assert.equal(text.timestamp, new Date(clock).toISOString());
    assert.equal(typeof text.message_uuid, 'string');
    assert.deepEqual(text.sms, { num_messages: '1', keyword: 'STOP' });

    await fake.inbound(url, { channel: 'whatsapp', from: '447700900009', to: '447700900000', image: { url: 'https://example.com/a.jpg' } });
    const image = await verifiedWebhook(gateway.received.at(-1)!);
    assert.equal(image.message_type, 'image');
    assert.deepEqual(image.image, { url: 'https://example.com/a.jpg' });
    assert.deepEqual(image.profile, { name: 'Fake User' });

    await fake.inbound(url, { channel: 'sms', from: '1', to: '2', text: 'x' }, 'forged');
    await assert.rejects(jwtVerify(gateway.received.at(-1)!.headers.authorization!.slice(7), new TextEncoder().encode(signatureSecret)));
    assert.equal(decodeJwt(gateway.received.at(-1)!.headers.authorization!.slice(7)).iss, 'Vonage');
    await fake.inbound(url, { channel: 'sms', from: '1', to: '2', text: 'x' }, 'missing');
    assert.equal(gateway.received.at(-1)!.headers.authorization, undefined);
  });

  test('start without apiKey leaves api_key out of webhook tokens; clock moves with now()', async () => {
    const bare = await FakeVonageMessages.start({ applicationId, publicKeyPem, signatureSecret, now: () => clock });
    try {
      clock += 3_600_000;
      const response = await fetch(`${bare.baseUrl}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await appJwt()}` },
        body: JSON.stringify(sms({ webhook_url: `${gateway.base}/s` })),
      });
      const { message_uuid } = (await response.json()) as { message_uuid: string };
      assert.equal(bare.sends[0]?.at, clock);
      await bare.status(message_uuid, 'read');
      const token = gateway.received.at(-1)!.headers.authorization!.slice(7);
      const { payload } = await jwtVerify(token, new TextEncoder().encode(signatureSecret));
      assert.equal('api_key' in payload, false);
      assert.equal(payload.iat, Math.floor(clock / 1000));
    } finally {
      await bare.close();
    }
  });
});
