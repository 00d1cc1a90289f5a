import { createHash, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';

/** The account whose signature secret signs its webhooks (reference §4.2). */
export interface SigningAccount {
  apiKey: string;
  signatureSecret: string;
}

/** Vonage puts this fixed issuer in every signed webhook; verifiers may check it. */
const ISSUER = 'Vonage';

/**
 * Returns the value for the Authorization header: `Bearer <HS256 JWT>`.
 *
 * Claims: `iat` (seconds), `jti` (uuid v4), `iss` "Vonage", `api_key`, `application_id` (only
 * when given) and `payload_hash`. Always HS256, whatever signature method the account has set,
 * because that is what Vonage sends and what the official verifier samples accept.
 *
 * `body` must be exactly the string that goes on the wire: the receiver hashes the bytes it got.
 * Rejects when the account has no signature secret (HS256 needs a non-empty key).
 */
export async function signWebhook(
  body: string,
  account: SigningAccount,
  applicationId: string | undefined,
  nowMs: number,
): Promise<string> {
  if (account.signatureSecret.length === 0) {
    throw new Error(`account ${account.apiKey} has no signature secret to sign webhooks with`);
  }

  const claims: Record<string, string> = {
    api_key: account.apiKey,
    payload_hash: payloadHash(body),
  };
  if (applicationId !== undefined) claims.application_id = applicationId;

  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    // jose writes a fractional number as is; NumericDate receivers expect whole seconds.
    .setIssuedAt(Math.floor(nowMs / 1000))
    .setJti(randomUUID())
    .setIssuer(ISSUER)
    .sign(new TextEncoder().encode(account.signatureSecret));

  return `Bearer ${token}`;
}

/** Hex SHA-256 of the body's UTF-8 bytes: the `payload_hash` claim. */
export function payloadHash(body: string): string {
  return createHash('sha256').update(body, 'utf8').digest('hex');
}
