import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Channel } from '../../core/channel.js';
import type { WallClock } from '../../core/clock.js';
import type { MessagePart } from '../../core/message-parts.js';
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
import * as rows from '../rows.js';
import type { AddedJobRunner, ChangeSet, ClaimRequest, CommitResult, JobFilter, JobsAdded, Page, Store, ThreadQuery } from '../store.js';
import { JobNotifications } from './job-notifications.js';
import { DATABASE_NOW, NodeMembership } from './node-membership.js';
import { migratePostgres } from './migrate.js';
import { migrations } from './migrations/index.js';
import { namedSql, type NamedStatement } from './named-sql.js';
import { isUnavailable, rethrowUnavailable, withConnection } from './postgres-pool.js';
import { idsBefore } from '../ids-before.js';
import { jobsAddedBy } from '../jobs-added.js';
import { APPLY_FUNCTION, CONFLICT, installApplyFunction } from './apply-function.js';
import { writeSteps, type LeaseTaken } from './write-steps.js';
import { GroupCommit } from './group-commit.js';
import { CoalescedLookup } from './coalesced-lookup.js';

/** A watermark looks this far back in its thread (as on SQLite). */
const THREAD_HISTORY_MS = 30 * 24 * 60 * 60 * 1000;

/** Tries of a transaction that PostgreSQL aborted to break a deadlock or a serialization cycle. */
const TRANSACTION_TRIES = 5;

/**
 * Change sets in one group commit at most. Past a few dozen the round trips saved are few, and a
 * larger transaction holds its row locks longer.
 */
const MAX_BATCH = 64;

/** A fence or a condition did not hold: nothing of the change sets was written. */
class Conflict extends Error {}

/** A new job an engine took (AddedJobRunner): written leased to it; its id once the batch that wrote it committed. */
interface TakenJob {
  runner: AddedJobRunner;
  lease: LeaseTaken;
  id?: number;
}

export interface PostgresStoreOptions {
  pool: pg.Pool;
  /** Bookkeeping times (a job's created_at). */
  clock: WallClock;
  /**
   * Where lease instants come from. 'database' (the default and what servers use): the
   * database's clock, so nodes whose clocks disagree still agree on every lease. A wall clock:
   * the conformance suite's, which expires leases by moving it.
   */
  leaseClock?: 'database' | WallClock;
  /** Wakes this node when another commits jobs (LISTEN/NOTIFY); off for CLI commands. */
  listen?: boolean;
}

type Querier = Pick<pg.PoolClient, 'query'>;

/**
 * PostgreSQL adapter (DESIGN §2 rule 4). Several nodes share one database: every write is a
 * transaction on a pooled connection under READ COMMITTED, every transition a conditional
 * update checked by its row count, and claims take due jobs with `FOR UPDATE SKIP LOCKED`, so
 * nodes never wait on each other's batches. Change sets are written by the schema's apply
 * function (apply-function.ts): the change sets of a turn travel as one JSON parameter and
 * commit in one statement, one round trip whatever their rows (group-commit.ts).
 */
export class PostgresStore implements Store {
  readonly sharedByNodes = true;
  private readonly pool: pg.Pool;
  private readonly clock: WallClock;
  private readonly leaseClock: 'database' | WallClock;
  private readonly jobListeners: Array<(added: JobsAdded) => void> = [];
  private readonly nodeListeners: Array<(liveNodes: number) => void> = [];
  private liveNodes: number | undefined;
  private notifications: JobNotifications | undefined;
  /** This node, in the `nodes` table from recoverAtStart (a server) until close; it holds the leases it claims. */
  readonly nodeId = randomUUID();
  private membership: NodeMembership | undefined;
  private readonly groupCommit: GroupCommit;
  private readonly addedJobRunners: AddedJobRunner[] = [];
  /** Jobs of change sets being committed that an engine took, until their commit() hands them over or cancels them. */
  private readonly taken = new Map<NewJob, TakenJob>();
  private readonly applications = new CoalescedLookup<rows.ApplicationRow>(async (ids) => {
    // An id PostgreSQL text cannot hold (a NUL) names no application; sent, it would fail the lot.
    const storable = ids.filter((id) => !id.includes('\u0000'));
    const found = storable.length === 0 ? [] : await this.all<rows.ApplicationRow>(S.findApplications, { ids: storable });
    return new Map(found.map((row) => [row.id, row]));
  });

  private constructor(options: PostgresStoreOptions) {
    this.pool = options.pool;
    this.clock = options.clock;
    this.leaseClock = options.leaseClock ?? 'database';
    this.groupCommit = new GroupCommit({
      // Together: one try; a deadlock sends the batch one by one, each with its own retries.
      commitTogether: (changes) => this.commitTogether(changes, 1),
      commitAlone: (change) => this.commitAlone(change),
      // Half the pool: the claims and reads of the API keep connections of their own.
      maxInFlight: Math.max(1, Math.floor((options.pool.options.max ?? 10) / 2)),
      maxBatch: MAX_BATCH,
    });
  }

