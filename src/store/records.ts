import type { Address, Channel } from '../core/channel.js';
import type { MessageBody } from '../core/message.js';
import type { MessageError, MessageStatus, StoredMessageStatus } from '../core/message-status.js';
import type { Usage } from '../core/pricing.js';
import type { WorkflowStep } from '../core/dispatch/dispatch-request.js';
import type { DispatchState } from '../core/dispatch/types.js';

/** Rows as the rest of the code sees them: camelCase, times in ms since the epoch. */

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
  /** Where status webhooks go; fixed when the message is accepted. */
  statusUrl?: string;
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

/** A status change to apply only if the message still has `expectedStatus` (optimistic). */
export interface MessageUpdate {
  uuid: string;
  expectedStatus: StoredMessageStatus;
  status: StoredMessageStatus;
  providerRef?: string;
  error?: MessageError;
  usage?: Usage;
  updatedAt: number;
}

export interface NewJob {
  kind: string;
  payload: Record<string, unknown>;
  dueAt: number;
  /** Lets related jobs be cancelled together (e.g. a sandbox message's pending receipts). */
  key?: string;
}

export interface ClaimedJob {
  id: number;
  kind: string;
  key?: string;
  payload: Record<string, unknown>;
  dueAt: number;
  /** Attempts including this one. */
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

export interface HandsetMessageRecord {
  messageUuid: string;
  apiKey: string;
  channel: Channel;
  to: Address;
  from: Address;
  message: MessageBody;
  receivedAt: number;
  readAt?: number;
  /** More than 1 when the message was sent again (at-least-once after a crash). Set by the store. */
  timesReceived?: number;
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
  /** Bumped by every update; updates are guarded on the version that was read. */
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
