import type Database from 'better-sqlite3';
import type { WallClock } from '../../core/clock.js';
import type {
  AccountRecord,
  ApplicationRecord,
  ClaimedJob,
  DispatchRecord,
  InboxReceiptRecord,
  LinkRecord,
  MessageEventRecord,
  MessageRecord,
  NewJob,
  SendAttemptRecord,
  WebhookAttemptRecord,
  WebhookRecord,
} from '../../core/records.js';
import type { Channel } from '../../core/channel.js';
import type { MessagePart } from '../../core/message-parts.js';
import type { AddedJobRunner, ChangeSet, ClaimRequest, CommitResult, JobFilter, JobsAdded, Page, Store, ThreadQuery } from '../store.js';
import { migrations } from './migrations/index.js';
import * as rows from '../rows.js';
import { ApplicationCache } from './application-cache.js';
import { GroupCommit } from './group-commit.js';
import { ServerLock } from './server-lock.js';
import { BackgroundCheckpoints } from './background-checkpoints.js';
import { idsBefore } from '../ids-before.js';
import { jobsAddedBy } from '../jobs-added.js';

/** A watermark looks this far back in its thread: a bound on the rows one callback reads (Messenger's window is 24 h, tags 7 days). */
const THREAD_HISTORY_MS = 30 * 24 * 60 * 60 * 1000;

/** Thrown inside a transaction to roll it back when a fence or a condition does not hold. */
class Conflict extends Error {}

/** A job an engine took as its change was applied (AddedJobRunner); its id once its row is written. */
interface TakenJob {
  runner: AddedJobRunner;
  job: NewJob;
  owner: string;
  id?: number;
}

export interface SqliteOptions {
  /** An open connection (sqlite-database.ts); the store closes it when it closes. */
  db: Database.Database;
  /** The connection's group commit, shared with other modules writing on it (the sandbox); default: one of its own. */
  writes?: GroupCommit;
  /** Lease instants and bookkeeping times. */
  clock: WallClock;
  /** Where a failure of the background checkpoint thread is reported (the server connection then checkpoints by itself). */
  onBackgroundError?: (error: Error) => void;
}

/**
 * SQLite adapter. better-sqlite3 is synchronous, so each operation runs to completion on the
 * event loop: one process is the only writer, and a transaction never interleaves with another.
 */
export class SqliteStore implements Store {
  readonly sharedByNodes = false;
  private readonly db: Database.Database;
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly clock: WallClock;
  private readonly jobListeners: Array<(added: JobsAdded) => void> = [];
  private readonly addedJobRunners: AddedJobRunner[] = [];
  private readonly writes: GroupCommit;
  private readonly applications = new ApplicationCache();
  private serverLock: ServerLock | undefined;
  private checkpoints: BackgroundCheckpoints | undefined;
  private readonly onBackgroundError: (error: Error) => void;

  constructor(options: SqliteOptions) {
    this.onBackgroundError = options.onBackgroundError ?? (() => undefined);
    this.clock = options.clock;
    this.db = options.db;
    migrate(this.db, this.clock.wallNow());
    this.statements = prepareStatements(this.db);
    this.writes = options.writes ?? new GroupCommit(this.db);
  }

  async close(): Promise<void> {
    // First, so that the server connection, closing last, makes the final checkpoint.
    await this.checkpoints?.stop();
    if (this.db.open) this.writes.flush();
    if (this.db.open) this.db.close();
    this.serverLock?.release();
  }

  onJobsAdded(listener: (added: JobsAdded) => void): void {
    this.jobListeners.push(listener);
  }

  onNodesChanged(): void {
    // One server per file: always one node.
  }

  /**
   * Written with the other writes of this turn of the event loop in one transaction, in a
   * savepoint of its own (group-commit.ts): a conflict rolls back only this change set.
   */
  async commit(change: ChangeSet): Promise<CommitResult> {
    // Filled as the change is applied; rolled back with it on a conflict or a failed transaction.
    const taken: TakenJob[] = [];
    try {
      await this.writes.write(() => this.apply(change, taken));
    } catch (error) {
      for (const { runner, job } of taken) runner.cancelReservation(job);
      if (error instanceof Conflict) return 'conflict';
      throw error;
    }
    const added = jobsAddedBy([change], taken.length === 0 ? undefined : new Set(taken.map(({ job }) => job)));
    if (added) for (const listener of this.jobListeners) listener(added);
    for (const { runner, job, owner, id } of taken) runner.runReserved(rows.takenJob(job, id!, owner, job.dueAt));
    return 'committed';
  }

  runAddedJobs(runner: AddedJobRunner): void {
    this.addedJobRunners.push(runner);
  }

