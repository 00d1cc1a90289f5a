import { randomBytes } from 'node:crypto';
import type { AccountRecord } from '../../core/records.js';
import type { EngineContext } from '../engine-context.js';
import { createSecretVerifierCache, hashSecret, verifySecret } from './secret-hash.js';

/**
 * Checks an `api_key:api_secret` pair against the stored scrypt hash. An unknown key costs the
 * same scrypt as a wrong secret, so timing does not tell which api keys exist.
 */
export function createBasicCredentialsCheck(ctx: Pick<EngineContext, 'store' | 'clock'>): (apiKey: string, apiSecret: string) => Promise<AccountRecord | undefined> {
  const secrets = createSecretVerifierCache({ nowMs: () => ctx.clock.wallNow() });
  const unknownAccountHash = hashSecret(randomBytes(16).toString('hex'));
  return async (apiKey, apiSecret) => {
    const account = await ctx.store.findAccount(apiKey);
    if (!account) {
      await verifySecret(apiSecret, await unknownAccountHash);
      return undefined;
    }
    return (await secrets.verify(account.apiKey, apiSecret, account.secretHash)) ? account : undefined;
  };
}
