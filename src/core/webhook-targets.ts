import type { AccountRecord, ApplicationRecord } from './records.js';

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
 * Networks beyond the public internet that webhooks may reach unless configured otherwise
 * (`webhooks.allow_networks`): loopback only, so a receiver on the same laptop works. Production
 * sets `[]` (DESIGN §3 "Webhook addresses").
 */
export const DEFAULT_ALLOW_NETWORKS: readonly string[] = ['127.0.0.0/8', '::1/128'];
