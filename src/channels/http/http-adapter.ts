import type { SendResult } from '../channel-adapter.js';
import { ProviderHttp } from './provider-http.js';

/**
 * What every HTTP provider adapter shares: its keep-alive pool (ProviderHttp), closed with the
 * adapter, and no connection of its own to open at start.
 */
export abstract class HttpProviderAdapter {
  protected readonly http: ProviderHttp;

  constructor(timeoutMs: number) {
    this.http = new ProviderHttp(timeoutMs);
  }

  async start(): Promise<void> {}

  async close(): Promise<void> {
    await this.http.close();
  }
}

/** A call that got no HTTP answer (refused, reset, timed out): always tried again. */
export function unreachable(api: string, reason: string): SendResult {
  return { ok: false, failure: { retryable: true, error: { code: 1100, reason: `Communication failed: ${api}: ${reason}` } } };
}