  private apply(change: ChangeSet, taken: TakenJob[]): void {
    const s = this.statements;
    const expectOne = (changes: number) => {
      if (changes !== 1) throw new Conflict();
    };
    if (change.complete) expectOne(s.deleteLeasedJob.run(change.complete.jobId, change.complete.owner).changes);
    if (change.reschedule) {
      const { lease, dueAt, error } = change.reschedule;
      expectOne(s.rescheduleJob.run(dueAt, error ?? null, lease.jobId, lease.owner).changes);
    }
    if (change.release) expectOne(s.releaseJob.run(change.release.jobId, change.release.owner).changes);
    for (const dispatch of change.dispatches ?? []) s.insertDispatch.run(rows.dispatchParams(dispatch));
    for (const update of change.dispatchUpdates ?? []) expectOne(s.updateDispatch.run(rows.dispatchUpdateParams(update)).changes);
    for (const update of change.messageUpdates ?? []) expectOne(runUnlessTaken(() => s.updateMessage.run(rows.messageUpdateParams(update)).changes));
    for (const message of change.messages ?? []) s.insertMessage.run(rows.messageParams(message));
    for (const event of change.events ?? []) s.insertEvent.run(rows.eventParams(event));
    for (const attempt of change.sendAttempts ?? []) s.insertSendAttempt.run(rows.sendAttemptParams(attempt));
    for (const key of change.cancelJobKeys ?? []) s.deleteJobsByKey.run(key);
    for (const job of change.jobs ?? []) this.insertJob(job, taken);
    for (const webhook of change.webhooks ?? []) s.insertWebhook.run(rows.webhookParams(webhook));
    for (const update of change.webhookUpdates ?? []) s.updateWebhook.run(rows.webhookUpdateParams(update));
    for (const attempt of change.webhookAttempts ?? []) s.insertWebhookAttempt.run(rows.webhookAttemptParams(attempt));
    for (const part of change.messageParts ?? []) {
      if (s.findMessagePart.get(part.provider, part.partRef) !== undefined) throw new Conflict();
      if (s.findMessageByProviderRef.get(part.provider, part.partRef) !== undefined) throw new Conflict();
      s.insertMessagePart.run(rows.partParams(part));
    }
    for (const update of change.partUpdates ?? []) expectOne(s.updateMessagePart.run(rows.partUpdateParams(update)).changes);
    for (const held of change.inbox ?? []) {
      // Held only while no message, and no part of one, carries the reference.
      if (s.findMessageByProviderRef.get(held.provider, held.providerRef) !== undefined) throw new Conflict();
      if (s.findMessagePart.get(held.provider, held.providerRef) !== undefined) throw new Conflict();
      s.insertInboxReceipt.run(rows.inboxParams(held));
    }
    for (const taken of change.inboxTaken ?? []) {
      const present = (s.listInboxIds.all(taken.provider, taken.providerRef) as Array<{ id: string }>).map((row) => row.id);
      if (present.length !== taken.ids.length || !present.every((id) => taken.ids.includes(id))) throw new Conflict();
      for (const id of taken.ids) s.deleteInboxReceipt.run(id);
    }
    for (const id of change.inboxExpired ?? []) expectOne(s.deleteInboxReceipt.run(id).changes);
    for (const [name, by] of Object.entries(change.counters ?? {})) s.addToCounter.run(name, by);
  }

  /** A new job, leased to the first engine that takes it (it then runs without a claim), else waiting for one. */
  private insertJob(job: NewJob, taken: TakenJob[]): void {
    const now = this.clock.wallNow();
    const columns = [job.kind, job.lane ?? null, job.key ?? null, job.tenant ?? null, JSON.stringify(job.payload), job.dueAt, now] as const;
    for (const runner of this.addedJobRunners) {
      const owner = runner.reserve(job);
      if (owner === undefined) continue;
      // Pushed first: if the insert throws, the reservation is cancelled with the rest.
      const taking: TakenJob = { runner, job, owner };
      taken.push(taking);
      taking.id = Number(this.statements.insertLeasedJob.run(...columns, owner, now + runner.leaseMs).lastInsertRowid);
      return;
    }
    this.statements.insertJob.run(...columns);
  }

  // Accounts

  async insertAccount(account: AccountRecord): Promise<boolean> {
    return this.statements.insertAccount.run(rows.accountParams(account)).changes === 1;
  }

  async insertFirstAccount(account: AccountRecord): Promise<boolean> {
    return this.statements.insertFirstAccount.run(rows.accountParams(account)).changes === 1;
  }

  async countAccounts(): Promise<number> {
    return (this.statements.countAccounts.get() as { n: number }).n;
  }

  async findAccount(apiKey: string): Promise<AccountRecord | undefined> {
    const row = this.statements.findAccount.get(apiKey) as rows.AccountRow | undefined;
    return row && rows.toAccount(row);
  }

  // Applications

  async insertApplication(application: ApplicationRecord, maxPerAccount = Number.MAX_SAFE_INTEGER): Promise<boolean> {
    return this.statements.insertApplication.run({ ...rows.applicationParams(application), maxPerAccount }).changes === 1;
  }

  async findApplication(id: string): Promise<ApplicationRecord | undefined> {
    const remembered = this.applications.get(id);
    if (remembered) return remembered;
    const row = this.statements.findApplication.get(id) as rows.ApplicationRow | undefined;
    return row && this.applications.remember(rows.toApplication(row));
  }

  async listApplications(apiKey: string, page: { limit: number; offset: number }): Promise<Page<ApplicationRecord>> {
    const total = (this.statements.countApplications.get(apiKey) as { n: number }).n;
    const items = (this.statements.listApplications.all(apiKey, page.limit, page.offset) as rows.ApplicationRow[]).map(rows.toApplication);
    return { items, total };
  }

