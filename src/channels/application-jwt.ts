/**
 * Mints application JWTs the way @vonage/jwt does (reference/nexmo-api.md §4.1): for
 * `opendispatch jwt:generate`, the tests, and the Vonage Messages upstream, which calls Vonage
 * with its own application's key.
 */
import { createPrivateKey, randomUUID } from 'node:crypto';
import { importPKCS8, SignJWT } from 'jose';

export interface MintJwtOptions {
  /** PKCS#8 (`BEGIN PRIVATE KEY`, what Nexmo hands out) or PKCS#1 (`BEGIN RSA PRIVATE KEY`). */
  privateKeyPem: string;
  applicationId: string;
  /** Default 900; at most 86 400, the longest lifetime the server accepts. */
  ttlSeconds?: number;
  /** Wall time of issue. */
  nowMs: number;
  /** Added last, so they may override the defaults (tests use `{ exp: undefined }` to drop `exp`). */
  extraClaims?: Record<string, unknown>;
}

const DEFAULT_TTL_S = 900;
const MAX_TTL_S = 24 * 60 * 60;

/** RS256 JWT with header {alg:"RS256", typ:"JWT"} and claims {iat, jti (uuid v4), application_id, exp: iat+ttl (default 900), ...extraClaims}. */
export async function mintApplicationJwt(options: MintJwtOptions): Promise<string> {
  const ttl = options.ttlSeconds ?? DEFAULT_TTL_S;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_S) {
    throw new RangeError(`ttlSeconds must be an integer from 1 to ${MAX_TTL_S}, got ${ttl}`);
  }
  const iat = Math.floor(options.nowMs / 1000);
  const claims = {
    iat,
    jti: randomUUID(),
    application_id: options.applicationId,
    exp: iat + ttl,
    ...options.extraClaims,
  };
  const key = await importPKCS8(toPkcs8(options.privateKeyPem), 'RS256');
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).sign(key);
}

/** jose reads PKCS#8 only; older tools (openssl genrsa) write PKCS#1. */
function toPkcs8(pem: string): string {
  if (!pem.includes('BEGIN RSA PRIVATE KEY')) return pem;
  return createPrivateKey(pem).export({ type: 'pkcs8', format: 'pem' }).toString();
}
