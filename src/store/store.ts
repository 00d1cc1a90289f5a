import type { Channel } from '../core/channel.js';
import type {
  AccountRecord,
  ApplicationRecord,
  ClaimedJob,
  DispatchRecord,
  DispatchUpdate,
  HandsetMessageRecord,
  Lease,
  MessageEventRecord,
  MessageRecord,
  MessageUpdate,
  NewJob,
  WebhookAttemptRecord,
  WebhookRecord,
  WebhookUpdate,
} from './records.js';

/**
 * Everything one transaction writes. Callers describe the effects of a decision; the adapter
 * applies them atomically, so state and the jobs it implies never exist without each other.
 * When `complete`/`reschedule` names a lease the worker no longer holds, or a conditional
 * update finds its row changed, nothing is written and `commit` answers `conflict`.
 */
export interface ChangeSet {
  complete?: Lease;
  reschedule?: { lease: Lease; dueAt: number; error?: string };
  dispatches?: DispatchRecord[];
  dispatchUpdates?: DispatchUpdate[];
  messages?: MessageRecord[];
  messageUpdates?: MessageUpdate[];
  events?: MessageEventRecord[];
  /** Each webhook is inserted as pending together with the job that delivers it. */
  webhooks?: WebhookRecord[];
  webhookUpdates?: WebhookUpdate[];
  webhookAttempts?: WebhookAttemptRecord[];
  jobs?: NewJob[];
  cancelJobKeys?: string[];
  handsetMessages?: HandsetMessageRecord[];
  handsetReads?: Array<{ messageUuid: string; readAt: number }>;
}

export type CommitResult = 'committed' | 'conflict';

/** Which jobs a worker lane takes: one kind only, or every kind but one. */
export type KindFilter = { only: string } | { except: string };

export interface ClaimRequest {
  owner: string;
  /** Absent: every kind. */
  kinds?: KindFilter;
  /** Jobs with these keys are left for later (e.g. a receiver that has its share of slots). */
  excludeKeys?: readonly string[];
  /** Jobs due at or before this instant (scheduling clock). */
  dueBy: number;
  /** Wall-clock ms: leases are real time even when the scheduling clock is virtual. */
  leaseNow: number;
  leaseUntil: number;
  limit: number;
}

export interface Page<T> {
  items: T[];
  total: number;
}

/** The storage port. Adapters: `sqlite/` (one process per file) and, later, `postgres/`. */
export interface Store {
  readonly dialect: 'sqlite' | 'postgres';

  close(): Promise<void>;
  commit(change: ChangeSet): Promise<CommitResult>;
  /** Called after a commit that added jobs, with the earliest due time among them. */
  onJobsAdded(listener: (earliestDueAt: number) => void): void;

  // Accounts
  insertAccount(account: AccountRecord): Promise<void>;
  countAccounts(): Promise<number>;
  findAccount(apiKey: string): Promise<AccountRecord | undefined>;

  // Applications
  insertApplication(application: ApplicationRecord): Promise<void>;
  findApplication(id: string): Promise<ApplicationRecord | undefined>;
  listApplications(apiKey: string, page: { limit: number; offset: number }): Promise<Page<ApplicationRecord>>;
  /** Replaces name, capabilities, privacy and (when given) the public key; false if not found. */
  updateApplication(application: ApplicationRecord): Promise<boolean>;
  deleteApplication(apiKey: string, id: string): Promise<boolean>;

  // Messages
  findMessage(uuid: string): Promise<MessageRecord | undefined>;
  listMessageEvents(uuid: string): Promise<MessageEventRecord[]>;
  /** The newest outbound message between these two parties, to route a reply to its application. */
  findLatestConversation(apiKey: string, channel: Channel, businessAddress: string, userAddress: string): Promise<MessageRecord | undefined>;

  // Dispatches
  findDispatch(uuid: string): Promise<DispatchRecord | undefined>;
  /** The messages of a dispatch's steps, in step order. */
  listDispatchMessages(uuid: string): Promise<MessageRecord[]>;

  // Jobs
  claimJobs(request: ClaimRequest): Promise<ClaimedJob[]>;
  /** Earliest due time of a job nobody holds a live lease on; undefined when there is none. */
  nextDueAt(leaseNow: number, kinds?: KindFilter, excludeKeys?: readonly string[]): Promise<number | undefined>;
  /**
   * Called once by a starting server (not by CLI commands that open the database meanwhile):
   * frees what a killed predecessor held, where the adapter can know it is dead.
   */
  recoverAtStart(): Promise<void>;
  /** Frees every lease: only safe where one process owns the database (SQLite). */
  releaseAllLeases(): Promise<number>;
  /** Whether a job with this key is due at or before `dueBy` (running or not). */
  hasDueJob(key: string, dueBy: number): Promise<boolean>;
  countJobs(): Promise<number>;

  // Webhooks
  findWebhook(id: string): Promise<WebhookRecord | undefined>;
  listWebhooksForMessage(messageUuid: string): Promise<WebhookRecord[]>;
  listWebhookAttempts(webhookId: string): Promise<WebhookAttemptRecord[]>;

  // Sandbox
  putRecipientScript(apiKey: string, channel: Channel, address: string, script: unknown, now: number): Promise<void>;
  findRecipientScript(apiKey: string, channel: Channel, address: string): Promise<unknown | undefined>;
  listHandsetMessages(apiKey: string, filter: { channel?: Channel; to?: string; limit: number }): Promise<HandsetMessageRecord[]>;
  findHandsetMessage(messageUuid: string): Promise<HandsetMessageRecord | undefined>;
}