  /** Migrates (once, whichever node gets there first) and connects the wake-up channel. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(options);
    await migratePostgres(options.pool, 'schema_migrations', migrations, options.clock.wallNow());
    await installApplyFunction(options.pool);
    if (options.listen) {
      store.notifications = await JobNotifications.start(options.pool, (added) => store.emitJobsAdded(added));
    }
    return store;
  }

  async close(): Promise<void> {
    await this.membership?.stop();
    await this.notifications?.stop();
    await this.pool.end();
  }

  onJobsAdded(listener: (added: JobsAdded) => void): void {
    this.jobListeners.push(listener);
  }

  onNodesChanged(listener: (liveNodes: number) => void): void {
    this.nodeListeners.push(listener);
    if (this.liveNodes !== undefined) listener(this.liveNodes);
  }

  async commit(change: ChangeSet): Promise<CommitResult> {
    if (this.addedJobRunners.length === 0 || !change.jobs?.length) return this.groupCommit.commit(change);
    let result: CommitResult | undefined;
    try {
      result = await this.groupCommit.commit(change);
      return result;
    } finally {
      this.handOver(change.jobs, result === 'committed');
    }
  }

  runAddedJobs(runner: AddedJobRunner): void {
    this.addedJobRunners.push(runner);
  }

  /**
   * Offers the new jobs of a batch about to be written, each to the first engine that takes it:
   * now rather than when their change set joined the queue, so that a slot an engine reserves
   * waits for this one round trip, not for the batches ahead of it as well. A job taken for a
   * batch that failed keeps its engine when it is written again alone.
   */
  private offerAddedJobs(changes: readonly ChangeSet[]): Map<NewJob, LeaseTaken> {
    const leased = new Map<NewJob, LeaseTaken>();
    for (const job of changes.flatMap((change) => change.jobs ?? [])) {
      let taken = this.taken.get(job);
      for (const runner of taken ? [] : this.addedJobRunners) {
        const owner = runner.reserve(job);
        if (owner === undefined) continue;
        taken = { runner, lease: { owner, node: this.nodeId, leaseNow: this.leaseNow(), leaseMs: runner.leaseMs } };
        this.taken.set(job, taken);
        break;
      }
      if (taken) leased.set(job, taken.lease);
    }
    return leased;
  }

  /** After a change set's commit: its taken jobs run if it committed, else their slots are freed. */
  private handOver(jobs: readonly NewJob[], committed: boolean): void {
    for (const job of jobs) {
      const taken = this.taken.get(job);
      if (taken === undefined) continue;
      this.taken.delete(job);
      const { runner, lease, id } = taken;
      if (!committed || id === undefined) runner.cancelReservation(job);
      // Due in whole milliseconds, as the row holds it (write-steps.ts).
      else runner.runReserved(rows.takenJob(job, id, lease.owner, Math.ceil(job.dueAt)));
    }
  }

  /** Change sets in one statement, all or none (group-commit.ts, apply-function.ts); throws Conflict when a fence or guard of any of them fails. */
  private async commitTogether(changes: readonly ChangeSet[], tries = TRANSACTION_TRIES): Promise<void> {
    const leased = this.offerAddedJobs(changes);
    const added = jobsAddedBy(changes, leased);
    const steps = writeSteps(changes, { now: this.clock.wallNow(), leased, ...(added && this.notifications && { notice: this.notifications.notice(added) }) });
    if (steps.length === 0) return;
    const answer = await retryingAborts(tries, () =>
      run(this.pool, S.apply, { steps: JSON.stringify(steps) }).catch((error) => {
        throw (error as { code?: string }).code === CONFLICT ? new Conflict() : error;
      }),
    );
    const ids = (answer.rows[0] as { leased_ids: Record<string, number> | null } | undefined)?.leased_ids ?? {};
    for (const [job, lease] of leased) this.taken.get(job)!.id = ids[lease.owner];
    if (added) this.emitJobsAdded(added);
  }

  private async commitAlone(change: ChangeSet): Promise<CommitResult> {
    try {
      await this.commitTogether([change]);
      return 'committed';
    } catch (error) {
      if (error instanceof Conflict) return 'conflict';
      throw error;
    }
  }

  private emitJobsAdded(added: JobsAdded): void {
    for (const listener of this.jobListeners) listener(added);
  }

