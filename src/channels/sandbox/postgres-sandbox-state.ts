import type pg from 'pg';
import { addressValue } from '../../core/channel.js';
import { migratePostgres, type PostgresMigration } from '../../store/postgres/migrate.js';
import { rethrowUnavailable } from '../../store/postgres/postgres-pool.js';
import type { HandsetArrival, HandsetFilter, HandsetMessage, HandsetPage, RecipientKey, SandboxState } from './sandbox-state.js';
import { toHandset, type HandsetRow } from './handset-row.js';

/** Rows read per round trip while a page fills up to its byte budget. */
const LIST_CHUNK = 50;

/**
 * The sandbox network's state in PostgreSQL, in tables of its own with their own migrations
 * (table `sandbox_schema_migrations`), on the pool the server lends. Every node of a cluster
 * sees the same handsets and scripts: a recipient scripted through one node behaves so on all.
 */
export class PostgresSandboxState implements SandboxState {
  private constructor(private readonly pool: pg.Pool) {}

  /** `pool` stays its owner's: closing the state leaves it open. */
  static async open(pool: pg.Pool, now: number): Promise<PostgresSandboxState> {
    await migratePostgres(pool, 'sandbox_schema_migrations', MIGRATIONS, now);
    return new PostgresSandboxState(pool);
  }

  async putScript(scope: RecipientKey, script: Record<string, unknown>, at: number): Promise<void> {
    await this.query(
      `INSERT INTO sandbox_recipients (api_key, channel, address, script, updated_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (api_key, channel, address) DO UPDATE SET script = excluded.script, updated_at = excluded.updated_at`,
      [scope.apiKey, scope.channel, scope.address, JSON.stringify(script), at],
    );
  }

  async findScript(scope: RecipientKey): Promise<unknown | undefined> {
    const { rows } = await this.query({
      name: 'sandbox_find_script',
      text: 'SELECT script FROM sandbox_recipients WHERE api_key = $1 AND channel = $2 AND address = $3',
      values: [scope.apiKey, scope.channel, scope.address],
    });
    return rows[0] && JSON.parse(rows[0].script);
  }

  async recordArrival(arrival: HandsetArrival): Promise<void> {
    await this.query({
      name: 'sandbox_record_arrival',
      text: `INSERT INTO sandbox_handsets (provider_ref, message_uuid, api_key, channel, to_value, to_address, from_address, body, received_at, times_received)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (provider_ref) DO NOTHING`,
      values: [
        arrival.providerRef,
        arrival.messageUuid,
        arrival.apiKey,
        arrival.channel,
        addressValue(arrival.to),
        JSON.stringify(arrival.to),
        JSON.stringify(arrival.from),
        JSON.stringify(arrival.message),
        arrival.receivedAt,
        arrival.timesReceived,
      ],
    });
  }

  // Each mark keeps its first instant; a failed message is never marked delivered or read.
  async markDelivered(providerRef: string, at: number): Promise<void> {
    await this.mark('sandbox_mark_delivered', 'delivered_at = coalesce(delivered_at, $2) WHERE provider_ref = $1 AND undeliverable_at IS NULL', providerRef, at);
  }

  async markRead(providerRef: string, at: number): Promise<void> {
    await this.mark('sandbox_mark_read', 'read_at = coalesce(read_at, $2), delivered_at = coalesce(delivered_at, $2) WHERE provider_ref = $1 AND undeliverable_at IS NULL', providerRef, at);
  }

  async markUndeliverable(providerRef: string, at: number): Promise<boolean> {
    // Matched (even when marked before: a re-run follow-up reports again) unless it was read.
    if ((await this.mark('sandbox_mark_undeliverable', 'undeliverable_at = coalesce(undeliverable_at, $2) WHERE provider_ref = $1 AND read_at IS NULL', providerRef, at)) === 1) return true;
    const read = await this.query({ name: 'sandbox_find_read', text: 'SELECT 1 FROM sandbox_handsets WHERE provider_ref = $1 AND read_at IS NOT NULL', values: [providerRef] });
    return read.rows.length === 0;
  }

  private async mark(name: string, setAndWhere: string, providerRef: string, at: number): Promise<number> {
    return (await this.query({ name, text: `UPDATE sandbox_handsets SET ${setAndWhere}`, values: [providerRef, at] })).rowCount ?? 0;
  }

