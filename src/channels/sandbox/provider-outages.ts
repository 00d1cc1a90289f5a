import { invalid, valid, type Validation } from '../../core/validation.js';

/**
 * A sandbox provider scripted to fail (`PUT /sandbox/providers/{name}`), so that a user watches
 * provider failover and circuits on a laptop: every send of that account's messages to that
 * provider answers as a provider 503 until the outage is lifted. Per account, so one tenant's
 * outage never reaches another's messages; kept in this node's memory, as a test tool.
 */
export interface ProviderOutage {
  /** Asked of the gateway as a Retry-After, in seconds. */
  retryAfterSeconds?: number;
}

export class ProviderOutages {
  private readonly outages = new Map<string, ProviderOutage>();

  get(apiKey: string, provider: string): ProviderOutage | undefined {
    return this.outages.get(key(apiKey, provider));
  }

  set(apiKey: string, provider: string, outage: ProviderOutage | undefined): void {
    if (outage === undefined) this.outages.delete(key(apiKey, provider));
    else this.outages.set(key(apiKey, provider), outage);
  }
}

const key = (apiKey: string, provider: string) => `${apiKey}\u0000${provider}`;

/** `{"failing": true, "retry_after": 2}` or `{"failing": false}`; the wire form echoed back. */
export function parseOutage(body: unknown): Validation<ProviderOutage | undefined> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return invalid([{ name: 'body', reason: 'must be an object such as {"failing": true}' }]);
  const { failing, retry_after: retryAfter, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) return invalid([{ name: 'body', reason: 'takes only failing and retry_after' }]);
  if (typeof failing !== 'boolean') return invalid([{ name: 'failing', reason: 'must be true or false' }]);
  if (retryAfter !== undefined && (typeof retryAfter !== 'number' || !Number.isFinite(retryAfter) || retryAfter < 0 || retryAfter > 3600)) {
    return invalid([{ name: 'retry_after', reason: 'must be a number of seconds from 0 to 3600' }]);
  }
  if (!failing) return valid(undefined);
  return valid(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter });
}