  /** One transaction on a pooled connection; retried when PostgreSQL aborted it to break a deadlock. */
  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const attempt = () =>
      withConnection(this.pool, async (client) => {
        await client.query('BEGIN');
        try {
          const result = await work(client);
          await client.query('COMMIT');
          return result;
        } catch (error) {
          // A rollback that fails means a broken connection: withConnection discards it.
          if (!isUnavailable(error)) await client.query('ROLLBACK');
          throw error;
        }
      });
    return retryingAborts(TRANSACTION_TRIES, attempt).catch(rethrowUnavailable);
  }

  private async all<Row>(statement: NamedStatement, params: Record<string, unknown>): Promise<Row[]> {
    try {
      return (await run(this.pool, statement, params)).rows as Row[];
    } catch (error) {
      // A key PostgreSQL text cannot hold (a NUL from a URL's %00) matches no row: none found, not a fault.
      if (UNSTORABLE_TEXT.includes((error as { code?: string }).code ?? '')) return [];
      throw error;
    }
  }

  private async one<Row>(statement: NamedStatement, params: Record<string, unknown>): Promise<Row | undefined> {
    return (await this.all<Row>(statement, params))[0];
  }

  private leaseNow(): number | null {
    return this.leaseClock === 'database' ? null : this.leaseClock.wallNow();
  }

  // Accounts

  async insertAccount(account: AccountRecord): Promise<boolean> {
    return (await run(this.pool, S.insertAccount, rows.accountParams(account))).rowCount === 1;
  }

  async insertFirstAccount(account: AccountRecord): Promise<boolean> {
    // Two nodes starting on an empty database would both see it empty: one at a time.
    return this.transaction(async (client) => {
      await run(client, S.lockReferences, { keys: ['first-account'] });
      return (await run(client, S.insertFirstAccount, rows.accountParams(account))).rowCount === 1;
    });
  }

  async countAccounts(): Promise<number> {
    return (await this.one<{ n: number }>(S.countAccounts, {}))!.n;
  }

  async findAccount(apiKey: string): Promise<AccountRecord | undefined> {
    const row = await this.one<rows.AccountRow>(S.findAccount, { apiKey });
    return row && rows.toAccount(row);
  }

  // Applications

  async insertApplication(application: ApplicationRecord, maxPerAccount = Number.MAX_SAFE_INTEGER): Promise<boolean> {
    // The count and the insert under a lock per account: concurrent creates on several nodes cannot pass the limit together.
    return this.transaction(async (client) => {
      await run(client, S.lockReferences, { keys: [`applications\n${application.apiKey}`] });
      return (await run(client, S.insertApplication, { ...rows.applicationParams(application), maxPerAccount })).rowCount === 1;
    });
  }

  /** Every JWT request reads its application: the reads of one turn go as one query (coalesced-lookup.ts). */
  async findApplication(id: string): Promise<ApplicationRecord | undefined> {
    const row = await this.applications.get(id);
    return row && rows.toApplication(row);
  }

  async listApplications(apiKey: string, page: { limit: number; offset: number }): Promise<Page<ApplicationRecord>> {
    const found = await this.all<rows.ApplicationRow & { total: number }>(S.listApplications, { apiKey, limit: page.limit, offset: page.offset });
    const total = found[0]?.total ?? (await this.one<{ n: number }>(S.countApplications, { apiKey }))!.n;
    return { items: found.map(rows.toApplication), total };
  }

  async updateApplication(application: ApplicationRecord): Promise<boolean> {
    return (await run(this.pool, S.updateApplication, rows.applicationParams(application))).rowCount === 1;
  }

  async deleteApplication(apiKey: string, id: string): Promise<boolean> {
    return this.transaction(async (client) => {
      const deleted = (await run(client, S.deleteApplication, { id, apiKey })).rowCount === 1;
      if (deleted) await run(client, S.deleteLinksOfApplication, { id });
      return deleted;
    });
  }

  // Links

  async putLink(link: LinkRecord, maxPerAccount: number): Promise<'linked' | 'taken' | 'limit'> {
    return this.transaction(async (client) => {
      // Per account (its count) and per address (who holds it): two nodes linking at once see each other.
      await run(client, S.lockReferences, { keys: [`links\n${link.apiKey}`, `link\n${link.channel}\n${link.address}`].sort() });
      const current = (await run(client, S.findLink, { channel: link.channel, address: link.address })).rows[0] as rows.LinkRow | undefined;
      if (current && current.api_key !== link.apiKey) return 'taken';
      if (!current && (await run(client, S.countLinksOfAccount, { apiKey: link.apiKey })).rows[0].n >= maxPerAccount) return 'limit';
      await run(client, S.upsertLink, rows.linkParams(link));
      return 'linked';
    });
  }

  async deleteLink(applicationId: string, channel: Channel, address: string): Promise<boolean> {
    return (await run(this.pool, S.deleteLink, { applicationId, channel, address })).rowCount === 1;
  }

  async listLinks(applicationId: string): Promise<LinkRecord[]> {
    return (await this.all<rows.LinkRow>(S.listLinks, { applicationId })).map(rows.toLink);
  }

  async findLink(channel: Channel, address: string): Promise<LinkRecord | undefined> {
    const row = await this.one<rows.LinkRow>(S.findLink, { channel, address });
    return row && rows.toLink(row);
  }

  async sentFromByAnotherAccount(channel: Channel, address: string, apiKey: string): Promise<boolean> {
    return (await this.one(S.sentFromByAnotherAccount, { channel, address, apiKey })) !== undefined;
  }

  async sentFromByAccount(channel: Channel, address: string, apiKey: string): Promise<boolean> {
    return (await this.one(S.sentFromByAccount, { channel, address, apiKey })) !== undefined;
  }

  // Messages

  async findMessage(uuid: string): Promise<MessageRecord | undefined> {
    const row = await this.one<rows.MessageRow>(S.findMessage, { uuid });
    return row && rows.toMessage(row);
  }

  async findMessageByProviderRef(provider: string, providerRef: string): Promise<MessageRecord | undefined> {
    const row = await this.one<rows.MessageRow>(S.findMessageByProviderRef, { provider, providerRef });
    return row && rows.toMessage(row);
  }

  async listMessageEvents(uuid: string): Promise<MessageEventRecord[]> {
    return (await this.all<rows.EventRow>(S.listEvents, { uuid })).map(rows.toEvent);
  }

  async listSendAttempts(uuid: string): Promise<SendAttemptRecord[]> {
    return (await this.all<rows.SendAttemptRow>(S.listSendAttempts, { uuid })).map(rows.toSendAttempt);
  }

  async findLatestConversation(conversation: { apiKey?: string; channel: Channel; businessAddress: string; userAddress: string }): Promise<MessageRecord | undefined> {
    const { apiKey, channel, businessAddress, userAddress } = conversation;
    const row =
      apiKey === undefined
        ? await this.one<rows.MessageRow>(S.findLatestConversationAnywhere, { channel, businessAddress, userAddress })
        : await this.one<rows.MessageRow>(S.findLatestConversation, { apiKey, channel, businessAddress, userAddress });
    return row && rows.toMessage(row);
  }

  async listThreadMessages(thread: ThreadQuery): Promise<MessageRecord[]> {
    const { provider, channel, businessAddress, userAddress, sentBy, limit } = thread;
    const found = await this.all<rows.MessageRow>(S.listThreadMessages, { channel, businessAddress, userAddress, provider, since: sentBy - THREAD_HISTORY_MS, sentBy, limit });
    return found.map(rows.toMessage);
  }

  async findMessagePart(provider: string, partRef: string): Promise<MessagePart | undefined> {
    const row = await this.one<rows.PartRow>(S.findMessagePart, { provider, partRef });
    return row && rows.toPart(row);
  }

  async listMessageParts(messageUuid: string): Promise<MessagePart[]> {
    return (await this.all<rows.PartRow>(S.listMessageParts, { messageUuid })).map(rows.toPart);
  }

  // Receipts held for a reference not recorded yet

  async listInboxReceipts(provider: string, providerRef: string): Promise<InboxReceiptRecord[]> {
    return (await this.all<rows.InboxRow>(S.listInboxReceipts, { provider, providerRef })).map(rows.toInboxReceipt);
  }

  async findInboxReceipt(id: string): Promise<InboxReceiptRecord | undefined> {
    const row = await this.one<rows.InboxRow>(S.findInboxReceipt, { id });
    return row && rows.toInboxReceipt(row);
  }

  async readCounters(): Promise<Record<string, number>> {
    const found = await this.all<{ name: string; value: number }>(S.readCounters, {});
    return Object.fromEntries(found.map(({ name, value }) => [name, value]));
  }

  // Dispatches

  async findDispatch(uuid: string): Promise<DispatchRecord | undefined> {
    const row = await this.one<rows.DispatchRow>(S.findDispatch, { uuid });
    return row && rows.toDispatch(row);
  }

  async listDispatchMessages(uuid: string): Promise<MessageRecord[]> {
    return (await this.all<rows.MessageRow>(S.listDispatchMessages, { uuid })).map(rows.toMessage);
  }

  // Jobs

  async claimJobs(request: ClaimRequest): Promise<ClaimedJob[]> {
    const statement = request.lanes?.length !== 1 ? S.claimJobs : request.excludeKeys?.length ? S.claimJobsOfLaneByKey : S.claimJobsOfLane;
    const claimed = await this.all<rows.JobRow>(statement, {
      owner: request.owner,
      node: this.nodeId,
      dueBy: request.dueBy,
      leaseNow: this.leaseNow(),
      leaseMs: request.leaseMs,
      limit: request.limit,
      ...filterParams(request),
    });
    // RETURNING gives rows in the order they were updated: sort, earliest first.
    claimed.sort((a, b) => a.due_at - b.due_at || a.id - b.id);
    return claimed.map((row) => rows.toClaimedJob(row, request.owner));
  }

  async nextDueAt(filter: JobFilter = {}): Promise<number | undefined> {
    const statement = filter.lanes === undefined ? S.nextDueAt : filter.lanes.length === 1 && filter.excludeKeys?.length ? S.nextDueOfLaneByKey : S.nextDueOfLanes;
    const row = await this.one<{ due_at: number | null }>(statement, { leaseNow: this.leaseNow(), dueAfter: filter.dueAfter ?? Number.MIN_SAFE_INTEGER, ...filterParams(filter) });
    return row?.due_at ?? undefined;
  }

  /**
   * Other nodes may be alive and holding leases, so a starting node frees none by itself. It
   * joins the `nodes` table and keeps a heartbeat there; every node frees the leases of nodes
   * whose heartbeat is stale (a dead predecessor's too, seconds after its death:
   * node-membership.ts). A lease of no known node is rescued when it expires (each claim takes
   * expired leases as due jobs).
   */
  async recoverAtStart(): Promise<void> {
    if (this.membership) return;
    this.membership = new NodeMembership(this.pool.options, this.nodeId, {
      onRescued: (freed) => this.emitJobsAdded(freed),
      onNodesChanged: (liveNodes) => {
        this.liveNodes = liveNodes;
        for (const listener of this.nodeListeners) listener(liveNodes);
      },
    });
    await this.membership.start();
  }

  async hasDueJob(key: string, dueBy: number): Promise<boolean> {
    return (await this.one(S.hasDueJob, { key, dueBy })) !== undefined;
  }

  async countJobs(): Promise<number> {
    return (await this.one<{ n: number }>(S.countJobs, {}))!.n;
  }

  // Retention

  async deleteFinished(before: number, limit: number): Promise<number> {
    // Ids are time-ordered (engine/ids.ts): what was made before `before` is a primary-key range.
    // SKIP LOCKED: nodes sweeping at once take different rows instead of waiting on each other.
    const params = { cut: idsBefore(before), before, limit };
    return this.transaction(async (client) => {
      const dispatches = (await run(client, S.finishedDispatches, params)).rows.map((row) => row.uuid as string);
      const standalone = (await run(client, S.finishedMessages, params)).rows.map((row) => row.uuid as string);
      const webhooks = (await run(client, S.finishedWebhooks, params)).rows.map((row) => row.id as string);
      if (dispatches.length + standalone.length > 0) await run(client, S.deleteMessagesOf, { dispatches, messages: standalone });
      if (dispatches.length > 0) await run(client, S.deleteDispatches, { uuids: dispatches });
      if (webhooks.length > 0) await run(client, S.deleteWebhooks, { ids: webhooks });
      return Math.max(dispatches.length, standalone.length, webhooks.length);
    });
  }

  // Webhooks

  async findWebhook(id: string): Promise<WebhookRecord | undefined> {
    const row = await this.one<rows.WebhookRow>(S.findWebhook, { id });
    return row && rows.toWebhook(row);
  }

  async listWebhooksForMessage(messageUuid: string): Promise<WebhookRecord[]> {
    return (await this.all<rows.WebhookRow>(S.listWebhooksForMessage, { messageUuid })).map(rows.toWebhook);
  }

  async listWebhookAttempts(webhookId: string): Promise<WebhookAttemptRecord[]> {
    return (await this.all<rows.WebhookAttemptRow>(S.listWebhookAttempts, { webhookId })).map(rows.toWebhookAttempt);
  }
}

