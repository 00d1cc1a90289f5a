import type Database from 'better-sqlite3';
import { addressValue } from '../../core/channel.js';
import { toHandset, type HandsetRow } from './handset-row.js';
import type { HandsetArrival, HandsetFilter, HandsetMessage, HandsetPage, RecipientKey, SandboxState } from './sandbox-state.js';

/**
 * Applies a write of one statement on the lent connection and resolves once it is durable: the
 * connection's group commit, so the sandbox's writes of a turn of the event loop share the
 * store's transaction instead of committing apart. Measured with `npm run bench`:
 * a transaction per write cost a fifth of the server's time, a batch of its own about a fifth of
 * accept throughput.
 */
export type BatchedWrite = <T>(apply: () => T) => Promise<T>;

/**
 * The sandbox network's state in SQLite, in tables of its own with their own numbered migrations
 * (table `sandbox_schema_migrations`), on a connection it is lent (the server's, so that the two
 * do not invalidate each other's page cache). Each write is atomic on its own; none needs to
 * share a transaction with the engine's, though for speed they share its commits.
 */
export class SqliteSandboxState implements SandboxState {
  private readonly db: Database.Database;
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly write: BatchedWrite;

  /** `db` stays its owner's: closing the state leaves it open. */
  constructor(options: { db: Database.Database; write: BatchedWrite; now: number }) {
    this.db = options.db;
    this.write = options.write;
    migrate(this.db, options.now);
    this.statements = prepareStatements(this.db);
  }

  putScript(scope: RecipientKey, script: Record<string, unknown>, at: number): Promise<void> {
    const text = JSON.stringify(script);
    return this.write(() => void this.statements.putScript.run(scope.apiKey, scope.channel, scope.address, text, at));
  }

  async findScript(scope: RecipientKey): Promise<unknown | undefined> {
    const row = this.statements.findScript.get(scope.apiKey, scope.channel, scope.address) as { script: string } | undefined;
    return row && JSON.parse(row.script);
  }

  recordArrival(arrival: HandsetArrival): Promise<void> {
    const params = {
      providerRef: arrival.providerRef,
      messageUuid: arrival.messageUuid,
      apiKey: arrival.apiKey,
      channel: arrival.channel,
      toValue: addressValue(arrival.to),
      toAddress: JSON.stringify(arrival.to),
      fromAddress: JSON.stringify(arrival.from),
      body: JSON.stringify(arrival.message),
      receivedAt: arrival.receivedAt,
      timesReceived: arrival.timesReceived,
    };
    return this.write(() => void this.statements.insertArrival.run(params));
  }

  markDelivered(providerRef: string, at: number): Promise<void> {
    return this.write(() => void this.statements.markDelivered.run({ at, providerRef }));
  }

  markRead(providerRef: string, at: number): Promise<void> {
    return this.write(() => void this.statements.markRead.run({ at, providerRef }));
  }

  markUndeliverable(providerRef: string, at: number): Promise<boolean> {
    // Matched (even when marked before: a re-run follow-up reports again) unless it was read.
    return this.write(() => this.statements.markUndeliverable.run({ at, providerRef }).changes === 1 || this.statements.findRead.get(providerRef) === undefined);
  }

  async findHandsetMessage(apiKey: string, messageUuid: string): Promise<HandsetMessage | undefined> {
    const row = this.statements.findByMessage.get(apiKey, messageUuid) as HandsetRow | undefined;
    return row && toHandset(row);
  }

