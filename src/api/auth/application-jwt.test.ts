import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import { createApplicationJwtVerifier, type JwtCheck } from './application-jwt.js';
import { generateApplicationJwt } from '../../cli/generate-jwt.js';

const NOW_MS = Date.UTC(2024, 4, 1, 12, 0, 0);
const NOW = NOW_MS / 1000;
const APP_A = '7a1b2c3d-0000-4000-8000-00000000000a';
const APP_B = '7a1b2c3d-0000-4000-8000-00000000000b';

function rsaKeyPair() {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}
const keysA = rsaKeyPair();
const keysB = rsaKeyPair();

/** A verifier over a mutable key table, with the clock frozen at NOW. */
function verifierFor(publicKeys: Map<string, string>) {
  return createApplicationJwtVerifier({
    findApplication: async (id) => {
      const publicKey = publicKeys.get(id);
      return publicKey === undefined ? undefined : { publicKey };
    },
    nowMs: () => NOW_MS,
  });
}
const verify = verifierFor(new Map([[APP_A, keysA.publicKey], [APP_B, keysB.publicKey]]));

// Hand-built tokens, so the negative cases can break any rule a library would refuse to.
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const RS256 = { alg: 'RS256', typ: 'JWT' };

function signRsa(claims: object, privateKey = keysA.privateKey, header: object = RS256, hash = 'sha256'): string {
  const input = `${b64url(header)}.${b64url(claims)}`;
  return `${input}.${sign(hash, Buffer.from(input), privateKey).toString('base64url')}`;
}

function signHs256(claims: object, secret: string): string {
  const input = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** What nexmo-node 2.x sends: iat, a uuid v1 jti, application_id, and no exp. Undefined values drop a claim. */
function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { iat: NOW, jti: '103f9a40-07b3-11ef-9262-0242ac120002', application_id: APP_A, ...overrides };
}

function tamperPayload(token: string, replacement: object): string {
  const [header, , signature] = token.split('.');
  return `${header}.${b64url(replacement)}.${signature}`;
}

