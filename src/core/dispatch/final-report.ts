import type { Channel } from '../channel.js';
import { sumPrices, type Usage } from '../pricing.js';
import { isoTimestamp } from '../webhook-payloads.js';

export interface ReportedMessage {
  messageUuid: string;
  channel: Channel;
  /** Latest known status of that message. */
  status: string;
  /** Present when the message was priced (delivered or read). */
  usage?: Usage;
}

export interface FinalReportInput {
  dispatchUuid: string;
  status: 'completed' | 'error';
  at: number;
  messages: ReportedMessage[];
  /** The per-dispatch fee, charged on top of the messages. */
  dispatchFee: string;
  currency: string;
}

/**
 * The final report of a dispatch (reference §1.7 b), in the key order of real traffic. The total
 * usage is the sum of the messages' prices plus the per-dispatch fee, in exact decimal.
 */
export function finalReportPayload(input: FinalReportInput): Record<string, unknown> {
  const total = sumPrices([...input.messages.flatMap((m) => (m.usage ? [m.usage.price] : [])), input.dispatchFee]);
  return {
    template: 'failover',
    status: input.status,
    timestamp: isoTimestamp(input.at),
    usage: { price: total, currency: input.currency },
    dispatch_uuid: input.dispatchUuid,
    _links: {
      messages: input.messages.map((message) => ({
        message_uuid: message.messageUuid,
        href: `v0.1/messages/${message.messageUuid}`,
        channel: message.channel,
        ...(message.usage && { usage: message.usage }),
        status: message.status,
      })),
    },
  };
}
