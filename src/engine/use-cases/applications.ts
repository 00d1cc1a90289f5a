import { generateKeyPair, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { ApplicationRecord } from '../../core/records.js';
import type { InvalidParameter } from '../../core/validation.js';
import type { Page } from '../../store/store.js';
import type { EngineContext } from '../engine-context.js';

/** What a client may set on an application (validated by the API). */
export interface ApplicationFields {
  name: string;
  /** PEM SPKI; absent on create: a key pair is generated. Absent on update: the key is kept. */
  publicKey?: string;
  capabilities: Record<string, unknown>;
  privacy: { improve_ai: boolean };
}

export type CreatedApplication = { application: ApplicationRecord; privateKey?: string } | { limitReached: number };

/**
 * A generated private key is in this answer and nowhere else, ever (DESIGN §3). An account
 * holds at most `applications.max_per_account` applications: each is a row and a key that every
 * JWT naming it may make us parse.
 */
export async function createApplication(ctx: EngineContext, apiKey: string, fields: ApplicationFields): Promise<CreatedApplication> {
  const keys = fields.publicKey === undefined ? await generateRsaKeyPair() : { publicKey: fields.publicKey };
  // Bookkeeping: wall time, whatever the scheduling clock does.
  const now = ctx.clock.wallNow();
  const application: ApplicationRecord = { id: randomUUID(), apiKey, ...editable(fields, keys.publicKey), createdAt: now, updatedAt: now };
  const { maxPerAccount } = ctx.applications;
  if (!(await ctx.store.insertApplication(application, maxPerAccount))) return { limitReached: maxPerAccount };
  return { application, ...('privateKey' in keys && { privateKey: keys.privateKey }) };
}

/**
 * The webhook addresses of these capabilities whose host webhooks may never reach (a literal
 * private or metadata address, `localhost` without loopback allowed), named as the payload
 * names them. Names are judged again on every attempt, once resolved (DESIGN §3).
 */
export function refusedWebhookAddresses(ctx: EngineContext, capabilities: Record<string, unknown>): InvalidParameter[] {
  const refused: InvalidParameter[] = [];
  for (const [capability, value] of Object.entries(capabilities)) {
    const webhooks = (value as { webhooks?: Record<string, { address?: unknown }> } | undefined)?.webhooks ?? {};
    for (const [webhook, { address }] of Object.entries(webhooks)) {
      // Validated and normalised by the payload rules already: an absolute http(s) URL.
      if (typeof address !== 'string') continue;
      const verdict = ctx.webhookAddresses.checkHost(new URL(address).hostname);
      if (!verdict.allowed) refused.push({ name: `capabilities.${capability}.webhooks.${webhook}.address`, reason: `is refused: ${verdict.reason}` });
    }
  }
  return refused;
}

/** Another account's application is answered exactly like an unknown id. */
export async function findOwnApplication(ctx: EngineContext, apiKey: string, id: string): Promise<ApplicationRecord | undefined> {
  const application = await ctx.store.findApplication(id);
  return application?.apiKey === apiKey ? application : undefined;
}

export function listApplications(ctx: EngineContext, apiKey: string, page: { limit: number; offset: number }): Promise<Page<ApplicationRecord>> {
  return ctx.store.listApplications(apiKey, page);
}

/** Full replace; without a public key the application keeps its key. Undefined: not found (or deleted meanwhile). */
export async function replaceApplication(ctx: EngineContext, apiKey: string, id: string, fields: ApplicationFields): Promise<ApplicationRecord | undefined> {
  const existing = await findOwnApplication(ctx, apiKey, id);
  if (!existing) return undefined;
  const application: ApplicationRecord = { ...existing, ...editable(fields, fields.publicKey ?? existing.publicKey), updatedAt: ctx.clock.wallNow() };
  return (await ctx.store.updateApplication(application)) ? application : undefined;
}

export function deleteApplication(ctx: EngineContext, apiKey: string, id: string): Promise<boolean> {
  return ctx.store.deleteApplication(apiKey, id);
}

function editable(fields: ApplicationFields, publicKey: string): Pick<ApplicationRecord, 'name' | 'publicKey' | 'capabilities' | 'privacy'> {
  return { name: fields.name, publicKey, capabilities: fields.capabilities, privacy: fields.privacy };
}

const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * RSA-2048 for RS256, in the PEM forms nexmo-cli writes and reads (PKCS#8 private, SPKI public).
 * Asynchronous: generation takes tens of milliseconds and must not block other requests.
 */
function generateRsaKeyPair(): Promise<{ publicKey: string; privateKey: string }> {
  return generateKeyPairAsync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}
