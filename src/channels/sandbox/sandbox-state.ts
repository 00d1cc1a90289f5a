import type { Channel } from '../../core/channel.js';
import type { SendRequest } from '../channel-adapter.js';

/**
 * What the simulated phone network remembers, behind a port of its own (DESIGN §2 rule 5): the
 * scripts of its recipients and what their handsets received. The engine's Store knows none of
 * it; the network's tables have their own migrations (sqlite-sandbox-state.ts).
 */
export interface SandboxState {
  putScript(scope: RecipientKey, script: Record<string, unknown>, at: number): Promise<void>;
  findScript(scope: RecipientKey): Promise<unknown | undefined>;

  /** A message reached its handset. Idempotent: a second arrival of the same reference changes nothing. */
  recordArrival(arrival: HandsetArrival): Promise<void>;
  /**
   * What the handset shows. Each mark keeps its first instant; reading implies delivery. They are
   * for display only: that each status is reported once is the receipt intake's rule, not theirs.
   */
  markDelivered(providerRef: string, at: number): Promise<void>;
  markRead(providerRef: string, at: number): Promise<void>;
  /**
   * False when the message was read first: a message read on its handset does not fail
   * afterwards. True when its arrival is not recorded yet: follow-ups may run out of order
   * (on several nodes, one may rescue the arrival after the failure came due), and the failure
   * must not be lost for that.
   */
  markUndeliverable(providerRef: string, at: number): Promise<boolean>;

  findHandsetMessage(apiKey: string, messageUuid: string): Promise<HandsetMessage | undefined>;
  /** Newest first, bounded by count and by size, with a cursor for the next page. */
  listHandsetMessages(apiKey: string, filter: HandsetFilter, page: HandsetPage): Promise<{ items: HandsetMessage[]; next?: string }>;
  /** Whether `cursor` has the shape of a `next` this implementation hands out (cursors are opaque to clients). */
  isCursor(cursor: string): boolean;
  close(): Promise<void>;
}

export interface RecipientKey {
  apiKey: string;
  channel: Channel;
  address: string;
}

/** The message as it was sent, and when and how often it arrived. */
export interface HandsetArrival extends Pick<SendRequest, 'messageUuid' | 'apiKey' | 'channel' | 'to' | 'from' | 'message'> {
  providerRef: string;
  receivedAt: number;
  /** More than 1 when the gateway sent it again after a try whose answer it lost. */
  timesReceived: number;
}

export interface HandsetMessage extends HandsetArrival {
  deliveredAt?: number;
  readAt?: number;
  undeliverableAt?: number;
}

export interface HandsetFilter {
  channel?: Channel;
  to?: string;
}

export interface HandsetPage {
  limit: number;
  /** Stop adding messages once their bodies add up to this many bytes, as UTF-8 (at least one is returned). */
  maxBytes: number;
  /** The `next` cursor of the previous page. */
  after?: string;
}

/** What the handset shows, from the network's own marks. */
export function handsetStatus(handset: HandsetMessage): 'submitted' | 'delivered' | 'read' | 'undeliverable' {
  if (handset.undeliverableAt !== undefined) return 'undeliverable';
  if (handset.readAt !== undefined) return 'read';
  if (handset.deliveredAt !== undefined) return 'delivered';
  return 'submitted';
}
