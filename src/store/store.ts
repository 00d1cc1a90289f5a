import type { Channel } from '../core/channel.js';
import type { MessagePart, PartStatus } from '../core/message-parts.js';
import type {
  AccountRecord,
  ApplicationRecord,
  ClaimedJob,
  DispatchRecord,
  DispatchUpdate,
  InboxReceiptRecord,
  LinkRecord,
  Lease,
  MessageEventRecord,
  MessageRecord,
  MessageUpdate,
  NewJob,
  SendAttemptRecord,
  WebhookAttemptRecord,
  WebhookRecord,
  WebhookUpdate,
} from '../core/records.js';

/**
 * Everything one transaction writes. Callers describe the effects of a decision; the adapter
 * applies them atomically, so state and the jobs it implies never exist without each other.
 * When `complete`/`reschedule`/`release` names a lease the worker no longer holds, or a
 * conditional write finds its row changed, nothing is written and `commit` answers `conflict`.
 * The store adds nothing of its own: every job a change implies is in `jobs`.
 */
export interface ChangeSet {
  complete?: Lease;
  reschedule?: { lease: Lease; dueAt: number; error?: string };
  /** Puts a claimed job back as it was, without counting the claim as an attempt. */
  release?: Lease;
  dispatches?: DispatchRecord[];
  dispatchUpdates?: DispatchUpdate[];
  messages?: MessageRecord[];
  /** Each guarded on its version; one giving a (provider, reference) another message carries is a conflict too. */
  messageUpdates?: MessageUpdate[];
  events?: MessageEventRecord[];
  sendAttempts?: SendAttemptRecord[];
  webhooks?: WebhookRecord[];
  webhookUpdates?: WebhookUpdate[];
  webhookAttempts?: WebhookAttemptRecord[];
  jobs?: NewJob[];
  cancelJobKeys?: string[];
  /** Receipts to hold; each is a conflict if a message carries its (provider, providerRef) already. */
  inbox?: InboxReceiptRecord[];
  /**
   * Held receipts applied by this change (with the message that now carries their reference):
   * deleted, and a conflict unless they are all the pair holds. Together with the guard on
   * `inbox`, a receipt is either held and then taken, or it finds its message: never lost.
   * The two guards read different tables, so an adapter must keep them from passing side by side:
   * SQLite applies change sets one at a time; PostgreSQL under READ COMMITTED would let both
   * pass, so there both take a lock per (provider, provider_ref) first.
   */
  inboxTaken?: Array<{ provider: string; providerRef: string; ids: string[] }>;
  /** Parts of messages carried in pieces (a concatenated SMS); a conflict if a part or a message carries a (provider, partRef) already. */
  messageParts?: MessagePart[];
  /** Each guarded on the part still having `expectedStatus`. */
  partUpdates?: PartUpdate[];
  /** Held receipts given up on; a conflict if one is gone already (it was taken). */
  inboxExpired?: string[];
  /** Named counters to add to (e.g. receipts that never matched a message). */
  counters?: Record<string, number>;
}

export interface PartUpdate extends Pick<MessagePart, 'provider' | 'partRef' | 'status' | 'at' | 'error'> {
  expectedStatus: PartStatus;
}

export type CommitResult = 'committed' | 'conflict';

export interface JobsAdded {
  /** The earliest due time among the jobs added or rescheduled. */
  earliestDueAt: number;
  /** The lanes of the jobs added (a reschedule adds none: the engine that did it looks again anyway). */
  lanes: ReadonlySet<string>;
  /**
   * The jobs added, when known (this node's commits; another node's notice names lanes only):
   * an engine need not wake for jobs whose key or tenant has all its slots.
   */
  jobs?: ReadonlyArray<Pick<NewJob, 'lane' | 'key' | 'tenant'>>;
}

/**
 * A job engine that runs the jobs this node adds, as their change commits, rather than claiming
 * them from the table later (Store.runAddedJobs). The job row is still written, leased to the
 * engine in the same transaction, so a crash leaves it to be claimed like any other.
 */