  async listHandsetMessages(apiKey: string, filter: HandsetFilter, page: HandsetPage): Promise<{ items: HandsetMessage[]; next?: string }> {
    const [afterAt, afterSeq] = page.after === undefined ? [null, null] : page.after.split('.').map(Number);
    const query = this.listQuery(filter);
    const items: HandsetMessage[] = [];
    let bytes = 0;
    let last: HandsetRow | undefined;
    let more = false;
    // Rows are read one at a time and the iteration stops at the budget: a page of huge
    // messages costs what the answer holds, never what the table holds.
    for (const row of query.iterate({ apiKey, channel: filter.channel ?? null, to: filter.to ?? null, afterAt, afterSeq }) as IterableIterator<HandsetRow>) {
      const size = Buffer.byteLength(row.body);
      if (items.length >= page.limit || (items.length > 0 && bytes + size > page.maxBytes)) {
        more = true;
        break;
      }
      bytes += size;
      items.push(toHandset(row));
      last = row;
    }
    return more && last ? { items, next: `${last.received_at}.${last.seq}` } : { items };
  }

  isCursor(cursor: string): boolean {
    return /^\d{1,16}\.\d{1,16}$/.test(cursor);
  }

  /** One statement per filter, each with an index whose order is the listing's (an `@x IS NULL OR` filter would defeat it). */
  private listQuery(filter: HandsetFilter) {
    if (filter.channel !== undefined && filter.to !== undefined) return this.statements.listByPhone;
    if (filter.channel !== undefined) return this.statements.listByChannel;
    if (filter.to !== undefined) return this.statements.listByAddress;
    return this.statements.listByAccount;
  }

  async close(): Promise<void> {
    // Nothing of its own: the connection and its group commit are lent, and their owner flushes and closes them.
  }
}

/** Newest first; a cursor (received_at, seq) continues after the last row of the previous page. */
const AFTER_CURSOR = '(@afterAt IS NULL OR received_at < @afterAt OR (received_at = @afterAt AND seq < @afterSeq))';

function prepareStatements(db: Database.Database) {
  return {
    putScript: db.prepare(`INSERT INTO sandbox_recipients (api_key, channel, address, script, updated_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (api_key, channel, address) DO UPDATE SET script = excluded.script, updated_at = excluded.updated_at`),
    findScript: db.prepare('SELECT script FROM sandbox_recipients WHERE api_key = ? AND channel = ? AND address = ?'),
    insertArrival: db.prepare(`INSERT INTO sandbox_handsets (provider_ref, message_uuid, api_key, channel, to_value, to_address, from_address,
      body, received_at, times_received)
      VALUES (@providerRef, @messageUuid, @apiKey, @channel, @toValue, @toAddress, @fromAddress, @body, @receivedAt, @timesReceived)
      ON CONFLICT (provider_ref) DO NOTHING`),
    // Each mark keeps its first instant; a failed message is never marked delivered or read.
    markDelivered: db.prepare(`UPDATE sandbox_handsets SET delivered_at = coalesce(delivered_at, @at)
      WHERE provider_ref = @providerRef AND undeliverable_at IS NULL`),
    markRead: db.prepare(`UPDATE sandbox_handsets SET read_at = coalesce(read_at, @at), delivered_at = coalesce(delivered_at, @at)
      WHERE provider_ref = @providerRef AND undeliverable_at IS NULL`),
    markUndeliverable: db.prepare(`UPDATE sandbox_handsets SET undeliverable_at = coalesce(undeliverable_at, @at)
      WHERE provider_ref = @providerRef AND read_at IS NULL`),
    findRead: db.prepare('SELECT 1 FROM sandbox_handsets WHERE provider_ref = ? AND read_at IS NOT NULL'),
    findByMessage: db.prepare('SELECT * FROM sandbox_handsets WHERE api_key = ? AND message_uuid = ? ORDER BY seq DESC LIMIT 1'),
    listByPhone: db.prepare(`SELECT * FROM sandbox_handsets WHERE api_key = @apiKey AND channel = @channel AND to_value = @to
      AND ${AFTER_CURSOR} ORDER BY received_at DESC, seq DESC`),
    listByChannel: db.prepare(`SELECT * FROM sandbox_handsets WHERE api_key = @apiKey AND channel = @channel
      AND ${AFTER_CURSOR} ORDER BY received_at DESC, seq DESC`),
    listByAddress: db.prepare(`SELECT * FROM sandbox_handsets WHERE api_key = @apiKey AND to_value = @to
      AND ${AFTER_CURSOR} ORDER BY received_at DESC, seq DESC`),
    listByAccount: db.prepare(`SELECT * FROM sandbox_handsets WHERE api_key = @apiKey AND ${AFTER_CURSOR}
      ORDER BY received_at DESC, seq DESC`),
  };
}

