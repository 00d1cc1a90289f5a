import type { Logger } from 'pino';
import type { AccountLookup } from './accounts/account-cache.js';
import type { ProviderRegistry } from '../channels/provider-registry.js';
import type { Clock } from '../core/clock.js';
import type { DispatchSettings } from '../core/dispatch/types.js';
import type { PriceTable } from '../core/pricing.js';
import type { Store } from '../store/store.js';
import type { WebhookAddressPolicy } from '../webhooks/address-policy.js';

/** What use cases and job handlers work with; composed once by the server. */
export interface EngineContext {
  store: Store;
  /** Accounts, answered from memory once read (accounts/account-cache.ts). */
  accounts: AccountLookup;
  clock: Clock;
  log: Logger;
  providers: ProviderRegistry;
  pricing: PriceTable;
  dispatch: DispatchSettings;
  sends: {
    /** A provider that has not answered a send after this long has failed it (retryably). */
    timeoutMs: number;
  };
  applications: {
    /** Applications one account may have. */
    maxPerAccount: number;
  };
  /** Which addresses webhooks may reach: applications naming a refused one are refused at once. */
  webhookAddresses: WebhookAddressPolicy;
  receipts: {
    /** A held receipt whose reference no message carries after this long is given up on (and counted). */
    unmatchedTtlMs: number;
  };
}
