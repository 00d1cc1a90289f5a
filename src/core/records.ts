import type { Address, Channel } from './channel.js';
import type { WorkflowStep } from './dispatch/dispatch-request.js';
import type { DispatchState } from './dispatch/types.js';
import type { MessageBody } from './message.js';
import type { MessageError, MessageStatus, StoredMessageStatus } from './message-status.js';
import type { Usage } from './pricing.js';

/**
 * The records the engine works on, as every layer sees them: camelCase, times in ms since the
 * epoch. The Store port persists them; nothing here knows how.
 */

export interface AccountRecord {
  apiKey: string;
  secretHash: string;
  signatureSecret: string;
  defaultInboundUrl?: string;
  defaultStatusUrl?: string;
  createdAt: number;
}

export interface ApplicationRecord {
  id: string;
  apiKey: string;
  name: string;
  publicKey: string;
  /** The `capabilities` object as the client sent it (validated), echoed back on reads. */
  capabilities: Record<string, unknown>;
  privacy: { improve_ai: boolean };
  createdAt: number;
  updatedAt: number;
}

/** A business address of a channel routed to an application for inbound messages (DESIGN §4 "Links"). */
export interface LinkRecord {
  channel: Channel;
  /** The page id, or the number as digits. */
  address: string;
  apiKey: string;
  applicationId: string;
  createdAt: number;
}

export interface MessageRecord {
  uuid: string;
  apiKey: string;
  applicationId?: string;
  direction: 'outbound' | 'inbound';
  channel: Channel;
  to: Address;
  from: Address;
  message: MessageBody;
  clientRef?: string;
  status: StoredMessageStatus;
  /** Every status reported so far, each once: a repeated report changes nothing. */
  reported: MessageStatus[];
  /** Bumped by every update; updates are guarded on the version that was read. */
  version: number;
  /** Where status webhooks go; fixed when the message is accepted. */
  statusUrl?: string;
  /** The provider instance that accepted it, and its id for the message: receipts are keyed by the pair. */
  provider?: string;
  providerRef?: string;
  dispatchUuid?: string;
  /** Index of the dispatch step this message is (0-based). */
  stepIndex?: number;
  error?: MessageError;
  usage?: Usage;
  createdAt: number;
  updatedAt: number;
}

export interface MessageEventRecord {
  messageUuid: string;
  status: MessageStatus;
  at: number;
  error?: MessageError;
  usage?: Usage;
}

/** A message's new state, applied only if it still has `expectedVersion` (optimistic). */
export interface MessageUpdate {
  uuid: string;
  expectedVersion: number;
  status: StoredMessageStatus;
  reported: MessageStatus[];
  provider?: string;
  providerRef?: string;
  error?: MessageError;
  usage?: Usage;
  updatedAt: number;
}

/**
 * One try to hand a message to a provider. `unanswered`: a try that began but whose outcome was
 * never recorded (the process died or lost its lease): the provider may have got the message.
 */
export interface SendAttemptRecord {
  messageUuid: string;
  /** 1-based, in the order the tries began. */
  attempt: number;
  provider: string;
  /** When the try began (an unanswered one: when it was found unanswered). */
  at: number;
  /** `skipped`: not sent, every provider of the route had its circuit open (`provider`: the route's first). */
  outcome: 'submitted' | 'rejected' | 'failed' | 'unanswered' | 'skipped';
  providerRef?: string;
  error?: MessageError;
}

/** A provider's status report whose reference no message carries yet (it beat the submit response). */
export interface InboxReceiptRecord {
  id: string;
  provider: string;
  providerRef: string;
  status: MessageStatus;
  at: number;
  error?: MessageError;
  receivedAt: number;
}

export interface NewJob {
  kind: string;
  /** The worker pool that runs it (src/engine/jobs/job-kinds.ts); without one only an unfiltered claim takes it. */
  lane?: string;
  payload: Record<string, unknown>;
  dueAt: number;
  /** Groups jobs: to cancel them together (a step's timers) or to share a lane among them (a receiver, a provider). */
  key?: string;
  /** The account the job works for, where a lane limits each account's share (webhooks). */
  tenant?: string;
}

export interface ClaimedJob {
  id: number;
  kind: string;
  key?: string;
  tenant?: string;
  /** JSON from the database: each job kind parses its own (src/engine/jobs/job-kinds.ts). */
  payload: unknown;
  dueAt: number;
  /** Claims including this one. */
  attempts: number;
  lease: Lease;
}

/** Proof that a worker holds a job; every completion is fenced on it. */
export interface Lease {
  jobId: number;
  owner: string;
}

export type WebhookKind = 'message-status' | 'inbound-message' | 'dispatch-report';
export type WebhookState = 'pending' | 'delivered' | 'failed';

export interface WebhookRecord {
  id: string;
  apiKey: string;
  applicationId?: string;
  kind: WebhookKind;
  url: string;
  /** The exact compact-JSON bytes that are POSTed and hashed into the signature. */
  body: string;
  messageUuid?: string;
  state: WebhookState;
  attempts: number;
  createdAt: number;
  lastAttemptAt?: number;
  completedAt?: number;
}

export interface WebhookAttemptRecord {
  webhookId: string;
  attempt: number;
  at: number;
  durationMs: number;
  statusCode?: number;
  error?: string;
  outcome: 'delivered' | 'retry' | 'failed';
}

export interface WebhookUpdate {
  id: string;
  state: WebhookState;
  attempts: number;
  lastAttemptAt: number;
  completedAt?: number;
}

export interface DispatchRecord {
  uuid: string;
  apiKey: string;
  applicationId?: string;
  /** Where its messages' statuses and the final report go; fixed when accepted. */
  statusUrl?: string;
  /** The validated steps, needed to send each one when its turn comes. */
  workflow: WorkflowStep[];
  state: DispatchState;
  /** Bumped by every update; updates are guarded on the version that was read. 0: not stored yet. */
  version: number;
  createdAt: number;
  updatedAt: number;
}

export interface DispatchUpdate {
  uuid: string;
  expectedVersion: number;
  state: DispatchState;
  updatedAt: number;
}