const MIGRATIONS: ReadonlyArray<{ version: number; name: string; up(db: Database.Database): void }> = [
  {
    version: 1,
    name: 'handsets',
    up(db) {
      // sandbox_recipients predates these migrations (the Store's 001 created it): kept as it is.
      db.exec(`
        CREATE TABLE IF NOT EXISTS sandbox_recipients (
          api_key    TEXT NOT NULL,
          channel    TEXT NOT NULL,
          address    TEXT NOT NULL,
          script     TEXT NOT NULL,
          updated_at INTEGER NOT NULL,
          PRIMARY KEY (api_key, channel, address)
        );
        CREATE TABLE sandbox_handsets (
          seq              INTEGER PRIMARY KEY,
          provider_ref     TEXT NOT NULL UNIQUE,
          message_uuid     TEXT NOT NULL,
          api_key          TEXT NOT NULL,
          channel          TEXT NOT NULL,
          to_value         TEXT NOT NULL,
          to_address       TEXT NOT NULL,
          from_address     TEXT NOT NULL,
          body             TEXT NOT NULL,
          received_at      INTEGER NOT NULL,
          delivered_at     INTEGER,
          read_at          INTEGER,
          undeliverable_at INTEGER,
          times_received   INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX sandbox_handsets_by_phone ON sandbox_handsets(api_key, channel, to_value, received_at);
        CREATE INDEX sandbox_handsets_by_address ON sandbox_handsets(api_key, to_value, received_at);
        CREATE INDEX sandbox_handsets_by_account ON sandbox_handsets(api_key, received_at);
        CREATE INDEX sandbox_handsets_by_message ON sandbox_handsets(message_uuid);
      `);
      adoptLegacyHandsets(db);
    },
  },
];

/**
 * Before its own migrations the sandbox kept handsets in `sandbox_messages`, keyed by the message
 * uuid (which was then its provider reference), with the status in the gateway's messages table.
 */
function adoptLegacyHandsets(db: Database.Database): void {
  const exists = (table: string) => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
  if (!exists('sandbox_messages')) return;
  const status = exists('messages') ? '(SELECT status FROM messages WHERE uuid = legacy.message_uuid)' : 'NULL';
  const statusAt = exists('messages') ? '(SELECT updated_at FROM messages WHERE uuid = legacy.message_uuid)' : 'NULL';
  db.exec(`
    INSERT INTO sandbox_handsets (provider_ref, message_uuid, api_key, channel, to_value, to_address, from_address, body,
      received_at, delivered_at, read_at, undeliverable_at, times_received)
    SELECT message_uuid, message_uuid, api_key, channel, to_value, to_address, from_address, body, received_at,
      CASE WHEN read_at IS NOT NULL THEN read_at WHEN ${status} = 'delivered' THEN ${statusAt} END,
      read_at,
      CASE WHEN ${status} = 'undeliverable' THEN ${statusAt} END,
      times_received
    FROM sandbox_messages AS legacy;
    DROP TABLE sandbox_messages;
  `);
}

function migrate(db: Database.Database, now: number): void {
  db.exec('CREATE TABLE IF NOT EXISTS sandbox_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const applied = new Set((db.prepare('SELECT version FROM sandbox_schema_migrations').all() as Array<{ version: number }>).map((r) => r.version));
  const record = db.prepare('INSERT INTO sandbox_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      migration.up(db);
      record.run(migration.version, migration.name, now);
    })();
  }
}