  async updateApplication(application: ApplicationRecord): Promise<boolean> {
    const updated = this.statements.updateApplication.run(rows.applicationParams(application)).changes === 1;
    this.applications.forget(application.id);
    return updated;
  }

  async deleteApplication(apiKey: string, id: string): Promise<boolean> {
    return this.writes.write(() => {
      const deleted = this.statements.deleteApplication.run(id, apiKey).changes === 1;
      if (deleted) this.statements.deleteLinksOfApplication.run(id);
      // Here, in the write: no read can come between the delete and the forgetting.
      if (deleted) this.applications.forget(id);
      return deleted;
    });
  }

  // Links

  async putLink(link: LinkRecord, maxPerAccount: number): Promise<'linked' | 'taken' | 'limit'> {
    const s = this.statements;
    return this.writes.write(() => {
      const current = s.findLink.get(link.channel, link.address) as rows.LinkRow | undefined;
      if (current && current.api_key !== link.apiKey) return 'taken';
      if (!current && (s.countLinksOfAccount.get(link.apiKey) as { n: number }).n >= maxPerAccount) return 'limit';
      s.upsertLink.run(rows.linkParams(link));
      return 'linked';
    });
  }

  async deleteLink(applicationId: string, channel: Channel, address: string): Promise<boolean> {
    return this.statements.deleteLink.run(applicationId, channel, address).changes === 1;
  }

  async listLinks(applicationId: string): Promise<LinkRecord[]> {
    return (this.statements.listLinks.all(applicationId) as rows.LinkRow[]).map(rows.toLink);
  }

  async sentFromByAnotherAccount(channel: Channel, address: string, apiKey: string): Promise<boolean> {
    return this.statements.sentFromByAnotherAccount.get(channel, address, apiKey) !== undefined;
  }

  async sentFromByAccount(channel: Channel, address: string, apiKey: string): Promise<boolean> {
    return this.statements.sentFromByAccount.get(channel, address, apiKey) !== undefined;
  }

  async findLink(channel: Channel, address: string): Promise<LinkRecord | undefined> {
    const row = this.statements.findLink.get(channel, address) as rows.LinkRow | undefined;
    return row && rows.toLink(row);
  }

  // Messages

  async findMessage(uuid: string): Promise<MessageRecord | undefined> {
    const row = this.statements.findMessage.get(uuid) as rows.MessageRow | undefined;
    return row && rows.toMessage(row);
  }

  async findMessageByProviderRef(provider: string, providerRef: string): Promise<MessageRecord | undefined> {
    const row = this.statements.findMessageByProviderRef.get(provider, providerRef) as rows.MessageRow | undefined;
    return row && rows.toMessage(row);
  }

  async listMessageEvents(uuid: string): Promise<MessageEventRecord[]> {
    return (this.statements.listEvents.all(uuid) as rows.EventRow[]).map(rows.toEvent);
  }

  async listSendAttempts(uuid: string): Promise<SendAttemptRecord[]> {
    return (this.statements.listSendAttempts.all(uuid) as rows.SendAttemptRow[]).map(rows.toSendAttempt);
  }

  async findLatestConversation(conversation: { apiKey?: string; channel: string; businessAddress: string; userAddress: string }): Promise<MessageRecord | undefined> {
    const { apiKey, channel, businessAddress, userAddress } = conversation;
    const row = (
      apiKey === undefined
        ? this.statements.findLatestConversationAnywhere.get(channel, businessAddress, userAddress)
        : this.statements.findLatestConversation.get(apiKey, channel, businessAddress, userAddress)
    ) as rows.MessageRow | undefined;
    return row && rows.toMessage(row);
  }

  async listThreadMessages(thread: ThreadQuery): Promise<MessageRecord[]> {
    const { provider, channel, businessAddress, userAddress, sentBy, limit } = thread;
    const found = this.statements.listThreadMessages.all(channel, businessAddress, userAddress, provider, sentBy - THREAD_HISTORY_MS, sentBy, limit) as rows.MessageRow[];
    return found.map(rows.toMessage);
  }

  async findMessagePart(provider: string, partRef: string): Promise<MessagePart | undefined> {
    const row = this.statements.findMessagePart.get(provider, partRef) as rows.PartRow | undefined;
    return row && rows.toPart(row);
  }

  async listMessageParts(messageUuid: string): Promise<MessagePart[]> {
    return (this.statements.listMessageParts.all(messageUuid) as rows.PartRow[]).map(rows.toPart);
  }

  // Receipts held for a reference not recorded yet

  async listInboxReceipts(provider: string, providerRef: string): Promise<InboxReceiptRecord[]> {
    return (this.statements.listInboxReceipts.all(provider, providerRef) as rows.InboxRow[]).map(rows.toInboxReceipt);
  }

  async findInboxReceipt(id: string): Promise<InboxReceiptRecord | undefined> {
    const row = this.statements.findInboxReceipt.get(id) as rows.InboxRow | undefined;
    return row && rows.toInboxReceipt(row);
  }

  async readCounters(): Promise<Record<string, number>> {
    const found = this.statements.readCounters.all() as Array<{ name: string; value: number }>;
    return Object.fromEntries(found.map(({ name, value }) => [name, value]));
  }

