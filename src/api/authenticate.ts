import type { FastifyRequest } from 'fastify';
import type { Caller } from '../core/caller.js';
import type { AccountRecord } from '../core/records.js';
import type { Clock } from '../core/clock.js';
import { accountTargets, applicationTargets } from '../core/webhook-targets.js';
import type { UseCases } from '../engine/use-cases/index.js';
import { createApplicationJwtVerifier } from './auth/application-jwt.js';
import { parseBasicAuthorization, parseBearerAuthorization } from './auth/basic-credentials.js';
import { FailureThrottle } from './auth/failure-throttle.js';
import { invalidCredentials, invalidToken, tooManyAttempts } from './problem.js';

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

export interface AuthLimits {
  /** Failed Basic checks one api key, or one client address, may have per window… */
  maxFailures: number;
  /** … before it is answered 429 until the window ends. */
  failureWindowMs: number;
}

export function createAuthenticator(useCases: UseCases, clock: Clock, limits: AuthLimits): Authenticator {
  const throttle = new FailureThrottle({ maxFailures: limits.maxFailures, windowMs: limits.failureWindowMs, nowMs: () => clock.wallNow() });

  const verifyJwt = createApplicationJwtVerifier({
    findApplication: (applicationId) => useCases.findApplication(applicationId),
    // Tokens are minted with real time, even when the server runs a virtual clock.
    nowMs: () => clock.wallNow(),
  });

  /**
   * Credentials verified recently pass at once (no scrypt, no bookkeeping: the hot path). Any
   * other check counts as a failure of the api key and the client address until it succeeds,
   * so concurrent guesses past `maxFailures` are refused too; a throttled key or address gets a
   * 429 before any scrypt runs, while its verified clients keep working.
   */
  async function basicCaller(request: FastifyRequest): Promise<Caller | undefined> {
    const credentials = parseBasicAuthorization(request.headers.authorization ?? '');
    if (!credentials) return undefined;
    const asCaller = (account: AccountRecord): Caller => ({ apiKey: account.apiKey, method: 'basic', targets: accountTargets(account) });
    const known = await useCases.authenticateBasic(credentials.apiKey, credentials.apiSecret, { knownOnly: true });
    if (known) return asCaller(known);
    // Requests with the same credentials arriving together (a client opening many connections
    // after our restart) share the first one's check: one failure counted, one scrypt run.
    const sameCredentials = `${credentials.apiKey}\n${credentials.apiSecret}`;
    const shared = checksInFlight.get(sameCredentials);
    if (shared) {
      const account = await shared;
      return account && asCaller(account);
    }
    const subjects = [`key:${credentials.apiKey}`, `address:${request.ip}`];
    const retryAfter = throttle.retryAfterSeconds(subjects);
    if (retryAfter !== undefined) throw tooManyAttempts(retryAfter);
    throttle.failed(subjects);
    const check = useCases.authenticateBasic(credentials.apiKey, credentials.apiSecret).finally(() => checksInFlight.delete(sameCredentials));
    checksInFlight.set(sameCredentials, check);
    // A check the database could not answer was no failed guess.
    const account = await check.catch((error: unknown) => {
      throttle.forgive(subjects);
      throw error;
    });
    if (!account) return undefined;
    throttle.forgive(subjects);
    return asCaller(account);
  }
  const checksInFlight = new Map<string, Promise<AccountRecord | undefined>>();

  async function jwtCaller(header: string): Promise<Caller | undefined> {
    const token = parseBearerAuthorization(header);
    if (!token) return undefined;
    const check = await verifyJwt(token);
    if (!check.ok) return undefined;
    const { application } = check;
    return { apiKey: application.apiKey, applicationId: application.id, method: 'jwt', targets: applicationTargets(application) };
  }

  return {
    async jwtOrBasic(request) {
      const header = request.headers.authorization ?? '';
      const caller = /^bearer /i.test(header) ? await jwtCaller(header) : await basicCaller(request);
      if (!caller) throw invalidToken();
      request.caller = caller;
    },
    async basicOnly(request) {
      const caller = await basicCaller(request);
      if (!caller) throw invalidCredentials();
      request.caller = caller;
    },
  };
}
