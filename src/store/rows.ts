import { addressValue, type Channel } from '../core/channel.js';
import type { MessagePart, PartStatus } from '../core/message-parts.js';
import type { MessageError, MessageStatus, StoredMessageStatus } from '../core/message-status.js';
import type { PartUpdate } from './store.js';
import type {
  AccountRecord,
  ApplicationRecord,
  ClaimedJob,
  DispatchRecord,
  DispatchUpdate,
  InboxReceiptRecord,
  LinkRecord,
  MessageEventRecord,
  MessageRecord,
  MessageUpdate,
  NewJob,
  SendAttemptRecord,
  WebhookAttemptRecord,
  WebhookKind,
  WebhookRecord,
  WebhookState,
  WebhookUpdate,
} from '../core/records.js';

/** Mapping between records and the rows of both SQL adapters (SQLite and PostgreSQL share column names and types: snake_case, JSON as text, times as integer milliseconds, NULL for absent). */

const optional = <T>(value: T | null): T | undefined => (value === null ? undefined : value);

export interface AccountRow {
  api_key: string;
  secret_hash: string;
  signature_secret: string;
  default_inbound_url: string | null;
  default_status_url: string | null;
  created_at: number;
}

export const accountParams = (a: AccountRecord) => ({
  apiKey: a.apiKey,
  secretHash: a.secretHash,
  signatureSecret: a.signatureSecret,
  defaultInboundUrl: a.defaultInboundUrl ?? null,
  defaultStatusUrl: a.defaultStatusUrl ?? null,
  createdAt: a.createdAt,
});

export const toAccount = (r: AccountRow): AccountRecord => ({
  apiKey: r.api_key,
  secretHash: r.secret_hash,
  signatureSecret: r.signature_secret,
  defaultInboundUrl: optional(r.default_inbound_url),
  defaultStatusUrl: optional(r.default_status_url),
  createdAt: r.created_at,
});

export interface ApplicationRow {
  id: string;
  api_key: string;
  name: string;
  public_key: string;
  capabilities: string;
  privacy: string;
  created_at: number;
  updated_at: number;
}

export const applicationParams = (a: ApplicationRecord) => ({
  id: a.id,
  apiKey: a.apiKey,
  name: a.name,
  publicKey: a.publicKey,
  capabilities: JSON.stringify(a.capabilities),
  privacy: JSON.stringify(a.privacy),
  createdAt: a.createdAt,
  updatedAt: a.updatedAt,
});

