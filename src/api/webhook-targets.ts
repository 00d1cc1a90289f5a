import type { AccountRecord, ApplicationRecord } from '../store/records.js';
import type { Store } from '../store/store.js';

export interface WebhookTargets {
  statusUrl?: string;
  inboundUrl?: string;
}

/** The `messages` capability's webhook addresses of an application. */
export function applicationTargets(application: ApplicationRecord): WebhookTargets {
  const webhooks = (application.capabilities.messages as { webhooks?: Record<string, { address?: string }> } | undefined)?.webhooks;
  return { statusUrl: webhooks?.status_url?.address, inboundUrl: webhooks?.inbound_url?.address };
}

export function accountTargets(account: AccountRecord): WebhookTargets {
  return { statusUrl: account.defaultStatusUrl, inboundUrl: account.defaultInboundUrl };
}

/**
 * Where a caller's webhooks go: a JWT names an application and its messages webhooks are used;
 * Basic auth has no application, so the account's default URLs are.
 */
export async function callerTargets(store: Store, caller: { apiKey: string; applicationId?: string }): Promise<WebhookTargets> {
  if (caller.applicationId) {
    const application = await store.findApplication(caller.applicationId);
    return application ? applicationTargets(application) : {};
  }
  const account = await store.findAccount(caller.apiKey);
  return account ? accountTargets(account) : {};
}