  async findHandsetMessage(apiKey: string, messageUuid: string): Promise<HandsetMessage | undefined> {
    const { rows } = await this.query<HandsetRow>({
      name: 'sandbox_find_handset',
      text: 'SELECT * FROM sandbox_handsets WHERE api_key = $1 AND message_uuid = $2 ORDER BY seq DESC LIMIT 1',
      values: [apiKey, messageUuid],
    });
    return rows[0] && toHandset(rows[0]);
  }

  async listHandsetMessages(apiKey: string, filter: HandsetFilter, page: HandsetPage): Promise<{ items: HandsetMessage[]; next?: string }> {
    const items: HandsetMessage[] = [];
    let bytes = 0;
    let cursor = page.after === undefined ? undefined : page.after.split('.').map(Number);
    let last: HandsetRow | undefined;
    // Read in chunks until the page is full: a page of huge messages costs what the answer holds, never what the table holds.
    for (;;) {
      const chunk = await this.listChunk(apiKey, filter, cursor, Math.min(LIST_CHUNK, page.limit + 1));
      for (const row of chunk) {
        const size = Buffer.byteLength(row.body);
        if (items.length >= page.limit || (items.length > 0 && bytes + size > page.maxBytes)) return { items, next: `${last!.received_at}.${last!.seq}` };
        bytes += size;
        items.push(toHandset(row));
        last = row;
      }
      if (chunk.length === 0) return { items };
      cursor = [last!.received_at, last!.seq];
    }
  }

  private async listChunk(apiKey: string, filter: HandsetFilter, after: number[] | undefined, limit: number): Promise<HandsetRow[]> {
    const conditions = ['api_key = $1'];
    const values: unknown[] = [apiKey];
    if (filter.channel !== undefined) conditions.push(`channel = $${values.push(filter.channel)}`);
    if (filter.to !== undefined) conditions.push(`to_value = $${values.push(filter.to)}`);
    if (after !== undefined) conditions.push(`(received_at, seq) < ($${values.push(after[0])}, $${values.push(after[1])})`);
    const { rows } = await this.query<HandsetRow>(
      `SELECT * FROM sandbox_handsets WHERE ${conditions.join(' AND ')} ORDER BY received_at DESC, seq DESC LIMIT $${values.push(limit)}`,
      values,
    );
    return rows;
  }

  isCursor(cursor: string): boolean {
    return /^\d{1,16}\.\d{1,16}$/.test(cursor);
  }

  /** A database that cannot be reached is OD_DATABASE_UNAVAILABLE, as in the store. */
  private query<Row extends pg.QueryResultRow = pg.QueryResultRow>(query: string | pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult<Row>> {
    return this.pool.query<Row>(query as pg.QueryConfig, values).catch(rethrowUnavailable);
  }

  async close(): Promise<void> {
    // Nothing of its own: the pool is lent, and its owner ends it.
  }
}

const MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'handsets',
    sql: `
      CREATE TABLE sandbox_recipients (
        api_key    text NOT NULL,
        channel    text NOT NULL,
        address    text NOT NULL,
        script     text NOT NULL,
        updated_at bigint NOT NULL,
        PRIMARY KEY (api_key, channel, address)
      );
      CREATE TABLE sandbox_handsets (
        seq              bigserial PRIMARY KEY,
        provider_ref     text NOT NULL UNIQUE,
        message_uuid     text NOT NULL,
        api_key          text NOT NULL,
        channel          text NOT NULL,
        to_value         text NOT NULL,
        to_address       text NOT NULL,
        from_address     text NOT NULL,
        body             text NOT NULL,
        received_at      bigint NOT NULL,
        delivered_at     bigint,
        read_at          bigint,
        undeliverable_at bigint,
        times_received   integer NOT NULL DEFAULT 1
      );
      CREATE INDEX sandbox_handsets_by_phone ON sandbox_handsets(api_key, channel, to_value, received_at, seq);
      CREATE INDEX sandbox_handsets_by_address ON sandbox_handsets(api_key, to_value, received_at, seq);
      CREATE INDEX sandbox_handsets_by_account ON sandbox_handsets(api_key, received_at, seq);
      CREATE INDEX sandbox_handsets_by_message ON sandbox_handsets(message_uuid);
    `,
  },
];
