import assert from 'node:assert/strict';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { describe, it } from 'node:test';
import { payloadHash, signWebhook, type SigningAccount } from './sign.js';

// Everything below checks tokens by hand with node:crypto, not with jose, so that a mistake
// in how we call jose cannot hide behind the same mistake in the check.

const account: SigningAccount = { apiKey: 'abcd1234', signatureSecret: 'sécret-with-ünïcode' };
const body = JSON.stringify({
  message_uuid: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
  status: 'delivered',
  text: 'héllo 👋',
});
const nowMs = Date.UTC(2024, 4, 17, 12, 0, 0) + 987; // a fractional second, to check flooring
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface DecodedToken {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** Splits `Bearer <jwt>`, checks the HS256 signature with `secret`, and decodes both parts. */
function verifyByHand(authorization: string, secret: string): DecodedToken {
  const match = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(authorization);
  assert.ok(match, `not a Bearer JWT: ${authorization}`);
  const [, header, payload, signature] = match as unknown as [string, string, string, string];

  const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${header}.${payload}`).digest();
  const actual = Buffer.from(signature, 'base64url');
  assert.ok(actual.length === expected.length && timingSafeEqual(actual, expected), 'bad HS256 signature');

  return { header: decodePart(header), claims: decodePart(payload) };
}

async function signAndVerify(applicationId: string | undefined): Promise<DecodedToken> {
  return verifyByHand(await signWebhook(body, account, applicationId, nowMs), account.signatureSecret);
}

function decodePart(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex');
}

describe('signWebhook', () => {
  it('returns a Bearer HS256 JWT signed with the UTF-8 bytes of the signature secret', async () => {
    const authorization = await signWebhook(body, account, 'app-1', nowMs);
    const { header } = verifyByHand(authorization, account.signatureSecret);
    assert.deepEqual(header, { alg: 'HS256', typ: 'JWT' });
  });

  it('carries exactly iat, jti, iss, api_key, application_id and payload_hash', async () => {
    const applicationId = 'f3a7a3e2-5b6a-4a55-9a2e-0d0e3f1b2c4d';
    const { claims } = await signAndVerify(applicationId);

    const names = ['api_key', 'application_id', 'iat', 'iss', 'jti', 'payload_hash'];
    assert.deepEqual(Object.keys(claims).sort(), names);
    assert.equal(claims.iat, Math.floor(nowMs / 1000));
    assert.match(String(claims.jti), UUID_V4);
    assert.equal(claims.iss, 'Vonage');
    assert.equal(claims.api_key, 'abcd1234');
    assert.equal(claims.application_id, applicationId);
    assert.equal(claims.payload_hash, sha256Hex(body));
  });

  it('leaves application_id out when there is none', async () => {
    const { claims } = await signAndVerify(undefined);
    assert.equal('application_id' in claims, false);
    assert.equal(claims.api_key, 'abcd1234');
  });

  it('does not verify with another secret', async () => {
    const authorization = await signWebhook(body, account, undefined, nowMs);
    assert.throws(() => verifyByHand(authorization, 'another-secret'), /bad HS256 signature/);
  });

  it('hashes the body given, so a re-serialised body would not match', async () => {
    const pretty = JSON.stringify(JSON.parse(body), null, 2);
    const { claims } = await signAndVerify(undefined);
    assert.notEqual(claims.payload_hash, sha256Hex(pretty));
  });

  it('uses a fresh jti for every token', async () => {
    const tokens = await Promise.all([1, 2, 3].map(() => signWebhook(body, account, undefined, nowMs)));
    const jtis = tokens.map((t) => verifyByHand(t, account.signatureSecret).claims.jti);
    assert.equal(new Set(jtis).size, 3);
  });

  it('refuses an empty signature secret', async () => {
    const noSecret = { apiKey: 'k', signatureSecret: '' };
    await assert.rejects(signWebhook(body, noSecret, undefined, nowMs), /no signature secret/);
  });
});

describe('payloadHash', () => {
  const cases: Array<[string, string]> = [
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ];
  for (const [input, expected] of cases) {
    it(`matches the published SHA-256 of ${JSON.stringify(input)}`, () => {
      assert.equal(payloadHash(input), expected);
    });
  }

  it('hashes the UTF-8 bytes of non-ASCII text', () => {
    assert.equal(payloadHash(body), sha256Hex(body));
    assert.equal(payloadHash('é'), createHash('sha256').update(Buffer.from([0xc3, 0xa9])).digest('hex'));
  });
});