  // Dispatches

  async findDispatch(uuid: string): Promise<DispatchRecord | undefined> {
    const row = this.statements.findDispatch.get(uuid) as rows.DispatchRow | undefined;
    return row && rows.toDispatch(row);
  }

  async listDispatchMessages(uuid: string): Promise<MessageRecord[]> {
    return (this.statements.listDispatchMessages.all(uuid) as rows.MessageRow[]).map(rows.toMessage);
  }

  // Jobs

  /**
   * A claim is a write: it goes in the group commit with this turn's other writes. Committed on
   * its own, a claim of 30 jobs took about 700 µs, near what a batch of 30 change sets takes.
   * Measured, old and new alternated (docs/performance.md): accept 3 483, 3 383 → 4 454,
   * 5 065/s; with 2 000 timers a second coming due among 20 000, fire lag p99 in four rounds
   * 2.5–3.6 s → 1.2–1.5 s; end to end no difference (417, 380, 371 → 420, 380, 381/s).
   */
  async claimJobs(request: ClaimRequest): Promise<ClaimedJob[]> {
    const statement =
      request.lanes?.length !== 1 ? this.statements.claimJobs : request.excludeKeys?.length ? this.statements.claimJobsOfLaneByKey : this.statements.claimJobsOfLane;
    const claimed = await this.writes.writeStatement(() => this.claimRows(statement, request));
    // RETURNING gives rows in the order they were updated, not the subquery's: sort, earliest first.
    claimed.sort((a, b) => a.due_at - b.due_at || a.id - b.id);
    return claimed.map((row) => rows.toClaimedJob(row, request.owner));
  }

  private claimRows(statement: Database.Statement, request: ClaimRequest): rows.JobRow[] {
    const now = this.clock.wallNow();
    return statement.all({
      owner: request.owner,
      dueBy: request.dueBy,
      leaseNow: now,
      leaseUntil: now + request.leaseMs,
      limit: request.limit,
      ...filterParams(request),
    }) as rows.JobRow[];
  }

  async nextDueAt(filter: JobFilter = {}): Promise<number | undefined> {
    const leaseNow = this.clock.wallNow();
    const dueAfter = filter.dueAfter ?? Number.MIN_SAFE_INTEGER;
    if (filter.lanes === undefined) return (this.statements.nextDueAt.get({ leaseNow, dueAfter, ...filterParams(filter) }) as { due_at: number } | undefined)?.due_at;
    // Each lane's earliest from its own index range; the earliest of those.
    let earliest: number | undefined;
    const statement = filter.excludeKeys?.length ? this.statements.nextDueOfLaneByKey : this.statements.nextDueOfLane;
    for (const lane of filter.lanes) {
      // By key, min() answers a row of NULL when nothing is due.
      const dueAt = (statement.get({ leaseNow, dueAfter, ...filterParams({ ...filter, lanes: [lane] }) }) as { due_at: number | null } | undefined)?.due_at;
      if (dueAt != null && (earliest === undefined || dueAt < earliest)) earliest = dueAt;
    }
    return earliest;
  }

  /**
   * One server process owns a SQLite file (the lock makes sure), so every lease found at its
   * start is a dead one. The server's checkpoints run on a thread of their own from here on.
   */
  async recoverAtStart(): Promise<void> {
    if (this.db.memory) return void this.statements.releaseAllLeases.run();
    this.serverLock ??= ServerLock.take(this.db.name);
    this.statements.releaseAllLeases.run();
    this.checkpoints ??= BackgroundCheckpoints.start(this.db, this.onBackgroundError);
  }

  async hasDueJob(key: string, dueBy: number): Promise<boolean> {
    return this.statements.hasDueJob.get(key, dueBy) !== undefined;
  }

  async countJobs(): Promise<number> {
    return (this.statements.countJobs.get() as { n: number }).n;
  }

  // Retention

  async deleteFinished(before: number, limit: number): Promise<number> {
    const s = this.statements;
    // Ids are time-ordered (engine/ids.ts): what was made before `before` is a primary-key range.
    const params = { cut: idsBefore(before), before, limit };
    return this.writes.write(() => {
      const dispatches = (s.finishedDispatches.all(params) as Array<{ uuid: string }>).map((row) => row.uuid);
      const messages = dispatches.flatMap((uuid) => (s.messagesOfDispatch.all(uuid) as Array<{ uuid: string }>).map((row) => row.uuid));
      const standalone = (s.finishedMessages.all(params) as Array<{ uuid: string }>).map((row) => row.uuid);
      for (const uuid of [...messages, ...standalone]) {
        s.deleteEventsOf.run(uuid);
        s.deleteSendAttemptsOf.run(uuid);
        s.deletePartsOf.run(uuid);
        s.deleteMessage.run(uuid);
      }
      for (const uuid of dispatches) s.deleteDispatch.run(uuid);
      const webhooks = (s.finishedWebhooks.all(params) as Array<{ id: string }>).map((row) => row.id);
      for (const id of webhooks) {
        s.deleteWebhookAttemptsOf.run(id);
        s.deleteWebhook.run(id);
      }
      return Math.max(dispatches.length, standalone.length, webhooks.length);
    });
  }

