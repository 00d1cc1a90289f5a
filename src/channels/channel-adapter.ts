import type { Address, Channel } from '../core/channel.js';
import type { MessageBody } from '../core/message.js';
import type { MessageError } from '../core/message-status.js';

/** What an adapter is asked to send: one message, already validated. */
export interface SendRequest {
  messageUuid: string;
  apiKey: string;
  channel: Channel;
  to: Address;
  from: Address;
  message: MessageBody;
  clientRef?: string;
}

/**
 * A failed send, typed so the engine knows what to do without knowing the provider:
 * `retryable` failures (429, 5xx, timeouts) are tried again inside the step's window,
 * others end the message as `rejected` with the Nexmo error code.
 */
export interface SendFailure {
  retryable: boolean;
  error: MessageError;
  /** The provider asked us to wait this long (e.g. a Retry-After header). */
  retryAfterMs?: number;
}

export type SendResult = { ok: true; providerRef: string } | { ok: false; failure: SendFailure };

/**
 * Adapters that schedule a message's receipts as jobs (the sandbox) give them this key, so the
 * engine can cancel them or let them run before a workflow timer of the same instant.
 */
export const pendingReceiptsKey = (messageUuid: string): string => `receipts:${messageUuid}`;

export interface ChannelAdapter {
  /** Shown in logs and message lookups, e.g. "sandbox", "smpp". */
  readonly provider: string;
  send(request: SendRequest): Promise<SendResult>;
  close?(): Promise<void>;
}