export interface AddedJobRunner {
  /** How long the lease written with a taken job lasts. */
  readonly leaseMs: number;
  /**
   * Asked as the change adding `job` is written (synchronously: SQLite inside its transaction,
   * PostgreSQL as it sends the batch): the lease owner to write the job under if the engine
   * takes it, or undefined to leave it to claims. A taken job holds its slot from here on.
   */
  reserve(job: NewJob): string | undefined;
  /** The change committed: `job` is in the table, leased to the owner `reserve` named. */
  runReserved(job: ClaimedJob): void;
  /** The change did not commit: the slot `reserve` took is free again. */
  cancelReservation(job: NewJob): void;
}

export interface JobFilter {
  /** Only jobs of these lanes; absent: every job. */
  lanes?: readonly string[];
  /** Jobs with these keys are left for later (a receiver or provider that has its share of slots). */
  excludeKeys?: readonly string[];
  /** Jobs of these tenants are left for later (an account that has its share of slots). */
  excludeTenants?: readonly string[];
  /**
   * nextDueAt only: jobs due after this instant. An engine that has just claimed everything it
   * could due by then asks only about later ones, so it does not read past a backlog of jobs
   * it may not take (a slow receiver's, excluded by key).
   */
  dueAfter?: number;
}

export interface ClaimRequest extends JobFilter {
  owner: string;
  /** Jobs due at or before this instant (scheduling clock). */
  dueBy: number;
  /** How long the lease lasts. The adapter takes the instant itself (wall clock; the database's on PostgreSQL). */
  leaseMs: number;
  limit: number;
}

/** One conversation of a provider: a business address (a page) and one of its users. */
export interface ThreadQuery {
  provider: string;
  channel: Channel;
  businessAddress: string;
  userAddress: string;
  /** Only messages recorded `submitted` at or before this instant (scheduling clock), in the 30 days before it. */
  sentBy: number;
  limit: number;
}

export interface Page<T> {
  items: T[];
  total: number;
}

/**
 * The storage port (DESIGN §2 rule 4): intent-named operations, one adapter per database
 * (`sqlite/`, `postgres/`), one conformance suite (test/support/store-conformance.ts).
 */
export interface Store {
  /**
   * Whether several servers may share the database (PostgreSQL). Where they may, a starting
   * server cannot tell a dead node's lease from a live neighbour's: leases are rescued when they
   * expire. Where they may not (SQLite), every lease found at start is a dead server's.
   */
  readonly sharedByNodes: boolean;
  close(): Promise<void>;
  commit(change: ChangeSet): Promise<CommitResult>;
  /** Called after a commit that added (or rescheduled) jobs. */
  onJobsAdded(listener: (added: JobsAdded) => void): void;
  /**
   * Called when the number of live nodes sharing the database changes (PostgreSQL; never on
   * SQLite, where it is always one): a limit kept per node is shared among them.
   */
  onNodesChanged(listener: (liveNodes: number) => void): void;

  // Accounts
  /** False, and nothing written, when an account has this api key already. */
  insertAccount(account: AccountRecord): Promise<boolean>;
  /** Inserts the account only while there is none (an empty database's seed): nodes starting together seed one. */
  insertFirstAccount(account: AccountRecord): Promise<boolean>;
  countAccounts(): Promise<number>;
  findAccount(apiKey: string): Promise<AccountRecord | undefined>;

  // Applications
  /** False, and nothing written, when the account has `maxPerAccount` applications already. */
  insertApplication(application: ApplicationRecord, maxPerAccount?: number): Promise<boolean>;
  findApplication(id: string): Promise<ApplicationRecord | undefined>;
  listApplications(apiKey: string, page: { limit: number; offset: number }): Promise<Page<ApplicationRecord>>;
  /** Replaces name, capabilities, privacy and (when given) the public key; false if not found. */
  updateApplication(application: ApplicationRecord): Promise<boolean>;
  /** Deletes the application and its links. */
  deleteApplication(apiKey: string, id: string): Promise<boolean>;

