import type { Address, Channel } from '../core/channel.js';
import type { MessageBody } from '../core/message.js';
import type { MessageError, MessageStatus } from '../core/message-status.js';

/**
 * The port every provider adapter implements (DESIGN §2 rule 5: adapters report, the engine
 * records). An adapter sends and answers with data; it never writes the engine's state, and it
 * never throws to the engine (a throw is taken as a retryable failure all the same).
 */
export interface ChannelAdapter {
  /** The provider instance's name: part of every receipt's key, and of `/webhooks/{provider}`. */
  readonly provider: string;
  /** The provider type ("sandbox", later "smpp", "messenger", …). */
  readonly type: string;
  /** Opens long-lived connections (an SMPP bind); what they hear is pushed into `sink`. */
  start(sink: ProviderSink): Promise<void>;
  close(): Promise<void>;
  send(request: SendRequest): Promise<SendResult>;
  /** A follow-up this adapter asked for (SendAccepted.followUps) has come due: what the provider reports now. */
  followUp?(due: DueFollowUp): Promise<ProviderEvent[]>;
  /** Verifies and parses a callback that arrived at `/webhooks/{provider}`. Absent: the provider calls none. */
  webhook?(request: ProviderWebhookRequest): Promise<ProviderWebhookAnswer>;
}

/** What an adapter is asked to send: one message, already validated. */
export interface SendRequest {
  messageUuid: string;
  apiKey: string;
  channel: Channel;
  to: Address;
  from: Address;
  message: MessageBody;
  clientRef?: string;
  /** 1-based number of this try of the message. */
  attempt: number;
  /** Earlier tries whose outcome was never recorded (a crash, a lost lease): the provider may have the message already. */
  unansweredAttempts: number;
  /**
   * Waits for one more slot of the provider's `rate_per_second` (the engine took one for the
   * message): for an adapter that makes several requests of one message, each counted by the
   * provider (the parts of a concatenated SMS over SMPP).
   */
  pace?(): Promise<void>;
}

/**
 * A failed send, typed so the engine knows what to do without knowing the provider:
 * `retryable` failures (429, 5xx, timeouts) are tried again (a plain message for an hour, a
 * Dispatch step within its window), others end the message as `rejected` with the Nexmo code.
 */
export interface SendFailure {
  retryable: boolean;
  error: MessageError;
  /** The provider asked us to wait this long (e.g. a Retry-After header). */
  retryAfterMs?: number;
  /**
   * A rejection about the provider itself (bad credentials, an expired token, a barred account),
   * not about the recipient or the content: another provider could send it (DESIGN §3).
   */
  aboutProvider?: boolean;
}

export interface SendAccepted {
  ok: true;
  /** The provider's id for the message; its receipts name it. */
  providerRef: string;
  /**
   * When the provider carries the message in pieces (a concatenated SMS): each piece's id, which
   * its receipts name. `providerRef` is then the whole's (core/message-parts.ts wholeMessageRef).
   */
  partRefs?: string[];
  /**
   * Reports the provider will make later, kept durably by the engine and committed with the
   * submission (the sandbox's scripted network): a crash can neither lose them nor leave them
   * without the message's submission.
   */
  followUps?: FollowUp[];
}

export type SendResult = SendAccepted | { ok: false; failure: SendFailure };

export interface FollowUp {
  /** After the submission, on the scheduling clock. */
  afterMs: number;
  /** The adapter's own description of what happens then, plain JSON data; the engine only stores it. */
  event: object;
}

export interface DueFollowUp {
  providerRef: string;
  /** The event as it came back from the database: the adapter parses its own. */
  event: unknown;
  /** When it happens: submission time + afterMs (not when a worker got to it). */
  at: number;
}

/** A provider's status report about one of its messages. */
export interface ProviderReport {
  status: MessageStatus;
  at: number;
  error?: MessageError;
}

/** A message a user sent to one of our business addresses. */
export interface InboundReport {
  channel: Channel;
  /** Our business address (the page, the number). */
  to: Address;
  /** The user. */
  from: Address;
  message: MessageBody;
  at: number;
  /** The account it belongs to, when the provider knows (the sandbox does; real providers route by conversation). */
  apiKey?: string;
}

/**
 * A report about every message of one thread sent by an instant, not about one reference
 * (Messenger's delivery and read watermarks): it covers the provider's messages from
 * `businessAddress` to `userAddress` recorded `submitted` at or before `sentBy`. That is when the
 * provider's answer came back, at or after the provider stamped the message: a watermark that
 * falls inside our call cannot cover a message the user has not seen.
 */
export interface ThreadReport {
  channel: Channel;
  businessAddress: string;
  userAddress: string;
  sentBy: number;
  status: 'delivered' | 'read';
  at: number;
}

export type ProviderEvent =
  | { type: 'receipt'; providerRef: string; report: ProviderReport; alternateRefs?: readonly string[] }
  | { type: 'thread-receipt'; report: ThreadReport }
  | { type: 'inbound'; inbound: InboundReport };

/** Where an adapter pushes what its provider says outside a send (an SMPP deliver_sm): the one receipt intake. */
export interface ProviderSink {
  /**
   * A status report about one of its messages, by its reference. Resolves once recorded, or held
   * until the reference is. `alternateRefs`: other forms the reference may have been given in
   * (an SMSC that answers submits in hex and writes receipts in decimal), tried in order.
   */
  receipt(providerRef: string, report: ProviderReport, alternateRefs?: readonly string[]): Promise<void>;
  /** A message a user sent to one of the business addresses. Resolves once recorded (or, with nowhere to go, logged and dropped). */
  inbound(inbound: InboundReport): Promise<void>;
}

export interface ProviderWebhookRequest {
  method: string;
  /** The query string as received, `?` included ('' without one): some providers sign the URL they called. */
  search: string;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  query: Record<string, string>;
  /** The exact bytes received: signatures are computed over them. */
  rawBody: Buffer;
}

export interface ProviderWebhookAnswer {
  /** 2xx once understood; 401 for a forged or missing signature (and then no events). */
  status: number;
  body?: string;
  contentType?: string;
  /** Recorded before the answer goes out, so a provider that sees a 2xx never has to retry. */
  events: ProviderEvent[];
}