/** Invalid byte sequence, untranslatable character: text with a NUL. */
const UNSTORABLE_TEXT = ['22021', '22P05'];

/** Deadlock detected, serialization failure: PostgreSQL rolled the transaction back; running it again is safe. */
function isRetryable(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === '40P01' || code === '40001';
}

/** `work`, run again (up to `tries` times in all) while PostgreSQL aborts it to break a deadlock or a serialization cycle. */
async function retryingAborts<T>(tries: number, work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= tries || !isRetryable(error)) throw error;
    }
  }
}

/** A named statement: parsed once per connection, then only bound and run. */
function run(on: Querier, statement: NamedStatement, params: Record<string, unknown>): Promise<pg.QueryResult> {
  return on.query({ name: statement.name, text: statement.text, values: statement.values(params) }).catch(rethrowUnavailable);
}

const filterParams = (filter: JobFilter) => ({
  lane: filter.lanes?.[0] ?? null,
  lanes: filter.lanes ?? null,
  excludeKeys: filter.excludeKeys ?? [],
  excludeTenants: filter.excludeTenants ?? [],
});

/** The lease clock: the test's, or the database's own. */
const LEASE_NOW = `coalesce(@leaseNow::bigint, ${DATABASE_NOW})`;
const UNLEASED = `(lease_expires_at IS NULL OR lease_expires_at < ${LEASE_NOW})`;
const OF_LANES = '(@lanes::text[] IS NULL OR lane = ANY (@lanes::text[]))';
const TENANT_NOT_EXCLUDED = '(tenant IS NULL OR NOT tenant = ANY (@excludeTenants::text[]))';
const NOT_EXCLUDED = `(job_key IS NULL OR NOT job_key = ANY (@excludeKeys::text[])) AND ${TENANT_NOT_EXCLUDED}`;
/** The lane's keys not excluded, one index seek a key (as SQLite's OPEN_KEYS_OF_LANE). */
const OPEN_KEYS_OF_LANE = `WITH RECURSIVE lane_keys(lane_key) AS (
    SELECT min(job_key) FROM jobs WHERE lane = @lane
    UNION ALL
    SELECT (SELECT min(job_key) FROM jobs WHERE lane = @lane AND job_key > lane_keys.lane_key) FROM lane_keys WHERE lane_keys.lane_key IS NOT NULL),
  open_keys AS (SELECT lane_key FROM lane_keys WHERE lane_key IS NOT NULL AND NOT lane_key = ANY (@excludeKeys::text[]))`;

