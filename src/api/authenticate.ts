import type { FastifyRequest } from 'fastify';
import type { Caller } from '../core/caller.js';
import type { Clock } from '../core/clock.js';
import { accountTargets, applicationTargets } from '../core/webhook-targets.js';
import type { UseCases } from '../engine/use-cases/index.js';
import { createApplicationJwtVerifier } from './auth/application-jwt.js';
import { parseBasicAuthorization, parseBearerAuthorization } from './auth/basic-credentials.js';
import { invalidCredentials, invalidToken } from './problem.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
  }
}

export interface Authenticator {
  /** Messages and Dispatch: `Bearer` JWT or `Basic`; any failure is the gateway's "Invalid Token" 401. */
  jwtOrBasic(request: FastifyRequest): Promise<void>;
  /** Applications API and sandbox routes: `Basic` only. */
  basicOnly(request: FastifyRequest): Promise<void>;
}

export function createAuthenticator(useCases: UseCases, clock: Clock): Authenticator {
  const verifyJwt = createApplicationJwtVerifier({
    findPublicKey: async (applicationId) => (await useCases.findApplication(applicationId))?.publicKey,
    // Tokens are minted with real time, even when the server runs a virtual clock.
    nowMs: () => clock.wallNow(),
  });

  async function basicCaller(header: string): Promise<Caller | undefined> {
    const credentials = parseBasicAuthorization(header);
    if (!credentials) return undefined;
    const account = await useCases.authenticateBasic(credentials.apiKey, credentials.apiSecret);
    return account && { apiKey: account.apiKey, method: 'basic', targets: accountTargets(account) };
  }

  async function jwtCaller(header: string): Promise<Caller | undefined> {
    const token = parseBearerAuthorization(header);
    if (!token) return undefined;
    const check = await verifyJwt(token);
    if (!check.ok) return undefined;
    const application = await useCases.findApplication(check.applicationId);
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
