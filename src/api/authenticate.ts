import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Store } from '../store/store.js';
import { createApplicationJwtVerifier } from './auth/application-jwt.js';
import { parseBasicAuthorization, parseBearerAuthorization } from './auth/basic-credentials.js';
import { createSecretVerifierCache, hashSecret, verifySecret } from './auth/secret-hash.js';
import { invalidCredentials, invalidToken } from './problem.js';
import { accountTargets, applicationTargets, type WebhookTargets } from './webhook-targets.js';

/** Who is calling: always an account; with a JWT also the application it names. */
export interface Caller {
  apiKey: string;
  applicationId?: string;
  method: 'jwt' | 'basic';
  /** Where this caller's webhooks go: the application's, or with Basic auth the account's defaults. */
  targets: WebhookTargets;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
  }
}

/**
 * Whether a caller may see a message or dispatch: a JWT sees its application's, Basic auth every
 * one of the account. Anything else is answered as if it did not exist (404).
 */
export function canSee(caller: Caller, record: { apiKey: string; applicationId?: string }): boolean {
  if (record.apiKey !== caller.apiKey) return false;
  return caller.method === 'basic' || record.applicationId === caller.applicationId;
}

export interface Authenticator {
  /** Messages and Dispatch: `Bearer` JWT or `Basic`; any failure is the gateway's "Invalid Token" 401. */
  jwtOrBasic(request: FastifyRequest): Promise<void>;
  /** Applications API and sandbox routes: `Basic` only. */
  basicOnly(request: FastifyRequest): Promise<void>;
}

export function createAuthenticator(store: Store): Authenticator {
  const secrets = createSecretVerifierCache();
  const unknownAccountHash = hashSecret(randomBytes(16).toString('hex'));
  const verifyJwt = createApplicationJwtVerifier({
    findPublicKey: async (applicationId) => (await store.findApplication(applicationId))?.publicKey,
    nowMs: () => Date.now(),
  });

  async function basicCaller(header: string): Promise<Caller | undefined> {
    const credentials = parseBasicAuthorization(header);
    if (!credentials) return undefined;
    const account = await store.findAccount(credentials.apiKey);
    if (!account) {
      // As slow as a wrong secret, so that timing does not tell which api keys exist.
      await verifySecret(credentials.apiSecret, await unknownAccountHash);
      return undefined;
    }
    if (!(await secrets.verify(account.apiKey, credentials.apiSecret, account.secretHash))) return undefined;
    return { apiKey: account.apiKey, method: 'basic', targets: accountTargets(account) };
  }

  async function jwtCaller(header: string): Promise<Caller | undefined> {
    const token = parseBearerAuthorization(header);
    if (!token) return undefined;
    const check = await verifyJwt(token);
    if (!check.ok) return undefined;
    const application = await store.findApplication(check.applicationId);
    return application && { apiKey: application.apiKey, applicationId: application.id, method: 'jwt', targets: applicationTargets(application) };
  }

  return {
    async jwtOrBasic(request) {
      const header = request.headers.authorization ?? '';
      const caller = /^bearer /i.test(header) ? await jwtCaller(header) : await basicCaller(header);
      if (!caller) throw invalidToken();
      request.caller = caller;
    },
    async basicOnly(request) {
      const caller = await basicCaller(request.headers.authorization ?? '');
      if (!caller) throw invalidCredentials();
      request.caller = caller;
    },
  };
}
