import type { WebhookKind } from '../core/records.js';
import type { ChangeSet } from '../store/store.js';
import { newId } from './ids.js';
import { deliverWebhook } from './jobs/job-kinds.js';

export interface NewWebhook {
  apiKey: string;
  applicationId?: string;
  kind: WebhookKind;
  url: string;
  /** The payload object; serialised once here, and those exact bytes are stored, signed and POSTed. */
  payload: Record<string, unknown>;
  messageUuid?: string;
  at: number;
}

/** A webhook to send: its row, pending, and the job that delivers it, in one change. */
export function webhookDelivery(webhook: NewWebhook): ChangeSet {
  const record = {
    id: newId(webhook.at),
    apiKey: webhook.apiKey,
    applicationId: webhook.applicationId,
    kind: webhook.kind,
    url: webhook.url,
    body: JSON.stringify(webhook.payload),
    messageUuid: webhook.messageUuid,
    state: 'pending' as const,
    attempts: 0,
    createdAt: webhook.at,
  };
  return { webhooks: [record], jobs: [deliverWebhook.create(record)] };
}
