import type { Channel } from '../../core/channel.js';
import type { HandsetMessage } from './sandbox-state.js';

/** A handset's row, as both SQL implementations of the sandbox's state keep it. */
export interface HandsetRow {
  seq: number;
  provider_ref: string;
  message_uuid: string;
  api_key: string;
  channel: Channel;
  to_address: string;
  from_address: string;
  body: string;
  received_at: number;
  delivered_at: number | null;
  read_at: number | null;
  undeliverable_at: number | null;
  times_received: number;
}

const optional = <T>(value: T | null): T | undefined => (value === null ? undefined : value);

export const toHandset = (r: HandsetRow): HandsetMessage => ({
  providerRef: r.provider_ref,
  messageUuid: r.message_uuid,
  apiKey: r.api_key,
  channel: r.channel,
  to: JSON.parse(r.to_address),
  from: JSON.parse(r.from_address),
  message: JSON.parse(r.body),
  receivedAt: r.received_at,
  deliveredAt: optional(r.delivered_at),
  readAt: optional(r.read_at),
  undeliverableAt: optional(r.undeliverable_at),
  timesReceived: r.times_received,
});