const OK = 'ok';
const cases: Array<{ name: string; token: () => string | Promise<string>; expected: typeof OK | string }> = [
  {
    name: 'valid token with exp (as @vonage/jwt makes it)',
    token: () => generateApplicationJwt({ privateKeyPem: keysA.privateKey, applicationId: APP_A, nowMs: NOW_MS }),
    expected: OK,
  },
  { name: 'valid token without exp (as nexmo-node makes it)', token: () => signRsa(claims()), expected: OK },
  {
    name: 'bad signature: tampered payload',
    token: () => tamperPayload(signRsa(claims()), claims({ iat: NOW + 1 })),
    expected: 'invalid signature',
  },
  {
    name: "signed with another application's key",
    token: () => signRsa(claims(), keysB.privateKey),
    expected: 'invalid signature',
  },
  {
    name: 'alg none',
    token: () => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims())}.`,
    expected: 'algorithm not allowed',
  },
  {
    name: 'HS256 keyed with the public key text (algorithm confusion)',
    token: () => signHs256(claims(), keysA.publicKey),
    expected: 'algorithm not allowed',
  },
  {
    name: 'RS512, correctly signed, is still not RS256',
    token: () => signRsa(claims(), keysA.privateKey, { alg: 'RS512', typ: 'JWT' }, 'sha512'),
    expected: 'algorithm not allowed',
  },
  {
    name: 'expired beyond the skew',
    token: () => signRsa(claims({ iat: NOW - 1000, exp: NOW - 31 })),
    expected: 'expired',
  },
  { name: 'expired within the skew', token: () => signRsa(claims({ iat: NOW - 1000, exp: NOW - 29 })), expected: OK },
  { name: 'no exp, issued over 900 s (+ skew) ago', token: () => signRsa(claims({ iat: NOW - 931 })), expected: 'expired' },
  { name: 'no exp, issued 900 s ago, within the skew', token: () => signRsa(claims({ iat: NOW - 929 })), expected: OK },
  { name: 'exp exactly 24 h after iat', token: () => signRsa(claims({ exp: NOW + 86_400 })), expected: OK },
  {
    name: 'exp more than 24 h after iat',
    token: () => signRsa(claims({ exp: NOW + 86_401 })),
    expected: 'lifetime over 24 h',
  },
  {
    name: 'nbf in the future beyond the skew',
    token: () => signRsa(claims({ nbf: NOW + 31, exp: NOW + 900 })),
    expected: 'not yet valid (nbf)',
  },
  { name: 'nbf in the future within the skew', token: () => signRsa(claims({ nbf: NOW + 29 })), expected: OK },
  { name: 'iat in the future beyond the skew', token: () => signRsa(claims({ iat: NOW + 31 })), expected: 'iat in the future' },
  { name: 'iat in the future within the skew', token: () => signRsa(claims({ iat: NOW + 29 })), expected: OK },
  {
    name: 'missing application_id',
    token: () => signRsa(claims({ application_id: undefined })),
    expected: 'application_id missing',
  },
  { name: 'missing iat', token: () => signRsa(claims({ iat: undefined })), expected: 'iat missing or not a number' },
  { name: 'iat as a string', token: () => signRsa(claims({ iat: String(NOW) })), expected: 'iat missing or not a number' },
  { name: 'missing jti', token: () => signRsa(claims({ jti: undefined })), expected: 'jti missing' },
  { name: 'exp as a string', token: () => signRsa(claims({ exp: String(NOW + 60) })), expected: 'exp not a number' },
  {
    name: 'unknown application',
    token: () => signRsa(claims({ application_id: randomUUID() })),
    expected: 'unknown application',
  },
];

for (const { name, token, expected } of cases) {
  test(`application JWT: ${name}`, async () => {
    const check = await verify(await token());
    const want: JwtCheck = expected === OK ? { ok: true, applicationId: APP_A, application: { publicKey: keysA.publicKey } } : { ok: false, reason: expected };
    assert.deepEqual(check, want);
  });
}

test('application JWT: garbage is refused without throwing', async () => {
  const header = b64url(RS256);
  const garbage = [
    '',
    'garbage',
    'a.b.c',
    '..',
    'a.b',
    'a.b.c.d.e',
    `${header}.${Buffer.from('not json').toString('base64url')}.sig`,
    `${header}.${b64url([1, 2])}.sig`,
    `${header}.${b64url(null)}.sig`,
    `${header}.${b64url(claims())}`,
    `${header}.${b64url(claims())}.!!!`,
    `${Buffer.from('{"alg":').toString('base64url')}.${b64url(claims())}.sig`,
    `${b64url({ typ: 'JWT' })}.${b64url(claims())}.sig`,
    `${b64url({ alg: 'RS256', crit: ['exp'] })}.${b64url(claims())}.sig`,
    'é'.repeat(1000),
    'x'.repeat(100_000),
  ];
  for (const token of garbage) {
    const check = await verify(token);
    assert.equal(check.ok, false, JSON.stringify(token.slice(0, 80)));
  }
  // Not even a string, as an untyped caller might pass.
  assert.equal((await verify(undefined as unknown as string)).ok, false);
});

test('application JWT: a crit header the verifier does not understand is refused', async () => {
  const token = signRsa(claims(), keysA.privateKey, { alg: 'RS256', crit: ['b64'], b64: false });
  assert.deepEqual(await verify(token), { ok: false, reason: 'unsupported crit header' });
});

test('application JWT: a rotated key is picked up, and the old key stops working', async () => {
  const publicKeys = new Map([[APP_A, keysA.publicKey]]);
  const verifyRotating = verifierFor(publicKeys);
  const signedWithOld = signRsa(claims());
  const signedWithNew = signRsa(claims(), keysB.privateKey);

  assert.equal((await verifyRotating(signedWithOld)).ok, true);
  publicKeys.set(APP_A, keysB.publicKey);
  assert.equal((await verifyRotating(signedWithNew)).ok, true);
  assert.deepEqual(await verifyRotating(signedWithOld), { ok: false, reason: 'invalid signature' });
});

test('application JWT: a stored key that is not a 2048+ bit RSA public key is refused', async () => {
  const spki = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const token = signRsa(claims(), weak.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());

  for (const publicKey of ['not a pem', spki(ec.publicKey), spki(weak.publicKey)]) {
    const verifyBroken = verifierFor(new Map([[APP_A, publicKey]]));
    assert.deepEqual(await verifyBroken(token), { ok: false, reason: 'unusable public key' }, publicKey.slice(0, 40));
  }
});

test('application JWT: the clock is read per call, not at creation', async () => {
  let nowMs = NOW_MS;
  const verifyAt = createApplicationJwtVerifier({ findApplication: async () => ({ publicKey: keysA.publicKey }), nowMs: () => nowMs });
  const token = signRsa(claims());
  assert.equal((await verifyAt(token)).ok, true);
  nowMs += 931_000;
  assert.deepEqual(await verifyAt(token), { ok: false, reason: 'expired' });
});

test('application JWT: tokens from the real nexmo-node and @vonage/server-sdk 2.x generators pass', async () => {
  // These SDKs are devDependencies precisely so their wire output can be checked (reference §4.1, §5).
  const require = createRequire(import.meta.url);
  type Generator = { generate(cert: Buffer, claims: object): string };
  const verifyNow = createApplicationJwtVerifier({ findApplication: async () => ({ publicKey: keysA.publicKey }), nowMs: Date.now });
  const cert = Buffer.from(keysA.privateKey);

  for (const sdk of ['nexmo', '@vonage/server-sdk']) {
    const JwtGenerator = require(`${sdk}/lib/JwtGenerator.js`) as new () => Generator;
    const generator = new JwtGenerator();
    // What the SDK sends per API call (no exp) and what the nexmo-cli docs suggest (exp = now + 24 h).
    const nowS = Math.floor(Date.now() / 1000);
    for (const extra of [{}, { exp: nowS + 86_400 }]) {
      const token = generator.generate(cert, { application_id: APP_A, ...extra });
      assert.deepEqual(await verifyNow(token), { ok: true, applicationId: APP_A, application: { publicKey: keysA.publicKey } }, `${sdk} ${JSON.stringify(extra)}`);
    }
  }
});

test('application JWT: a token verified once passes again while valid, but not once expired, deleted or rotated', async () => {
  let nowMs = NOW_MS;
  const publicKeys = new Map([[APP_A, keysA.publicKey]]);
  let lookups = 0;
  const verifyCached = createApplicationJwtVerifier({
    findApplication: async (id) => {
      lookups += 1;
      const publicKey = publicKeys.get(id);
      return publicKey === undefined ? undefined : { publicKey };
    },
    nowMs: () => nowMs,
  });
  const token = signRsa(claims({ exp: NOW + 60 }));
  for (let i = 0; i < 3; i++) assert.equal((await verifyCached(token)).ok, true);
  assert.equal(lookups, 3, 'each request still reads the application: a deleted one must stop its tokens');

  // Past exp + the 30 s of skew the cached token is refused as a fresh one would be.
  nowMs = (NOW + 60 + 30) * 1000;
  assert.deepEqual(await verifyCached(token), { ok: false, reason: 'expired' });

  nowMs = NOW_MS;
  assert.equal((await verifyCached(token)).ok, true);
  publicKeys.delete(APP_A);
  assert.deepEqual(await verifyCached(token), { ok: false, reason: 'unknown application' });
  publicKeys.set(APP_A, keysB.publicKey);
  assert.deepEqual(await verifyCached(token), { ok: false, reason: 'invalid signature' });
});
