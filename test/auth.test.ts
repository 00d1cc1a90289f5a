/**
 * Authentication over real HTTP (DESIGN §3 "Auth", reference/nexmo-api.md §4.1): every way a
 * JWT can be wrong gives the gateway's one "Invalid Token" 401 on POST /v0.1/messages; the
 * tokens real clients send are accepted; Basic auth; the Applications API takes Basic only.
 * Tokens jose would refuse to make are built by hand: base64url(header).base64url(payload).sig.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { generateApplicationJwt } from '../src/cli/generate-jwt.js';
import { basic, startTestServer, type TestServer } from './support/test-server.js';

type Json = Record<string, any>;

interface TestApplication {
  id: string;
  privateKey: string;
  publicKey: string;
}

const TRACE_ID = /^[0-9a-f]{32}$/;
const SMS = {
  to: { type: 'sms', number: '447700900000' },
  from: { type: 'sms', number: '447700900001' },
  message: { content: { type: 'text', text: 'auth test' } },
};

let server: TestServer;
let appA: TestApplication;
let appB: TestApplication;

before(async () => {
  server = await startTestServer();
  appA = await createApplication('auth A');
  appB = await createApplication('auth B');
});

after(async () => {
  await server?.close();
});

async function createApplication(name: string, publicKey?: string): Promise<TestApplication> {
  const response = await fetch(`${server.url}/v2/applications`, {
    method: 'POST',
    headers: { authorization: server.basicAuth, 'content-type': 'application/json' },
    body: JSON.stringify({ name, ...(publicKey && { keys: { public_key: publicKey } }) }),
  });
  assert.equal(response.status, 201);
  const body = (await response.json()) as Json;
  return { id: body.id, privateKey: body.keys.private_key, publicKey: body.keys.public_key };
}

// ---------------------------------------------------------------------------------------------
// hand-made tokens

const nowS = () => Math.floor(Date.now() / 1000);
const segment = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Claims as a well-behaved client sends them; `undefined` in `overrides` removes a claim. */
function claims(application: { id: string }, overrides: Json = {}): Json {
  const iat = nowS();
  return { iat, jti: randomUUID(), application_id: application.id, exp: iat + 900, ...overrides };
}

function rs256(payload: Json, privateKeyPem: string, header: Json = { alg: 'RS256', typ: 'JWT' }): string {
  const input = `${segment(header)}.${segment(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKeyPem).toString('base64url')}`;
}

