import { randomUUID } from 'node:crypto';
import { addressValue } from '../core/channel.js';
import { advances, type MessageError, type MessageStatus } from '../core/message-status.js';
import { messagePrice, type PriceTable } from '../core/pricing.js';
import { messageStatusPayload } from '../core/webhook-payloads.js';
import type { ChangeSet } from '../store/store.js';
import type { MessageRecord, MessageUpdate } from '../store/records.js';

export interface StatusReport {
  status: MessageStatus;
  at: number;
  error?: MessageError;
  /** Set with `submitted`: the provider's id for the message. */
  providerRef?: string;
}

/**
 * The change one status of one message makes: an event, the message's status when it moves
 * forward, and a status webhook. Receipts arrive out of order and twice: the stored status only
 * advances (guarded on the status read, so a racing receipt makes the commit retry), and a
 * repeat of the current status changes nothing.
 */
export function messageStatusChange(message: MessageRecord, report: StatusReport, pricing: PriceTable): ChangeSet {
  if (report.status === message.status && report.providerRef === undefined) return {};
  const usage = report.status === 'delivered' ? messagePrice(pricing, message.channel, addressValue(message.to)) : undefined;
  const moves = advances(message.status, report.status);

  const change: ChangeSet = {
    events: [{ messageUuid: message.uuid, status: report.status, at: report.at, error: report.error, usage }],
  };
  if (moves || report.providerRef !== undefined) {
    const update: MessageUpdate = {
      uuid: message.uuid,
      expectedStatus: message.status,
      status: moves ? report.status : message.status,
      providerRef: report.providerRef,
      error: moves ? report.error : undefined,
      usage: moves ? usage : undefined,
      updatedAt: report.at,
    };
    change.messageUpdates = [update];
  }
  if (message.statusUrl) {
    const body = messageStatusPayload({
      messageUuid: message.uuid,
      to: message.to,
      from: message.from,
      status: report.status,
      at: report.at,
      error: report.error,
      usage,
      clientRef: message.clientRef,
      dispatchUuid: message.dispatchUuid,
    });
    change.webhooks = [
      {
        id: randomUUID(),
        apiKey: message.apiKey,
        applicationId: message.applicationId,
        kind: 'message-status',
        url: message.statusUrl,
        body: JSON.stringify(body),
        messageUuid: message.uuid,
        state: 'pending',
        attempts: 0,
        createdAt: report.at,
      },
    ];
  }
  return change;
}