  // Webhooks

  async findWebhook(id: string): Promise<WebhookRecord | undefined> {
    const row = this.statements.findWebhook.get(id) as rows.WebhookRow | undefined;
    return row && rows.toWebhook(row);
  }

  async listWebhooksForMessage(messageUuid: string): Promise<WebhookRecord[]> {
    return (this.statements.listWebhooksForMessage.all(messageUuid) as rows.WebhookRow[]).map(rows.toWebhook);
  }

  async listWebhookAttempts(webhookId: string): Promise<WebhookAttemptRecord[]> {
    return (this.statements.listWebhookAttempts.all(webhookId) as rows.WebhookAttemptRow[]).map(rows.toWebhookAttempt);
  }
}

/** A write that gives a message a (provider, reference) another carries is a conflict, not a fault: the caller looks and decides. */
function runUnlessTaken(write: () => number): number {
  try {
    return write();
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new Conflict();
    throw error;
  }
}

/** Lists travel as JSON arrays and are unpacked with json_each: one prepared statement for any length. */
const filterParams = (filter: JobFilter) => ({
  lane: filter.lanes?.[0] ?? null,
  lanes: filter.lanes === undefined ? null : JSON.stringify(filter.lanes),
  excludeKeys: JSON.stringify(filter.excludeKeys ?? []),
  excludeTenants: JSON.stringify(filter.excludeTenants ?? []),
});

function migrate(db: Database.Database, now: number): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version));
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      record.run(migration.version, migration.name, now);
    })();
  }
}

/**
 * A job's key and tenant not among the excluded (a receiver, provider or account at its share).
 * NOT EXISTS, not `NOT IN (SELECT value FROM json_each(…))`: on a claim's SELECT of 16 jobs
 * alone, the NOT IN lists cost about 250 µs a run however short (an ephemeral table each), the
 * NOT EXISTS probes 10 µs. End to end this alone did not move the claims' mean (50 000
 * dispatches, two rounds: 972, 1 029 → 1 002, 1 009 µs); the by-key claim was measured with it.
 */
const TENANT_NOT_EXCLUDED = '(tenant IS NULL OR NOT EXISTS (SELECT 1 FROM json_each(@excludeTenants) WHERE value = tenant))';
const NOT_EXCLUDED = `(job_key IS NULL OR NOT EXISTS (SELECT 1 FROM json_each(@excludeKeys) WHERE value = job_key)) AND ${TENANT_NOT_EXCLUDED}`;
/**
 * The lane's keys that are not excluded, found on the (lane, job_key, due_at) index one seek a
 * key (a skip-scan, which SQLite does not do by itself): a claim or next-due question that
 * leaves keys out reads the other keys' ranges and never the left-out keys' backlogs. Measured
 * on three keys, `NOT IN (SELECT value FROM json_each(…))` on these rows took 260 µs a run, the
 * NOT EXISTS 7 µs.
 */
const OPEN_KEYS_OF_LANE = `WITH RECURSIVE lane_keys(lane_key) AS (
    SELECT (SELECT min(job_key) FROM jobs WHERE lane = @lane)
    UNION ALL
    SELECT (SELECT min(job_key) FROM jobs WHERE lane = @lane AND job_key > lane_keys.lane_key) FROM lane_keys WHERE lane_keys.lane_key IS NOT NULL),
  open_keys(lane_key) AS (
    SELECT lane_key FROM lane_keys WHERE lane_key IS NOT NULL AND NOT EXISTS (SELECT 1 FROM json_each(@excludeKeys) WHERE value = lane_key))`;
/** Jobs of the lanes asked for, or of any. (One lane, the workers' case, has statements of its own on the (lane, due_at) index.) */
const OF_LANES = `(@lanes IS NULL OR EXISTS (SELECT 1 FROM json_each(@lanes) WHERE value = lane))`;
const UNLEASED = '(lease_expires_at IS NULL OR lease_expires_at < @leaseNow)';

