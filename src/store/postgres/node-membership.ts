import pg from 'pg';
import type { JobsAdded } from '../store.js';

/**
 * A node writes its heartbeat this often; one not seen for NODE_TIMEOUT_MS is dead, and any
 * node frees its leases. The heartbeat has a connection of its own, so a pool busy with a
 * burst never delays it. A node declared dead while alive (its event loop stalled for seconds)
 * loses its leases: its completions are then refused by their fences, so work may run twice and
 * nothing is lost. Short next to a failover's expiry (15 s at least): a dead node's receipts
 * and timers are rescued before the workflow would wrongly time out on them.
 */
const HEARTBEAT_MS = 1500;
export const NODE_TIMEOUT_MS = 6000;

/** The database's clock, in milliseconds since the epoch: the one clock all nodes agree on. */
export const DATABASE_NOW = 'floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint';

/**
 * This node's row in `nodes`, kept fresh by its heartbeat, and the rescue of dead nodes' leases
 * that every node runs with each beat (a second run finds nothing: the dead node's row goes in
 * the statement that frees its leases).
 */
export class NodeMembership {
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private liveNodes = 0;

  constructor(
    private readonly connection: pg.ClientConfig,
    readonly nodeId: string,
    private readonly listeners: { onRescued: (freed: JobsAdded) => void; onNodesChanged: (liveNodes: number) => void },
  ) {}

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      this.round ??= this.beat()
        .catch(() => undefined) // the database is away: the next beat tries again
        .finally(() => (this.round = undefined));
    }, HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Leaves the table: a node that stops cleanly has finished or released its jobs. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.round;
    await this.client?.query('DELETE FROM nodes WHERE id = $1', [this.nodeId]).catch(() => undefined);
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }

  private async beat(): Promise<void> {
    const client = await this.connected();
    const seen = await client.query(`UPDATE nodes SET seen_at = ${DATABASE_NOW} WHERE id = $1`, [this.nodeId]);
    // New, or declared dead by the others while it stalled (its leases were freed): joins anew.
    if (seen.rowCount === 0) {
      await client.query(`INSERT INTO nodes (id, started_at, seen_at) VALUES ($1, ${DATABASE_NOW}, ${DATABASE_NOW}) ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at`, [this.nodeId]);
    }
    const freed = await client.query<{ lane: string; due_at: number }>(
      `WITH dead AS (DELETE FROM nodes WHERE seen_at < ${DATABASE_NOW} - $1 RETURNING id)
       UPDATE jobs SET lease_owner = NULL, lease_node = NULL, lease_expires_at = NULL FROM dead WHERE jobs.lease_node = dead.id
       RETURNING jobs.lane, jobs.due_at`,
      [NODE_TIMEOUT_MS],
    );
    if (freed.rows.length > 0) this.listeners.onRescued({ earliestDueAt: Math.min(...freed.rows.map((row) => row.due_at)), lanes: new Set(freed.rows.map((row) => row.lane)) });
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::integer AS n FROM nodes');
    if (rows[0]!.n !== this.liveNodes) {
      this.liveNodes = rows[0]!.n;
      this.listeners.onNodesChanged(this.liveNodes);
    }
  }

  private async connected(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client(this.connection);
    // A broken connection is dropped; the next beat opens another.
    client.on('error', () => {
      if (this.client === client) this.client = undefined;
      client.end().catch(() => undefined);
    });
    await client.connect().catch((error: unknown) => {
      client.end().catch(() => undefined);
      throw error;
    });
    this.client = client;
    return client;
  }
}