function claimStatement(name: string, lanes: string): NamedStatement {
  return namedSql(name, `WITH picked AS (
      SELECT id FROM jobs WHERE ${lanes} AND due_at <= @dueBy AND ${UNLEASED} AND ${NOT_EXCLUDED}
      ORDER BY due_at, id LIMIT @limit FOR UPDATE SKIP LOCKED)
    UPDATE jobs SET lease_owner = @owner, lease_node = @node, lease_expires_at = ${LEASE_NOW} + @leaseMs, attempts = jobs.attempts + 1
    FROM picked WHERE jobs.id = picked.id
    RETURNING jobs.id, jobs.kind, jobs.job_key, jobs.tenant, jobs.payload, jobs.due_at, jobs.attempts`);
}

/**
 * A lane's claim that leaves keys out: the first due jobs of each other key (and of none), the
 * earliest of those, so that it never reads through a left-out key's backlog (SQLite's measure).
 * Each key's rows are locked as they are read; those the limit then leaves are unlocked at commit.
 */
const claimJobsOfLaneByKey = namedSql('claim_jobs_of_lane_by_key', `${OPEN_KEYS_OF_LANE},
    candidates AS (
      SELECT first.id, first.due_at FROM open_keys CROSS JOIN LATERAL (
        SELECT id, due_at FROM jobs WHERE lane = @lane AND job_key = open_keys.lane_key AND due_at <= @dueBy AND ${UNLEASED} AND ${TENANT_NOT_EXCLUDED}
        ORDER BY due_at, id LIMIT @limit FOR UPDATE SKIP LOCKED) AS first
      UNION ALL
      SELECT * FROM (SELECT id, due_at FROM jobs WHERE lane = @lane AND job_key IS NULL AND due_at <= @dueBy AND ${UNLEASED} AND ${TENANT_NOT_EXCLUDED}
        ORDER BY due_at, id LIMIT @limit FOR UPDATE SKIP LOCKED) AS keyless),
    picked AS (SELECT id FROM candidates ORDER BY due_at, id LIMIT @limit)
  UPDATE jobs SET lease_owner = @owner, lease_node = @node, lease_expires_at = ${LEASE_NOW} + @leaseMs, attempts = jobs.attempts + 1
  FROM picked WHERE jobs.id = picked.id
  RETURNING jobs.id, jobs.kind, jobs.job_key, jobs.tenant, jobs.payload, jobs.due_at, jobs.attempts`);

