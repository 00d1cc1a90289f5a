import { randomBytes } from 'node:crypto';
import { OpenDispatchError } from '../../core/errors.js';
import type { AccountRecord } from '../../core/records.js';
import type { Store } from '../../store/store.js';
import { hashSecret } from './secret-hash.js';

export interface NewAccountOptions {
  apiKey?: string;
  apiSecret?: string;
  statusUrl?: string;
  inboundUrl?: string;
}

/** Shown once at creation; only a hash of the secret is kept. */
export interface CreatedAccount {
  apiKey: string;
  apiSecret: string;
  signatureSecret: string;
  statusUrl?: string;
  inboundUrl?: string;
}

/** Nexmo-shaped credentials: an 8-hex-digit key and a 16-character secret. */
export async function createAccount(store: Store, options: NewAccountOptions, now: number): Promise<CreatedAccount> {
  const { record, created } = await newAccount(options, now);
  if (!(await store.insertAccount(record))) throw new OpenDispatchError('OD_ACCOUNT_EXISTS', `an account with api key ${record.apiKey} exists already`);
  return created;
}

/** An empty database's first account; undefined when it has one already (another node seeded it). */
export async function createFirstAccount(store: Store, options: NewAccountOptions, now: number): Promise<CreatedAccount | undefined> {
  const { record, created } = await newAccount(options, now);
  return (await store.insertFirstAccount(record)) ? created : undefined;
}

async function newAccount(options: NewAccountOptions, now: number): Promise<{ record: AccountRecord; created: CreatedAccount }> {
  const apiKey = options.apiKey ?? randomBytes(4).toString('hex');
  const apiSecret = options.apiSecret ?? randomToken(16);
  const signatureSecret = randomToken(40);
  const record = {
    apiKey,
    secretHash: await hashSecret(apiSecret),
    signatureSecret,
    defaultStatusUrl: options.statusUrl,
    defaultInboundUrl: options.inboundUrl,
    createdAt: now,
  };
  return { record, created: { apiKey, apiSecret, signatureSecret, statusUrl: options.statusUrl, inboundUrl: options.inboundUrl } };
}

/** Letters and digits only, so the value survives shells, URLs and `curl -u` unquoted. */
function randomToken(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length * 2);
  let token = '';
  for (const byte of bytes) {
    if (byte < 248) token += alphabet[byte % 62]; // 248 = 4 × 62: no modulo bias
    if (token.length === length) break;
  }
  return token.length === length ? token : randomToken(length);
}
