import { addressValue } from '../core/channel.js';
import { advances, type MessageError, type MessageStatus } from '../core/message-status.js';
import { messagePrice, type PriceTable } from '../core/pricing.js';
import type { MessageEventRecord, MessageRecord } from '../core/records.js';
import { messageStatusPayload } from '../core/webhook-payloads.js';
import { mergeChanges } from '../store/merge-changes.js';
import type { ChangeSet } from '../store/store.js';
import { webhookDelivery } from './webhook-delivery.js';

export interface StatusReport {
  status: MessageStatus;
  at: number;
  error?: MessageError;
  /** With `submitted`: the provider that accepted the message and its id there. */
  provider?: string;
  providerRef?: string;
}

export interface MessageStatusChange<Report extends StatusReport = StatusReport> {
  /** The message as the change leaves it. */
  message: MessageRecord;
  change: ChangeSet;
  /** The reports that were new to the message, in order: only they mean anything to its workflow. */
  fresh: Report[];
}

/**
 * What reports of one message change. Each status is taken once: a repeat (a provider's retried
 * callback, fifty concurrent manual reads) changes nothing. A new status gets an event and a
 * status webhook even when it arrives out of order; the stored status only moves forward. The
 * row is written once, guarded on the version that was read, so two racing reports cannot both
 * win: the loser recomputes on what the winner wrote.
 */
export function messageStatusChange<Report extends StatusReport>(message: MessageRecord, reports: readonly Report[], pricing: PriceTable): MessageStatusChange<Report> {
  let next = message;
  const fresh: Report[] = [];
  const changes: ChangeSet[] = [];
  for (const report of reports) {
    if (next.reported.includes(report.status)) continue;
    const usage = report.status === 'delivered' ? messagePrice(pricing, message.channel, addressValue(message.to)) : undefined;
    const event: MessageEventRecord = { messageUuid: message.uuid, status: report.status, at: report.at, error: report.error, usage };
    changes.push({ events: [event] }, statusWebhook(message, event));
    const moves = advances(next.status, report.status);
    next = {
      ...next,
      status: moves ? report.status : next.status,
      reported: [...next.reported, report.status],
      provider: report.provider ?? next.provider,
      providerRef: report.providerRef ?? next.providerRef,
      error: (moves && report.error) || next.error,
      usage: (moves && usage) || next.usage,
      updatedAt: report.at,
    };
    fresh.push(report);
  }
  if (fresh.length === 0) return { message, change: {}, fresh };
  const update = {
    uuid: message.uuid,
    expectedVersion: message.version,
    status: next.status,
    reported: next.reported,
    provider: next.provider,
    providerRef: next.providerRef,
    error: next.error,
    usage: next.usage,
    updatedAt: next.updatedAt,
  };
  return { message: { ...next, version: message.version + 1 }, change: mergeChanges(...changes, { messageUpdates: [update] }), fresh };
}

/**
 * A write of the message that changes nothing but its version. Receipts of different parts of
 * one message write different rows; each also writes this, so two of them cannot both decide on
 * parts the other has not seen: one conflicts and decides again.
 */
export function versionOnlyUpdate(message: MessageRecord): ChangeSet {
  const { uuid, version, status, reported, provider, providerRef, error, usage, updatedAt } = message;
  return { messageUpdates: [{ uuid, expectedVersion: version, status, reported, provider, providerRef, error, usage, updatedAt }] };
}

function statusWebhook(message: MessageRecord, event: MessageEventRecord): ChangeSet {
  if (!message.statusUrl) return {};
  return webhookDelivery({
    apiKey: message.apiKey,
    applicationId: message.applicationId,
    kind: 'message-status',
    url: message.statusUrl,
    messageUuid: message.uuid,
    at: event.at,
    payload: messageStatusPayload({
      messageUuid: message.uuid,
      to: message.to,
      from: message.from,
      status: event.status,
      at: event.at,
      error: event.error,
      usage: event.usage,
      clientRef: message.clientRef,
      dispatchUuid: message.dispatchUuid,
    }),
  });
}
