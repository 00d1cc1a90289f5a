import type { Address } from './channel.js';
import type { MessageBody } from './message.js';
import type { MessageError, MessageStatus } from './message-status.js';
import type { Usage } from './pricing.js';

/**
 * Webhook bodies, built in the key order Nexmo sends them. They are serialised once with
 * JSON.stringify (compact) and those exact bytes are stored, signed and POSTed.
 */

export interface StatusPayloadInput {
  messageUuid: string;
  to: Address;
  from: Address;
  status: MessageStatus;
  at: number;
  error?: MessageError;
  usage?: Usage;
  clientRef?: string;
  dispatchUuid?: string;
}

export function messageStatusPayload(input: StatusPayloadInput): Record<string, unknown> {
  return {
    message_uuid: input.messageUuid,
    to: input.to,
    from: input.from,
    timestamp: isoTimestamp(input.at),
    status: input.status,
    ...(input.error && { error: input.error }),
    // Built here rather than passed through, so the wire order (price, then currency, as in real
    // traffic) does not depend on where the usage object came from.
    ...(input.usage && { usage: { price: input.usage.price, currency: input.usage.currency } }),
    ...(input.clientRef !== undefined && { client_ref: input.clientRef }),
    ...(input.dispatchUuid !== undefined && { _links: dispatchLinks(input.dispatchUuid) }),
  };
}

/** Real traffic carried `_links.dispatch` (href without a leading slash); the spec named it `workflow`. */
export function dispatchLinks(dispatchUuid: string): Record<string, { href: string; dispatch_uuid: string }> {
  const link = { href: `v0.1/dispatch/${dispatchUuid}`, dispatch_uuid: dispatchUuid };
  return { dispatch: link, workflow: link };
}

export interface InboundPayloadInput {
  messageUuid: string;
  to: Address;
  from: Address;
  at: number;
  message: MessageBody;
}

export function inboundMessagePayload(input: InboundPayloadInput): Record<string, unknown> {
  return {
    message_uuid: input.messageUuid,
    to: input.to,
    from: input.from,
    timestamp: isoTimestamp(input.at),
    direction: 'inbound',
    message: input.message,
  };
}

/** ISO-8601 with milliseconds and Z, as Nexmo sends it. */
export function isoTimestamp(ms: number): string {
  return new Date(ms).toISOString();
}