  // Links
  /**
   * Links the address to the application (replacing a link of the same account). 'taken': another
   * account links it; 'limit': the account has `maxPerAccount` links already. Nothing written then.
   */
  putLink(link: LinkRecord, maxPerAccount: number): Promise<'linked' | 'taken' | 'limit'>;
  /** False when the application had no such link. */
  deleteLink(applicationId: string, channel: Channel, address: string): Promise<boolean>;
  listLinks(applicationId: string): Promise<LinkRecord[]>;
  findLink(channel: Channel, address: string): Promise<LinkRecord | undefined>;
  /** Whether an account other than `apiKey` has sent from this business address. */
  sentFromByAnotherAccount(channel: Channel, address: string, apiKey: string): Promise<boolean>;
  /** Whether `apiKey` has sent from this business address. */
  sentFromByAccount(channel: Channel, address: string, apiKey: string): Promise<boolean>;

  // Messages
  findMessage(uuid: string): Promise<MessageRecord | undefined>;
  /** The message a provider's report is about: receipts are keyed by (provider, provider_ref). */
  findMessageByProviderRef(provider: string, providerRef: string): Promise<MessageRecord | undefined>;
  listMessageEvents(uuid: string): Promise<MessageEventRecord[]>;
  listSendAttempts(uuid: string): Promise<SendAttemptRecord[]>;
  /**
   * The newest outbound message between these two parties, to route a reply to its application.
   * Without an account, across accounts (a provider's inbound message names none).
   */
  findLatestConversation(conversation: { apiKey?: string; channel: Channel; businessAddress: string; userAddress: string }): Promise<MessageRecord | undefined>;
  /**
   * What a watermark receipt covers (Messenger's delivery and read): the provider's outbound
   * messages in the thread that are submitted or delivered and were sent by `sentBy`, newest first.
   */
  listThreadMessages(thread: ThreadQuery): Promise<MessageRecord[]>;
  /** The part a provider's reference names, for receipts of a message carried in pieces. */
  findMessagePart(provider: string, partRef: string): Promise<MessagePart | undefined>;
  /** A message's parts, in order (none: it went as one piece). */
  listMessageParts(messageUuid: string): Promise<MessagePart[]>;

  // Receipts held for a reference not recorded yet
  listInboxReceipts(provider: string, providerRef: string): Promise<InboxReceiptRecord[]>;
  findInboxReceipt(id: string): Promise<InboxReceiptRecord | undefined>;
  readCounters(): Promise<Record<string, number>>;

  // Dispatches
  findDispatch(uuid: string): Promise<DispatchRecord | undefined>;
  /** The messages of a dispatch's steps, in step order. */
  listDispatchMessages(uuid: string): Promise<MessageRecord[]>;

  // Jobs
  /**
   * Offers every job this node's commits add to `runner` (engines of several lanes each register
   * one; a job goes to the first that takes it). A taken job is written leased, handed over once
   * its change commits, and left out of the JobsAdded notice: nobody needs to claim it.
   * An adapter that cannot write a job leased in the transaction that adds it never offers.
   */
  runAddedJobs(runner: AddedJobRunner): void;
  claimJobs(request: ClaimRequest): Promise<ClaimedJob[]>;
  /** Earliest due time of a job nobody holds a live lease on; undefined when there is none. */
  nextDueAt(filter?: JobFilter): Promise<number | undefined>;
  /**
   * Called once by a starting server (not by CLI commands that open the database meanwhile):
   * frees what a dead predecessor held, where the adapter can know it is dead (SQLite: one
   * server owns the file, so every lease found at start is a dead one). Throws
   * OD_DATABASE_IN_USE where only one server may run and another does (SQLite).
   */
  recoverAtStart(): Promise<void>;
  /** Whether a job with this key is due at or before `dueBy` (running or not). */
  hasDueJob(key: string, dueBy: number): Promise<boolean>;
  countJobs(): Promise<number>;

  // Retention
  /**
   * Deletes up to `limit` records of each kind that finished and were created before `before`
   * (scheduling clock): dispatches that ended, with their messages and those messages' events,
   * send attempts and parts; messages outside dispatches that left the queue, likewise; webhooks
   * delivered or given up on, with their attempts. Returns how many it deleted of the most
   * numerous kind: below `limit`, nothing more is due. Safe on every node at once.
   */
  deleteFinished(before: number, limit: number): Promise<number>;

  // Webhooks
  findWebhook(id: string): Promise<WebhookRecord | undefined>;
  listWebhooksForMessage(messageUuid: string): Promise<WebhookRecord[]>;
  listWebhookAttempts(webhookId: string): Promise<WebhookAttemptRecord[]>;
}
