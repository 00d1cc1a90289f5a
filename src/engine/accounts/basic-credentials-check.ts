import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import type { AccountRecord } from '../../core/records.js';
import type { EngineContext } from '../engine-context.js';
import { createSecretVerifierCache, hashSecret, verifySecret } from './secret-hash.js';

/**
 * scrypt checks at once. Each takes a thread of libuv's pool (4 by default) for tens of
 * milliseconds; the rest of the pool stays free for the file system, DNS and key generation of
 * good requests however many guesses arrive. Further checks wait their turn.
 */
const SLOW_CHECKS_AT_ONCE = 2;

export interface BasicCredentialsCheck {
  /** The account whose key and secret these are; undefined, in constant time, for anything else. */
  (apiKey: string, apiSecret: string, options?: { knownOnly?: boolean }): Promise<AccountRecord | undefined>;
}

/**
 * Checks an `api_key:api_secret` pair against the stored scrypt hash. An unknown key costs the
 * same scrypt as a wrong secret, so timing does not tell which api keys exist. `knownOnly`
 * answers from credentials verified recently (or being verified now) and runs no scrypt: for a
 * client that is being throttled, whose good requests still pass while its guesses cost nothing.
 */
export function createBasicCredentialsCheck(ctx: Pick<EngineContext, 'accounts' | 'clock'>): BasicCredentialsCheck {
  const slowChecks = pLimit(SLOW_CHECKS_AT_ONCE);
  const secrets = createSecretVerifierCache({ nowMs: () => ctx.clock.wallNow(), verifySecret: (secret, stored) => slowChecks(() => verifySecret(secret, stored)) });
  const unknownAccountHash = hashSecret(randomBytes(16).toString('hex'));
  return async (apiKey, apiSecret, { knownOnly = false } = {}) => {
    const account = await ctx.accounts.find(apiKey);
    if (knownOnly) return account && (await secrets.known(account.apiKey, apiSecret, account.secretHash)) ? account : undefined;
    if (!account) {
      const stored = await unknownAccountHash;
      await slowChecks(() => verifySecret(apiSecret, stored));
      return undefined;
    }
    return (await secrets.verify(account.apiKey, apiSecret, account.secretHash)) ? account : undefined;
  };
}