export const toApplication = (r: ApplicationRow): ApplicationRecord => ({
  id: r.id,
  apiKey: r.api_key,
  name: r.name,
  publicKey: r.public_key,
  capabilities: JSON.parse(r.capabilities),
  privacy: JSON.parse(r.privacy),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface MessageRow {
  uuid: string;
  api_key: string;
  application_id: string | null;
  direction: 'outbound' | 'inbound';
  channel: Channel;
  to_address: string;
  from_address: string;
  body: string;
  client_ref: string | null;
  status: StoredMessageStatus;
  reported: string;
  version: number;
  status_url: string | null;
  provider: string | null;
  provider_ref: string | null;
  dispatch_uuid: string | null;
  step_index: number | null;
  error_code: number | null;
  error_reason: string | null;
  price: string | null;
  currency: string | null;
  created_at: number;
  updated_at: number;
}

export const messageParams = (m: MessageRecord) => ({
  uuid: m.uuid,
  apiKey: m.apiKey,
  applicationId: m.applicationId ?? null,
  direction: m.direction,
  channel: m.channel,
  toAddress: JSON.stringify(m.to),
  fromAddress: JSON.stringify(m.from),
  toValue: addressValue(m.to),
  fromValue: addressValue(m.from),
  body: JSON.stringify(m.message),
  clientRef: m.clientRef ?? null,
  status: m.status,
  reported: reportedText(m.reported),
  version: m.version,
  statusUrl: m.statusUrl ?? null,
  provider: m.provider ?? null,
  providerRef: m.providerRef ?? null,
  dispatchUuid: m.dispatchUuid ?? null,
  stepIndex: m.stepIndex ?? null,
  errorCode: m.error?.code ?? null,
  errorReason: m.error?.reason ?? null,
  price: m.usage?.price ?? null,
  currency: m.usage?.currency ?? null,
  createdAt: m.createdAt,
  updatedAt: m.updatedAt,
});

export const messageUpdateParams = (u: MessageUpdate) => ({
  uuid: u.uuid,
  expectedVersion: u.expectedVersion,
  status: u.status,
  reported: reportedText(u.reported),
  provider: u.provider ?? null,
  providerRef: u.providerRef ?? null,
  errorCode: u.error?.code ?? null,
  errorReason: u.error?.reason ?? null,
  price: u.usage?.price ?? null,
  currency: u.usage?.currency ?? null,
  updatedAt: u.updatedAt,
});

export const toMessage = (r: MessageRow): MessageRecord => ({
  uuid: r.uuid,
  apiKey: r.api_key,
  applicationId: optional(r.application_id),
  direction: r.direction,
  channel: r.channel,
  to: JSON.parse(r.to_address),
  from: JSON.parse(r.from_address),
  message: JSON.parse(r.body),
  clientRef: optional(r.client_ref),
  status: r.status,
  reported: r.reported === '' ? [] : (r.reported.split(',') as MessageStatus[]),
  version: r.version,
  statusUrl: optional(r.status_url),
  provider: optional(r.provider),
  providerRef: optional(r.provider_ref),
  dispatchUuid: optional(r.dispatch_uuid),
  stepIndex: optional(r.step_index),
  error: errorOf(r),
  usage: r.price === null ? undefined : { price: r.price, currency: r.currency ?? 'EUR' },
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Statuses as a comma list (e.g. "submitted,delivered"): readable in the sqlite3 shell. */
const reportedText = (statuses: readonly MessageStatus[]): string => statuses.join(',');

const errorOf = (r: { error_code: number | null; error_reason: string | null }): MessageError | undefined =>
  r.error_code === null ? undefined : { code: r.error_code, reason: r.error_reason ?? '' };

export interface EventRow {
  message_uuid: string;
  status: MessageStatus;
  at: number;
  error_code: number | null;
  error_reason: string | null;
  price: string | null;
  currency: string | null;
}

export const eventParams = (e: MessageEventRecord) => ({
  messageUuid: e.messageUuid,
  status: e.status,
  at: e.at,
  errorCode: e.error?.code ?? null,
  errorReason: e.error?.reason ?? null,
  price: e.usage?.price ?? null,
  currency: e.usage?.currency ?? null,
});

export const toEvent = (r: EventRow): MessageEventRecord => ({
  messageUuid: r.message_uuid,
  status: r.status,
  at: r.at,
  error: errorOf(r),
  usage: r.price === null ? undefined : { price: r.price, currency: r.currency ?? 'EUR' },
});

export interface JobRow {
  id: number;
  kind: string;
  job_key: string | null;
  tenant: string | null;
  payload: string;
  due_at: number;
  attempts: number;
}

/** A job an engine took as its row was written (Store.runAddedJobs), as a claim of that row would give it. */
export const takenJob = (job: NewJob, id: number, owner: string, dueAt: number): ClaimedJob => ({
  id,
  kind: job.kind,
  key: job.key,
  tenant: job.tenant,
  payload: job.payload,
  dueAt,
  attempts: 1,
  lease: { jobId: id, owner },
});

export const toClaimedJob = (r: JobRow, owner: string): ClaimedJob => ({
  id: r.id,
  kind: r.kind,
  key: optional(r.job_key),
  tenant: optional(r.tenant),
  payload: JSON.parse(r.payload),
  dueAt: r.due_at,
  attempts: r.attempts,
  lease: { jobId: r.id, owner },
});

export interface WebhookRow {
  id: string;
  api_key: string;
  application_id: string | null;
  kind: WebhookKind;
  url: string;
  body: string;
  message_uuid: string | null;
  state: WebhookState;
  attempts: number;
  created_at: number;
  last_attempt_at: number | null;
  completed_at: number | null;
}

export const webhookParams = (w: WebhookRecord) => ({
  id: w.id,
  apiKey: w.apiKey,
  applicationId: w.applicationId ?? null,
  kind: w.kind,
  url: w.url,
  body: w.body,
  messageUuid: w.messageUuid ?? null,
  state: w.state,
  attempts: w.attempts,
  createdAt: w.createdAt,
});

export const webhookUpdateParams = (u: WebhookUpdate) => ({
  id: u.id,
  state: u.state,
  attempts: u.attempts,
  lastAttemptAt: u.lastAttemptAt,
  completedAt: u.completedAt ?? null,
});

export const toWebhook = (r: WebhookRow): WebhookRecord => ({
  id: r.id,
  apiKey: r.api_key,
  applicationId: optional(r.application_id),
  kind: r.kind,
  url: r.url,
  body: r.body,
  messageUuid: optional(r.message_uuid),
  state: r.state,
  attempts: r.attempts,
  createdAt: r.created_at,
  lastAttemptAt: optional(r.last_attempt_at),
  completedAt: optional(r.completed_at),
});

export interface WebhookAttemptRow {
  webhook_id: string;
  attempt: number;
  at: number;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  outcome: WebhookAttemptRecord['outcome'];
}

export const webhookAttemptParams = (a: WebhookAttemptRecord) => ({
  webhookId: a.webhookId,
  attempt: a.attempt,
  at: a.at,
  durationMs: Math.round(a.durationMs),
  statusCode: a.statusCode ?? null,
  error: a.error ?? null,
  outcome: a.outcome,
});

export const toWebhookAttempt = (r: WebhookAttemptRow): WebhookAttemptRecord => ({
  webhookId: r.webhook_id,
  attempt: r.attempt,
  at: r.at,
  durationMs: r.duration_ms,
  statusCode: optional(r.status_code),
  error: optional(r.error),
  outcome: r.outcome,
});

export interface SendAttemptRow {
  message_uuid: string;
  attempt: number;
  provider: string;
  at: number;
  outcome: SendAttemptRecord['outcome'];
  provider_ref: string | null;
  error_code: number | null;
  error_reason: string | null;
}

export const sendAttemptParams = (a: SendAttemptRecord) => ({
  messageUuid: a.messageUuid,
  attempt: a.attempt,
  provider: a.provider,
  at: a.at,
  outcome: a.outcome,
  providerRef: a.providerRef ?? null,
  errorCode: a.error?.code ?? null,
  errorReason: a.error?.reason ?? null,
});

export const toSendAttempt = (r: SendAttemptRow): SendAttemptRecord => ({
  messageUuid: r.message_uuid,
  attempt: r.attempt,
  provider: r.provider,
  at: r.at,
  outcome: r.outcome,
  providerRef: optional(r.provider_ref),
  error: errorOf(r),
});

export interface InboxRow {
  id: string;
  provider: string;
  provider_ref: string;
  status: MessageStatus;
  at: number;
  error_code: number | null;
  error_reason: string | null;
  received_at: number;
}

export const inboxParams = (i: InboxReceiptRecord) => ({
  id: i.id,
  provider: i.provider,
  providerRef: i.providerRef,
  status: i.status,
  at: i.at,
  errorCode: i.error?.code ?? null,
  errorReason: i.error?.reason ?? null,
  receivedAt: i.receivedAt,
});

export const toInboxReceipt = (r: InboxRow): InboxReceiptRecord => ({
  id: r.id,
  provider: r.provider,
  providerRef: r.provider_ref,
  status: r.status,
  at: r.at,
  error: errorOf(r),
  receivedAt: r.received_at,
});

export interface DispatchRow {
  uuid: string;
  api_key: string;
  application_id: string | null;
  status_url: string | null;
  status: string;
  workflow: string;
  state: string;
  version: number;
  created_at: number;
  updated_at: number;
}

export const dispatchParams = (d: DispatchRecord) => ({
  uuid: d.uuid,
  apiKey: d.apiKey,
  applicationId: d.applicationId ?? null,
  statusUrl: d.statusUrl ?? null,
  status: d.state.status,
  workflow: JSON.stringify(d.workflow),
  state: JSON.stringify(d.state),
  version: d.version,
  createdAt: d.createdAt,
  updatedAt: d.updatedAt,
});

export const dispatchUpdateParams = (u: DispatchUpdate) => ({
  uuid: u.uuid,
  expectedVersion: u.expectedVersion,
  status: u.state.status,
  state: JSON.stringify(u.state),
  updatedAt: u.updatedAt,
});

export const toDispatch = (r: DispatchRow): DispatchRecord => ({
  uuid: r.uuid,
  apiKey: r.api_key,
  applicationId: optional(r.application_id),
  statusUrl: optional(r.status_url),
  workflow: JSON.parse(r.workflow),
  state: JSON.parse(r.state),
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface PartRow {
  provider: string;
  part_ref: string;
  message_uuid: string;
  part_index: number;
  status: PartStatus;
  at: number;
  error_code: number | null;
  error_reason: string | null;
}

export const partParams = (p: MessagePart) => ({
  provider: p.provider,
  partRef: p.partRef,
  messageUuid: p.messageUuid,
  index: p.index,
  status: p.status,
  at: p.at,
  errorCode: p.error?.code ?? null,
  errorReason: p.error?.reason ?? null,
});

export const partUpdateParams = (u: PartUpdate) => ({
  provider: u.provider,
  partRef: u.partRef,
  expectedStatus: u.expectedStatus,
  status: u.status,
  at: u.at,
  errorCode: u.error?.code ?? null,
  errorReason: u.error?.reason ?? null,
});

export const toPart = (r: PartRow): MessagePart => ({
  provider: r.provider,
  partRef: r.part_ref,
  messageUuid: r.message_uuid,
  index: r.part_index,
  status: r.status,
  at: r.at,
  ...(r.error_code !== null && { error: errorOf(r) }),
});

export interface LinkRow {
  channel: Channel;
  address: string;
  api_key: string;
  application_id: string;
  created_at: number;
}

export const linkParams = (l: LinkRecord) => ({ channel: l.channel, address: l.address, apiKey: l.apiKey, applicationId: l.applicationId, createdAt: l.createdAt });

export const toLink = (r: LinkRow): LinkRecord => ({ channel: r.channel, address: r.address, apiKey: r.api_key, applicationId: r.application_id, createdAt: r.created_at });