/** All SQL of the adapter, one statement per intent. */
const S = {
  apply: namedSql('apply', `SELECT ${APPLY_FUNCTION}(@steps::jsonb) AS leased_ids`),
  lockReferences: namedSql('lock_references', 'SELECT pg_advisory_xact_lock(hashtextextended(key, 0)) FROM unnest(@keys::text[]) AS key'),

  insertAccount: namedSql('insert_account', `INSERT INTO accounts (api_key, secret_hash, signature_secret, default_inbound_url, default_status_url, created_at)
    VALUES (@apiKey, @secretHash, @signatureSecret, @defaultInboundUrl, @defaultStatusUrl, @createdAt) ON CONFLICT (api_key) DO NOTHING`),
  insertFirstAccount: namedSql('insert_first_account', `INSERT INTO accounts (api_key, secret_hash, signature_secret, default_inbound_url, default_status_url, created_at)
    SELECT @apiKey, @secretHash, @signatureSecret, @defaultInboundUrl, @defaultStatusUrl, @createdAt WHERE NOT EXISTS (SELECT 1 FROM accounts)`),
  countAccounts: namedSql('count_accounts', 'SELECT count(*) AS n FROM accounts'),
  findAccount: namedSql('find_account', 'SELECT * FROM accounts WHERE api_key = @apiKey'),

  insertApplication: namedSql('insert_application', `INSERT INTO applications (id, api_key, name, public_key, capabilities, privacy, created_at, updated_at)
    SELECT @id, @apiKey, @name, @publicKey, @capabilities, @privacy, @createdAt, @updatedAt
    WHERE (SELECT count(*) FROM applications WHERE api_key = @apiKey) < @maxPerAccount`),
  findApplications: namedSql('find_applications', 'SELECT * FROM applications WHERE id = ANY (@ids::text[])'),
  countApplications: namedSql('count_applications', 'SELECT count(*) AS n FROM applications WHERE api_key = @apiKey'),
  listApplications: namedSql('list_applications', `SELECT *, count(*) OVER () AS total FROM applications WHERE api_key = @apiKey
    ORDER BY created_at, id LIMIT @limit OFFSET @offset`),
  updateApplication: namedSql('update_application', `UPDATE applications SET name = @name, public_key = @publicKey, capabilities = @capabilities,
    privacy = @privacy, updated_at = @updatedAt WHERE id = @id AND api_key = @apiKey`),
  deleteApplication: namedSql('delete_application', 'DELETE FROM applications WHERE id = @id AND api_key = @apiKey'),
  deleteLinksOfApplication: namedSql('delete_links_of_application', 'DELETE FROM links WHERE application_id = @id'),

  findLink: namedSql('find_link', 'SELECT * FROM links WHERE channel = @channel AND address = @address'),
  countLinksOfAccount: namedSql('count_links_of_account', 'SELECT count(*) AS n FROM links WHERE api_key = @apiKey'),
  upsertLink: namedSql('upsert_link', `INSERT INTO links (channel, address, api_key, application_id, created_at)
    VALUES (@channel, @address, @apiKey, @applicationId, @createdAt)
    ON CONFLICT (channel, address) DO UPDATE SET application_id = excluded.application_id, created_at = excluded.created_at`),
  deleteLink: namedSql('delete_link', 'DELETE FROM links WHERE application_id = @applicationId AND channel = @channel AND address = @address'),
  listLinks: namedSql('list_links', 'SELECT * FROM links WHERE application_id = @applicationId ORDER BY channel, address'),
  sentFromByAnotherAccount: namedSql('sent_from_by_another_account', `SELECT 1 FROM messages
    WHERE channel = @channel AND from_value = @address AND direction = 'outbound' AND api_key <> @apiKey LIMIT 1`),
  sentFromByAccount: namedSql('sent_from_by_account', `SELECT 1 FROM messages
    WHERE channel = @channel AND from_value = @address AND direction = 'outbound' AND api_key = @apiKey LIMIT 1`),

  findMessage: namedSql('find_message', 'SELECT * FROM messages WHERE uuid = @uuid'),
  findMessageByProviderRef: namedSql('find_message_by_provider_ref', 'SELECT * FROM messages WHERE provider = @provider AND provider_ref = @providerRef'),
  findLatestConversation: namedSql('find_latest_conversation', `SELECT * FROM messages WHERE api_key = @apiKey AND channel = @channel
    AND direction = 'outbound' AND from_value = @businessAddress AND to_value = @userAddress ORDER BY created_at DESC LIMIT 1`),
  findLatestConversationAnywhere: namedSql('find_latest_conversation_anywhere', `SELECT * FROM messages WHERE channel = @channel
    AND direction = 'outbound' AND from_value = @businessAddress AND to_value = @userAddress ORDER BY created_at DESC LIMIT 1`),
  listThreadMessages: namedSql('list_thread_messages', `SELECT * FROM messages m WHERE channel = @channel AND from_value = @businessAddress
    AND to_value = @userAddress AND direction = 'outbound' AND provider = @provider AND status IN ('submitted', 'delivered')
    AND created_at >= @since AND EXISTS (SELECT 1 FROM message_events e WHERE e.message_uuid = m.uuid AND e.status = 'submitted' AND e.at <= @sentBy)
    ORDER BY created_at DESC LIMIT @limit`),
  listDispatchMessages: namedSql('list_dispatch_messages', 'SELECT * FROM messages WHERE dispatch_uuid = @uuid ORDER BY step_index'),

  findMessagePart: namedSql('find_message_part', 'SELECT * FROM message_parts WHERE provider = @provider AND part_ref = @partRef'),
  listMessageParts: namedSql('list_message_parts', 'SELECT * FROM message_parts WHERE message_uuid = @messageUuid ORDER BY part_index'),

  listEvents: namedSql('list_events', 'SELECT * FROM message_events WHERE message_uuid = @uuid ORDER BY id'),
  listSendAttempts: namedSql('list_send_attempts', 'SELECT * FROM send_attempts WHERE message_uuid = @uuid ORDER BY attempt'),

  listInboxReceipts: namedSql('list_inbox_receipts', 'SELECT * FROM receipt_inbox WHERE provider = @provider AND provider_ref = @providerRef ORDER BY received_at, id'),
  findInboxReceipt: namedSql('find_inbox_receipt', 'SELECT * FROM receipt_inbox WHERE id = @id'),
  readCounters: namedSql('read_counters', 'SELECT name, value FROM counters ORDER BY name'),

  findDispatch: namedSql('find_dispatch', 'SELECT * FROM dispatches WHERE uuid = @uuid'),

  // Due, not under a live lease, and not locked by another node's claim of this instant: SKIP
  // LOCKED lets nodes claim side by side, each a batch of its own. A lane's claim (the workers'
  // case) reads its own range of the (lane, due_at) index.
  claimJobsOfLane: claimStatement('claim_jobs_of_lane', 'lane = @lane'),
  claimJobsOfLaneByKey,
  claimJobs: claimStatement('claim_jobs', OF_LANES),
  // Each lane's earliest from its own index range; the earliest of those.
  nextDueOfLanes: namedSql('next_due_of_lanes', `SELECT min(first.due_at) AS due_at FROM unnest(@lanes::text[]) AS l(lane),
    LATERAL (SELECT due_at FROM jobs WHERE jobs.lane = l.lane AND due_at > @dueAfter::bigint AND ${UNLEASED} AND ${NOT_EXCLUDED} ORDER BY due_at LIMIT 1) AS first`),
  nextDueOfLaneByKey: namedSql('next_due_of_lane_by_key', `${OPEN_KEYS_OF_LANE}
    SELECT min(due_at) AS due_at FROM (
      SELECT (SELECT due_at FROM jobs WHERE lane = @lane AND job_key = open_keys.lane_key AND due_at > @dueAfter::bigint AND ${UNLEASED} AND ${TENANT_NOT_EXCLUDED}
        ORDER BY due_at LIMIT 1) AS due_at FROM open_keys
      UNION ALL
      SELECT (SELECT due_at FROM jobs WHERE lane = @lane AND job_key IS NULL AND due_at > @dueAfter::bigint AND ${UNLEASED} AND ${TENANT_NOT_EXCLUDED}
        ORDER BY due_at LIMIT 1)) AS firsts`),
  nextDueAt: namedSql('next_due_at', `SELECT min(due_at) AS due_at FROM jobs WHERE due_at > @dueAfter::bigint AND ${UNLEASED} AND ${NOT_EXCLUDED}`),
  countJobs: namedSql('count_jobs', 'SELECT count(*) AS n FROM jobs'),
  hasDueJob: namedSql('has_due_job', 'SELECT 1 FROM jobs WHERE job_key = @key AND due_at <= @dueBy LIMIT 1'),

  finishedDispatches: namedSql('finished_dispatches', `SELECT uuid FROM dispatches WHERE uuid < @cut AND created_at < @before AND status <> 'running'
    ORDER BY uuid LIMIT @limit FOR UPDATE SKIP LOCKED`),
  finishedMessages: namedSql('finished_messages', `SELECT uuid FROM messages WHERE uuid < @cut AND created_at < @before AND dispatch_uuid IS NULL
    AND status <> 'queued' ORDER BY uuid LIMIT @limit FOR UPDATE SKIP LOCKED`),
  finishedWebhooks: namedSql('finished_webhooks', `SELECT id FROM webhooks WHERE id < @cut AND created_at < @before AND state <> 'pending'
    ORDER BY id LIMIT @limit FOR UPDATE SKIP LOCKED`),
  // The messages (of these dispatches, and these) with what hangs off them, in one statement.
  deleteMessagesOf: namedSql('delete_messages_of', `WITH gone AS (
      DELETE FROM messages WHERE dispatch_uuid = ANY (@dispatches::text[]) OR uuid = ANY (@messages::text[]) RETURNING uuid),
    events AS (DELETE FROM message_events WHERE message_uuid IN (SELECT uuid FROM gone)),
    attempts AS (DELETE FROM send_attempts WHERE message_uuid IN (SELECT uuid FROM gone))
    DELETE FROM message_parts WHERE message_uuid IN (SELECT uuid FROM gone)`),
  deleteDispatches: namedSql('delete_dispatches', 'DELETE FROM dispatches WHERE uuid = ANY (@uuids::text[])'),
  deleteWebhooks: namedSql('delete_webhooks', `WITH gone AS (DELETE FROM webhooks WHERE id = ANY (@ids::text[]) RETURNING id)
    DELETE FROM webhook_attempts WHERE webhook_id IN (SELECT id FROM gone)`),

  findWebhook: namedSql('find_webhook', 'SELECT * FROM webhooks WHERE id = @id'),
  listWebhooksForMessage: namedSql('list_webhooks_for_message', 'SELECT * FROM webhooks WHERE message_uuid = @messageUuid ORDER BY created_at, seq'),
  listWebhookAttempts: namedSql('list_webhook_attempts', 'SELECT * FROM webhook_attempts WHERE webhook_id = @webhookId ORDER BY attempt'),
};
