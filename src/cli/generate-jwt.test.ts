import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { generateApplicationJwt } from './generate-jwt.js';
import { createApplicationJwtVerifier } from '../api/auth/application-jwt.js';

const APP = 'c0ffee00-0000-4000-8000-000000000001';
const NOW_MS = Date.UTC(2024, 4, 1, 12, 0, 0, 750);
const NOW = Math.floor(NOW_MS / 1000);
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pkcs8 = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const pkcs1 = keys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const publicPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();

test('generateApplicationJwt emits the @vonage/jwt shape', async () => {
  const token = await generateApplicationJwt({ privateKeyPem: pkcs8, applicationId: APP, nowMs: NOW_MS });
  assert.deepEqual(decodeProtectedHeader(token), { alg: 'RS256', typ: 'JWT' });
  const { jti, ...rest } = decodeJwt(token);
  assert.deepEqual(rest, { iat: NOW, application_id: APP, exp: NOW + 900 });
  assert.match(String(jti), UUID_V4);
});

test('generateApplicationJwt accepts a PKCS#1 key, a ttl and extra claims', async () => {
  const token = await generateApplicationJwt({
    privateKeyPem: pkcs1,
    applicationId: APP,
    nowMs: NOW_MS,
    ttlSeconds: 60,
    extraClaims: { sub: 'alice', exp: undefined },
  });
  const claims = decodeJwt(token);
  assert.equal(claims.sub, 'alice');
  assert.equal('exp' in claims, false, 'an undefined extra claim drops the default');

  const verify = createApplicationJwtVerifier({ findApplication: async () => ({ publicKey: publicPem }), nowMs: () => NOW_MS });
  assert.deepEqual(await verify(token), { ok: true, applicationId: APP, application: { publicKey: publicPem } });
});

test('generateApplicationJwt refuses a ttl the server would refuse', async () => {
  for (const ttlSeconds of [0, -1, 1.5, 86_401, Number.NaN]) {
    await assert.rejects(generateApplicationJwt({ privateKeyPem: pkcs8, applicationId: APP, ttlSeconds }), RangeError);
  }
});

test('each token gets its own jti', async () => {
  const options = { privateKeyPem: pkcs8, applicationId: APP, nowMs: NOW_MS };
  const [a, b] = await Promise.all([generateApplicationJwt(options), generateApplicationJwt(options)]);
  assert.notEqual(decodeJwt(a).jti, decodeJwt(b).jti);
});