/** All SQL of the adapter, one statement per intent, prepared once. */
function prepareStatements(db: Database.Database) {
  return {
    insertAccount: db.prepare(`INSERT INTO accounts (api_key, secret_hash, signature_secret, default_inbound_url, default_status_url, created_at)
      VALUES (@apiKey, @secretHash, @signatureSecret, @defaultInboundUrl, @defaultStatusUrl, @createdAt) ON CONFLICT (api_key) DO NOTHING`),
    insertFirstAccount: db.prepare(`INSERT INTO accounts (api_key, secret_hash, signature_secret, default_inbound_url, default_status_url, created_at)
      SELECT @apiKey, @secretHash, @signatureSecret, @defaultInboundUrl, @defaultStatusUrl, @createdAt WHERE NOT EXISTS (SELECT 1 FROM accounts)`),
    countAccounts: db.prepare('SELECT count(*) AS n FROM accounts'),
    findAccount: db.prepare('SELECT * FROM accounts WHERE api_key = ?'),

    // Counted and inserted in one statement, so concurrent creates cannot pass the limit together.
    insertApplication: db.prepare(`INSERT INTO applications (id, api_key, name, public_key, capabilities, privacy, created_at, updated_at)
      SELECT @id, @apiKey, @name, @publicKey, @capabilities, @privacy, @createdAt, @updatedAt
      WHERE (SELECT count(*) FROM applications WHERE api_key = @apiKey) < @maxPerAccount`),
    findApplication: db.prepare('SELECT * FROM applications WHERE id = ?'),
    countApplications: db.prepare('SELECT count(*) AS n FROM applications WHERE api_key = ?'),
    listApplications: db.prepare('SELECT * FROM applications WHERE api_key = ? ORDER BY created_at, id LIMIT ? OFFSET ?'),
    updateApplication: db.prepare(`UPDATE applications SET name = @name, public_key = @publicKey, capabilities = @capabilities,
      privacy = @privacy, updated_at = @updatedAt WHERE id = @id AND api_key = @apiKey`),
    deleteApplication: db.prepare('DELETE FROM applications WHERE id = ? AND api_key = ?'),
    deleteLinksOfApplication: db.prepare('DELETE FROM links WHERE application_id = ?'),
    findLink: db.prepare('SELECT * FROM links WHERE channel = ? AND address = ?'),
    countLinksOfAccount: db.prepare('SELECT count(*) AS n FROM links WHERE api_key = ?'),
    upsertLink: db.prepare(`INSERT INTO links (channel, address, api_key, application_id, created_at) VALUES (@channel, @address, @apiKey, @applicationId, @createdAt)
      ON CONFLICT (channel, address) DO UPDATE SET application_id = excluded.application_id, created_at = excluded.created_at`),
    deleteLink: db.prepare('DELETE FROM links WHERE application_id = ? AND channel = ? AND address = ?'),
    listLinks: db.prepare('SELECT * FROM links WHERE application_id = ? ORDER BY channel, address'),
    sentFromByAnotherAccount: db.prepare(`SELECT 1 FROM messages WHERE channel = ? AND from_value = ? AND direction = 'outbound' AND api_key != ? LIMIT 1`),
    sentFromByAccount: db.prepare(`SELECT 1 FROM messages WHERE channel = ? AND from_value = ? AND direction = 'outbound' AND api_key = ? LIMIT 1`),

    insertMessage: db.prepare(`INSERT INTO messages (uuid, api_key, application_id, direction, channel, to_address, from_address,
      to_value, from_value, body, client_ref, status, reported, version, status_url, provider, provider_ref, dispatch_uuid, step_index,
      error_code, error_reason, price, currency, created_at, updated_at)
      VALUES (@uuid, @apiKey, @applicationId, @direction, @channel, @toAddress, @fromAddress, @toValue, @fromValue, @body,
      @clientRef, @status, @reported, @version, @statusUrl, @provider, @providerRef, @dispatchUuid, @stepIndex, @errorCode, @errorReason,
      @price, @currency, @createdAt, @updatedAt)`),
    updateMessage: db.prepare(`UPDATE messages SET status = @status, reported = @reported, version = version + 1,
      provider = coalesce(@provider, provider), provider_ref = coalesce(@providerRef, provider_ref),
      error_code = coalesce(@errorCode, error_code), error_reason = coalesce(@errorReason, error_reason),
      price = coalesce(@price, price), currency = coalesce(@currency, currency), updated_at = @updatedAt
      WHERE uuid = @uuid AND version = @expectedVersion`),
    findMessage: db.prepare('SELECT * FROM messages WHERE uuid = ?'),
    findMessageByProviderRef: db.prepare('SELECT * FROM messages WHERE provider = ? AND provider_ref = ?'),
    findLatestConversation: db.prepare(`SELECT * FROM messages WHERE api_key = ? AND channel = ? AND direction = 'outbound'
      AND from_value = ? AND to_value = ? ORDER BY created_at DESC LIMIT 1`),
    findLatestConversationAnywhere: db.prepare(`SELECT * FROM messages WHERE channel = ? AND direction = 'outbound'
      AND from_value = ? AND to_value = ? ORDER BY created_at DESC LIMIT 1`),
    listThreadMessages: db.prepare(`SELECT * FROM messages m WHERE channel = ? AND from_value = ? AND to_value = ? AND direction = 'outbound'
      AND provider = ? AND status IN ('submitted', 'delivered')
      AND created_at >= ? AND EXISTS (SELECT 1 FROM message_events e WHERE e.message_uuid = m.uuid AND e.status = 'submitted' AND e.at <= ?)
      ORDER BY created_at DESC LIMIT ?`),
    findMessagePart: db.prepare('SELECT * FROM message_parts WHERE provider = ? AND part_ref = ?'),
    listMessageParts: db.prepare('SELECT * FROM message_parts WHERE message_uuid = ? ORDER BY part_index'),
    insertMessagePart: db.prepare(`INSERT INTO message_parts (provider, part_ref, message_uuid, part_index, status, at, error_code, error_reason)
      VALUES (@provider, @partRef, @messageUuid, @index, @status, @at, @errorCode, @errorReason)`),
    updateMessagePart: db.prepare(`UPDATE message_parts SET status = @status, at = @at, error_code = @errorCode, error_reason = @errorReason
      WHERE provider = @provider AND part_ref = @partRef AND status = @expectedStatus`),
    insertEvent: db.prepare(`INSERT INTO message_events (message_uuid, status, at, error_code, error_reason, price, currency)
      VALUES (@messageUuid, @status, @at, @errorCode, @errorReason, @price, @currency)`),
    listEvents: db.prepare('SELECT * FROM message_events WHERE message_uuid = ? ORDER BY id'),
    insertSendAttempt: db.prepare(`INSERT INTO send_attempts (message_uuid, attempt, provider, at, outcome, provider_ref, error_code, error_reason)
      VALUES (@messageUuid, @attempt, @provider, @at, @outcome, @providerRef, @errorCode, @errorReason)`),
    listSendAttempts: db.prepare('SELECT * FROM send_attempts WHERE message_uuid = ? ORDER BY attempt'),

    insertInboxReceipt: db.prepare(`INSERT INTO receipt_inbox (id, provider, provider_ref, status, at, error_code, error_reason, received_at)
      VALUES (@id, @provider, @providerRef, @status, @at, @errorCode, @errorReason, @receivedAt)`),
    listInboxReceipts: db.prepare('SELECT * FROM receipt_inbox WHERE provider = ? AND provider_ref = ? ORDER BY received_at, id'),
    listInboxIds: db.prepare('SELECT id FROM receipt_inbox WHERE provider = ? AND provider_ref = ?'),
    findInboxReceipt: db.prepare('SELECT * FROM receipt_inbox WHERE id = ?'),
    deleteInboxReceipt: db.prepare('DELETE FROM receipt_inbox WHERE id = ?'),
    addToCounter: db.prepare('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value'),
    readCounters: db.prepare('SELECT name, value FROM counters ORDER BY name'),

    insertDispatch: db.prepare(`INSERT INTO dispatches (uuid, api_key, application_id, status_url, status, workflow, state, version, created_at, updated_at)
      VALUES (@uuid, @apiKey, @applicationId, @statusUrl, @status, @workflow, @state, @version, @createdAt, @updatedAt)`),
    updateDispatch: db.prepare(`UPDATE dispatches SET state = @state, status = @status, version = version + 1, updated_at = @updatedAt
      WHERE uuid = @uuid AND version = @expectedVersion`),
    findDispatch: db.prepare('SELECT * FROM dispatches WHERE uuid = ?'),
    listDispatchMessages: db.prepare('SELECT * FROM messages WHERE dispatch_uuid = ? ORDER BY step_index'),

    insertJob: db.prepare('INSERT INTO jobs (kind, lane, job_key, tenant, payload, due_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    // Claimed as it is made: attempts counts this first claim.
    insertLeasedJob: db.prepare(`INSERT INTO jobs (kind, lane, job_key, tenant, payload, due_at, created_at, lease_owner, lease_expires_at, attempts)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`),
    // One UPDATE … RETURNING claims a batch: due, and not under a live lease. A lane's claim reads
    // its own range of the (lane, due_at) index: measured, filtering the kinds of a lane on the
    // due_at index scanned every waiting timer on each idle round (a tenth of the server's time).
    claimJobsOfLane: db.prepare(`UPDATE jobs SET lease_owner = @owner, lease_expires_at = @leaseUntil, attempts = attempts + 1
      WHERE id IN (SELECT id FROM jobs WHERE lane = @lane AND due_at <= @dueBy AND ${UNLEASED} AND ${NOT_EXCLUDED}
                   ORDER BY due_at, id LIMIT @limit)
      RETURNING id, kind, job_key, tenant, payload, due_at, attempts`),
    // With keys left out: the first jobs of each other key (and of no key), the earliest of those.
    // Measured at 50 000 dispatches end to end, reading through a saturated receiver's backlog in
    // the lane's due order took 25 ms a claim (at most 76 ms), and it grew with the backlog; with
    // this the claims' mean fell from 972, 1 029 µs to 741, 761 µs (two alternated rounds). A
    // variant in small statements (the keys, each key's first jobs, then one UPDATE a job) was
    // faster alone but 10 % slower end to end (three rounds), and is not kept.
    claimJobsOfLaneByKey: db.prepare(`${OPEN_KEYS_OF_LANE},
      picked(id, due_at) AS (
        SELECT jobs.id, jobs.due_at FROM open_keys, jobs WHERE jobs.id IN (
          SELECT id FROM jobs WHERE lane = @lane AND job_key = open_keys.lane_key AND due_at <= @dueBy AND ${UNLEASED} AND ${TENANT_NOT_EXCLUDED}
          ORDER BY due_at, id LIMIT @limit)
        UNION ALL
        SELECT * FROM (SELECT id, due_at FROM jobs WHERE lane = @lane AND job_key IS NULL AND due_at <= @dueBy AND ${UNLEASED} AND ${TENANT_NOT_EXCLUDED}
          ORDER BY due_at, id LIMIT @limit))
      UPDATE jobs SET lease_owner = @owner, lease_expires_at = @leaseUntil, attempts = attempts + 1
      WHERE id IN (SELECT id FROM picked ORDER BY due_at, id LIMIT @limit)
      RETURNING id, kind, job_key, tenant, payload, due_at, attempts`),
    claimJobs: db.prepare(`UPDATE jobs SET lease_owner = @owner, lease_expires_at = @leaseUntil, attempts = attempts + 1
      WHERE id IN (SELECT id FROM jobs WHERE due_at <= @dueBy AND ${UNLEASED} AND ${OF_LANES} AND ${NOT_EXCLUDED}
                   ORDER BY due_at, id LIMIT @limit)
      RETURNING id, kind, job_key, tenant, payload, due_at, attempts`),
    nextDueOfLane: db.prepare(`SELECT due_at FROM jobs WHERE lane = @lane AND due_at > @dueAfter AND ${UNLEASED} AND ${NOT_EXCLUDED} ORDER BY due_at LIMIT 1`),
    nextDueOfLaneByKey: db.prepare(`${OPEN_KEYS_OF_LANE}
      SELECT min(due_at) AS due_at FROM (
        SELECT (SELECT due_at FROM jobs WHERE lane = @lane AND job_key = open_keys.lane_key AND due_at > @dueAfter AND ${UNLEASED} AND ${TENANT_NOT_EXCLUDED}
          ORDER BY due_at LIMIT 1) AS due_at FROM open_keys
        UNION ALL
        SELECT (SELECT due_at FROM jobs WHERE lane = @lane AND job_key IS NULL AND due_at > @dueAfter AND ${UNLEASED} AND ${TENANT_NOT_EXCLUDED}
          ORDER BY due_at LIMIT 1))`),
    nextDueAt: db.prepare(`SELECT due_at FROM jobs WHERE due_at > @dueAfter AND ${UNLEASED} AND ${OF_LANES} AND ${NOT_EXCLUDED} ORDER BY due_at LIMIT 1`),
    deleteLeasedJob: db.prepare('DELETE FROM jobs WHERE id = ? AND lease_owner = ?'),
    rescheduleJob: db.prepare(`UPDATE jobs SET due_at = ?, last_error = ?, lease_owner = NULL, lease_expires_at = NULL
      WHERE id = ? AND lease_owner = ?`),
    releaseJob: db.prepare(`UPDATE jobs SET lease_owner = NULL, lease_expires_at = NULL, attempts = attempts - 1
      WHERE id = ? AND lease_owner = ?`),
    deleteJobsByKey: db.prepare('DELETE FROM jobs WHERE job_key = ?'),
    releaseAllLeases: db.prepare('UPDATE jobs SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner IS NOT NULL'),
    countJobs: db.prepare('SELECT count(*) AS n FROM jobs'),
    hasDueJob: db.prepare('SELECT 1 FROM jobs WHERE job_key = ? AND due_at <= ? LIMIT 1'),

    finishedDispatches: db.prepare(`SELECT uuid FROM dispatches WHERE uuid < @cut AND created_at < @before AND status <> 'running' ORDER BY uuid LIMIT @limit`),
    messagesOfDispatch: db.prepare('SELECT uuid FROM messages WHERE dispatch_uuid = ?'),
    finishedMessages: db.prepare(`SELECT uuid FROM messages WHERE uuid < @cut AND created_at < @before AND dispatch_uuid IS NULL AND status <> 'queued'
      ORDER BY uuid LIMIT @limit`),
    finishedWebhooks: db.prepare(`SELECT id FROM webhooks WHERE id < @cut AND created_at < @before AND state <> 'pending' ORDER BY id LIMIT @limit`),
    deleteEventsOf: db.prepare('DELETE FROM message_events WHERE message_uuid = ?'),
    deleteSendAttemptsOf: db.prepare('DELETE FROM send_attempts WHERE message_uuid = ?'),
    deletePartsOf: db.prepare('DELETE FROM message_parts WHERE message_uuid = ?'),
    deleteMessage: db.prepare('DELETE FROM messages WHERE uuid = ?'),
    deleteDispatch: db.prepare('DELETE FROM dispatches WHERE uuid = ?'),
    deleteWebhookAttemptsOf: db.prepare('DELETE FROM webhook_attempts WHERE webhook_id = ?'),
    deleteWebhook: db.prepare('DELETE FROM webhooks WHERE id = ?'),

    insertWebhook: db.prepare(`INSERT INTO webhooks (id, api_key, application_id, kind, url, body, message_uuid, state, attempts, created_at)
      VALUES (@id, @apiKey, @applicationId, @kind, @url, @body, @messageUuid, @state, @attempts, @createdAt)`),
    updateWebhook: db.prepare(`UPDATE webhooks SET state = @state, attempts = @attempts, last_attempt_at = @lastAttemptAt,
      completed_at = @completedAt WHERE id = @id`),
    findWebhook: db.prepare('SELECT * FROM webhooks WHERE id = ?'),
    listWebhooksForMessage: db.prepare('SELECT * FROM webhooks WHERE message_uuid = ? ORDER BY created_at, rowid'),
    insertWebhookAttempt: db.prepare(`INSERT INTO webhook_attempts (webhook_id, attempt, at, duration_ms, status_code, error, outcome)
      VALUES (@webhookId, @attempt, @at, @durationMs, @statusCode, @error, @outcome)`),
    listWebhookAttempts: db.prepare('SELECT * FROM webhook_attempts WHERE webhook_id = ? ORDER BY attempt'),
  };
}