function hs256(payload: Json, secret: string): string {
  const input = `${segment({ alg: 'HS256', typ: 'JWT' })}.${segment(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

function withFlippedSignatureByte(token: string): string {
  const [header, payload, signature] = token.split('.');
  const bytes = Buffer.from(signature!, 'base64url');
  bytes[bytes.length >> 1]! ^= 0x01;
  return `${header}.${payload}.${bytes.toString('base64url')}`;
}

const bearer = (token: string) => `Bearer ${token}`;

function send(authorization: string | undefined, body: unknown = SMS): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization !== undefined) headers.authorization = authorization;
  return fetch(`${server.url}/v0.1/messages`, { method: 'POST', headers, body: JSON.stringify(body) });
}

/** The gateway's 401: exactly these four keys, `instance` = the trace id. */
async function assertInvalidToken(response: Response, label: string): Promise<void> {
  const text = await response.text();
  assert.equal(response.status, 401, `${label}: ${response.status} ${text}`);
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/, label);
  const traceId = response.headers.get('x-nexmo-trace-id') ?? '';
  assert.match(traceId, TRACE_ID, label);
  assert.deepEqual(
    JSON.parse(text),
    { type: 'https://developer.nexmo.com/api-errors#unauthorized', title: 'Unauthorised', detail: 'Invalid Token', instance: traceId },
    label,
  );
}

async function assertAccepted(response: Response, label: string): Promise<string> {
  const text = await response.text();
  assert.equal(response.status, 202, `${label}: ${response.status} ${text}`);
  const body = JSON.parse(text) as Json;
  assert.deepEqual(Object.keys(body), ['message_uuid'], label);
  return body.message_uuid;
}

// ---------------------------------------------------------------------------------------------
// rejected JWTs

test('every kind of bad JWT is the same 401 Invalid Token', async () => {
  const now = nowS();
  const good = rs256(claims(appA), appA.privateKey);
  const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const attackerPem = attacker.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  const cases: Array<[string, string | undefined]> = [
    ['signature with one byte flipped', bearer(withFlippedSignatureByte(good))],
    ['signature of another payload', bearer(`${good.split('.').slice(0, 2).join('.')}.${rs256(claims(appA, { jti: 'other' }), appA.privateKey).split('.')[2]}`)],
    ['signed with another application\'s key', bearer(rs256(claims(appA), appB.privateKey))],
    ['signed with a key of no application', bearer(rs256(claims(appA), attackerPem))],
    ['attacker key embedded in the header (jwk)', bearer(rs256(claims(appA), attackerPem, { alg: 'RS256', typ: 'JWT', jwk: attacker.publicKey.export({ format: 'jwk' }) }))],
    ['alg none, empty signature', bearer(`${segment({ alg: 'none', typ: 'JWT' })}.${segment(claims(appA))}.`)],
    ['alg none, no signature segment', bearer(`${segment({ alg: 'none', typ: 'JWT' })}.${segment(claims(appA))}`)],
    ['alg None with the right RS256 signature', bearer(rs256(claims(appA), appA.privateKey, { alg: 'None', typ: 'JWT' }))],
    ['alg HS256 keyed with the public key PEM', bearer(hs256(claims(appA), appA.publicKey))],
    ['alg HS256 keyed with the public key PEM, trimmed', bearer(hs256(claims(appA), appA.publicKey.trim()))],
    ['alg RS512', bearer(rs256(claims(appA), appA.privateKey, { alg: 'RS512', typ: 'JWT' }))],
    ['alg missing', bearer(rs256(claims(appA), appA.privateKey, { typ: 'JWT' }))],
    ['crit header', bearer(rs256(claims(appA), appA.privateKey, { alg: 'RS256', typ: 'JWT', crit: ['exp'] }))],
    ['expired 60 s ago', bearer(rs256(claims(appA, { iat: now - 960, exp: now - 60 }), appA.privateKey))],
    ['expired long ago', bearer(rs256(claims(appA, { iat: now - 86_400, exp: now - 85_500 }), appA.privateKey))],
    ['nbf 5 minutes ahead', bearer(rs256(claims(appA, { nbf: now + 300 }), appA.privateKey))],
    ['iat 5 minutes ahead', bearer(rs256(claims(appA, { iat: now + 300, exp: now + 1200 }), appA.privateKey))],
    ['application_id missing', bearer(rs256(claims(appA, { application_id: undefined }), appA.privateKey))],
    ['application_id empty', bearer(rs256(claims(appA, { application_id: '' }), appA.privateKey))],
    ['application_id not a string', bearer(rs256(claims(appA, { application_id: 12345 }), appA.privateKey))],
    ['iat missing', bearer(rs256(claims(appA, { iat: undefined }), appA.privateKey))],
    ['iat missing and no exp', bearer(rs256(claims(appA, { iat: undefined, exp: undefined }), appA.privateKey))],
    ['iat not a number', bearer(rs256(claims(appA, { iat: 'now' }), appA.privateKey))],
    ['jti missing', bearer(rs256(claims(appA, { jti: undefined }), appA.privateKey))],
    ['jti empty', bearer(rs256(claims(appA, { jti: '' }), appA.privateKey))],
    ['exp 24 h and 1 s after iat', bearer(rs256(claims(appA, { iat: now, exp: now + 86_401 }), appA.privateKey))],
    ['exp a year after iat', bearer(rs256(claims(appA, { iat: now, exp: now + 365 * 86_400 }), appA.privateKey))],
    ['exp not a number', bearer(rs256(claims(appA, { exp: String(now + 600) }), appA.privateKey))],
    ['nbf not a number', bearer(rs256(claims(appA, { nbf: 'yesterday' }), appA.privateKey))],
    ['no exp and iat 1000 s old', bearer(rs256(claims(appA, { iat: now - 1000, exp: undefined }), appA.privateKey))],
    ['unknown application', bearer(rs256(claims({ id: randomUUID() }), appA.privateKey))],
    ['claims not JSON', bearer(`${segment({ alg: 'RS256', typ: 'JWT' })}.${segment('not json')}.${good.split('.')[2]}`)],
    ['claims a JSON array', bearer(rs256([claims(appA)] as unknown as Json, appA.privateKey))],
    ['garbage', 'Bearer garbage'],
    ['three garbage segments', 'Bearer a.b.c'],
    ['four segments', bearer(`${good}.extra`)],
    ['empty bearer', 'Bearer '],
    ['bearer with a space inside the token', `Bearer ${good.slice(0, 20)} ${good.slice(20)}`],
    ['Basic credentials sent as a bearer token', `Bearer ${Buffer.from(`${server.apiKey}:${server.apiSecret}`).toString('base64')}`],
    ['missing header', undefined],
    ['empty header', ''],
    ['wrong scheme Token', `Token ${good}`],
    ['wrong scheme JWT', `JWT ${good}`],
    ['no scheme', good],
    ['a JWT under the Basic scheme', `Basic ${good}`],
    ['wrong scheme Digest', 'Digest username="x", realm="y", nonce="z", response="w"'],
  ];
  for (const [label, authorization] of cases) {
    await assertInvalidToken(await send(authorization), label);
  }
});

test('a token for a deleted application is refused', async () => {
  const doomed = await createApplication('doomed');
  const token = bearer(rs256(claims(doomed), doomed.privateKey));
  await assertAccepted(await send(token), 'before the delete');
  const deleted = await fetch(`${server.url}/v2/applications/${doomed.id}`, { method: 'DELETE', headers: { authorization: server.basicAuth } });
  assert.equal(deleted.status, 204);
  await assertInvalidToken(await send(token), 'after the delete');
});

test('after a key rotation the old key\'s tokens are refused and the new key\'s accepted', async () => {
  const app = await createApplication('rotating');
  const oldToken = bearer(rs256(claims(app), app.privateKey));
  await assertAccepted(await send(oldToken), 'old key before the rotation');

  const next = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const put = await fetch(`${server.url}/v2/applications/${app.id}`, {
    method: 'PUT',
    headers: { authorization: server.basicAuth, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'rotating', keys: { public_key: next.publicKey } }),
  });
  assert.equal(put.status, 200);

  await assertInvalidToken(await send(oldToken), 'old key after the rotation');
  await assertAccepted(await send(bearer(rs256(claims(app), next.privateKey))), 'new key after the rotation');
});

// ---------------------------------------------------------------------------------------------
// accepted JWTs

test('the tokens real clients send are accepted', async () => {
  const now = nowS();
  const cases: Array<[string, string]> = [
    ['generateApplicationJwt (exp = iat + 900, as @vonage/jwt)', bearer(await generateApplicationJwt({ privateKeyPem: appA.privateKey, applicationId: appA.id }))],
    ['no exp (as nexmo-node sends: iat, jti, application_id)', bearer(rs256({ iat: now, jti: '103f9a40-1b2c-11e8-9d6a-1f3a4b5c6d7e', application_id: appA.id }, appA.privateKey))],
    ['generateApplicationJwt without exp', bearer(await generateApplicationJwt({ privateKeyPem: appA.privateKey, applicationId: appA.id, extraClaims: { exp: undefined } }))],
    ['nbf in the past', bearer(rs256(claims(appA, { nbf: now - 60 }), appA.privateKey))],
    ['nbf now', bearer(rs256(claims(appA, { nbf: now }), appA.privateKey))],
    ['nbf 20 s ahead, inside the clock skew', bearer(rs256(claims(appA, { nbf: now + 20 }), appA.privateKey))],
    ['iat 20 s ahead, inside the clock skew', bearer(rs256(claims(appA, { iat: now + 20, exp: now + 920 }), appA.privateKey))],
    ['exp 10 s ago, inside the clock skew', bearer(rs256(claims(appA, { iat: now - 910, exp: now - 10 }), appA.privateKey))],
    ['no exp and iat 800 s old', bearer(rs256(claims(appA, { iat: now - 800, exp: undefined }), appA.privateKey))],
    ['exp exactly 24 h after iat (nexmo-cli docs usage)', bearer(rs256(claims(appA, { iat: now, exp: now + 86_400 }), appA.privateKey))],
    ['acl, sub and other extra claims', bearer(rs256(claims(appA, { sub: 'alice', acl: { paths: { '/*/users/**': {} } } }), appA.privateKey))],
    ['no typ in the header', bearer(rs256(claims(appA), appA.privateKey, { alg: 'RS256' }))],
    ['a kid that names nothing', bearer(rs256(claims(appA), appA.privateKey, { alg: 'RS256', typ: 'JWT', kid: 'whatever' }))],
    ['lower-case scheme', `bearer ${rs256(claims(appA), appA.privateKey)}`],
    ['upper-case scheme', `BEARER ${rs256(claims(appA), appA.privateKey)}`],
  ];
  for (const [label, authorization] of cases) {
    const uuid = await assertAccepted(await send(authorization), label);
    const record = await server.store.findMessage(uuid);
    assert.equal(record?.applicationId, appA.id, label);
    assert.equal(record?.apiKey, server.apiKey, label);
  }
});

test('the same token may be used more than once, as curl scripts do (jti is not a nonce)', async () => {
  const token = bearer(rs256(claims(appB), appB.privateKey));
  await assertAccepted(await send(token), 'first use');
  await assertAccepted(await send(token), 'second use');
});

// ---------------------------------------------------------------------------------------------
// Basic auth

test('Basic auth: the right credentials are accepted, anything else is 401 Invalid Token', async () => {
  const uuid = await assertAccepted(await send(server.basicAuth), 'right credentials');
  const record = await server.store.findMessage(uuid);
  assert.equal(record?.apiKey, server.apiKey);
  assert.equal(record?.applicationId, undefined);
  await assertAccepted(await send(server.basicAuth.replace(/^Basic/, 'basic')), 'lower-case scheme');

  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const cases: Array<[string, string]> = [
    ['wrong secret', basic(server.apiKey, 'wrongsecret00000')],
    ['secret with an extra character', basic(server.apiKey, `${server.apiSecret}x`)],
    ['secret missing its last character', basic(server.apiKey, server.apiSecret.slice(0, -1))],
    ['unknown key', basic('deadbeef', server.apiSecret)],
    ['another account\'s key with this secret', basic('seed0000', server.apiSecret)],
    ['malformed base64', 'Basic !!!not-base64!!!'],
    ['base64 of an impossible length', 'Basic abcde'],
    ['no colon', `Basic ${b64(`${server.apiKey}${server.apiSecret}`)}`],
    ['empty key', `Basic ${b64(`:${server.apiSecret}`)}`],
    ['empty secret', `Basic ${b64(`${server.apiKey}:`)}`],
    ['invalid UTF-8', `Basic ${Buffer.from([0xff, 0xfe, 0x3a, 0x41]).toString('base64')}`],
    ['empty Basic', 'Basic '],
    ['key and secret in the clear', `Basic ${server.apiKey}:${server.apiSecret}`],
  ];
  for (const [label, authorization] of cases) {
    await assertInvalidToken(await send(authorization), label);
  }
});

test('another account\'s Basic auth sends as that account', async () => {
  const other = await server.createAccount();
  const uuid = await assertAccepted(await send(other.basicAuth), 'other account');
  assert.equal((await server.store.findMessage(uuid))?.apiKey, other.apiKey);
});

// ---------------------------------------------------------------------------------------------
// Applications API: Basic only

test('the Applications API refuses a JWT with its own 401', async () => {
  const token = bearer(await generateApplicationJwt({ privateKeyPem: appA.privateKey, applicationId: appA.id }));
  const requests: Array<[string, string, unknown?]> = [
    ['GET', '/v2/applications'],
    ['GET', `/v2/applications/${appA.id}`],
    ['POST', '/v2/applications', { name: 'via jwt' }],
    ['PUT', `/v2/applications/${appA.id}`, { name: 'via jwt' }],
    ['DELETE', `/v2/applications/${appA.id}`],
  ];
  for (const [method, path, body] of requests) {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: token, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const label = `${method} ${path}`;
    assert.equal(response.status, 401, label);
    assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/, label);
    assert.deepEqual(
      await response.json(),
      {
        type: 'https://developer.nexmo.com/api-errors#unauthorized',
        title: 'Invalid credentials supplied',
        detail: 'You did not provide correct credentials.',
        instance: response.headers.get('x-nexmo-trace-id'),
      },
      label,
    );
  }
  // Nothing was changed by those requests.
  const still = await fetch(`${server.url}/v2/applications/${appA.id}`, { headers: { authorization: server.basicAuth } });
  assert.equal(still.status, 200);
  assert.equal(((await still.json()) as Json).name, 'auth A');
});

test('the sandbox refuses a JWT too', async () => {
  const token = bearer(await generateApplicationJwt({ privateKeyPem: appA.privateKey, applicationId: appA.id }));
  const response = await fetch(`${server.url}/sandbox/clock`, { headers: { authorization: token } });
  assert.equal(response.status, 401);
});
