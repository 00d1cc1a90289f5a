import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { JobsAdded } from '../store.js';

/** Reconnect backoff of the listening connection. */
const RECONNECT_MIN_MS = 200;
const RECONNECT_MAX_MS = 5000;

interface Notice {
  node: string;
  earliestDueAt: number;
  lanes: string[];
}

/**
 * LISTEN/NOTIFY as a wake-up hint between nodes: a commit that adds jobs notifies (inside its
 * transaction, so the hint arrives only once the jobs are visible), and every other node's
 * workers look at once instead of at their next poll. Only a hint: polling stays the truth, so a
 * lost notification or a dropped listening connection delays work by at most a poll interval.
 * The channel is named after the schema, so nodes of different schemas in one database keep apart.
 */
export class JobNotifications {
  private readonly node = randomUUID();
  private client: pg.Client | undefined;
  private stopped = false;
  private reconnectMs = RECONNECT_MIN_MS;
  private reconnectTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly connection: pg.ClientConfig,
    private readonly channel: string,
    private readonly onNotice: (added: JobsAdded) => void,
  ) {}

  static async start(pool: pg.Pool, onNotice: (added: JobsAdded) => void): Promise<JobNotifications> {
    const schema = (await pool.query<{ schema: string }>('SELECT current_schema() AS schema')).rows[0]!.schema;
    const notifications = new JobNotifications(pool.options, `opendispatch_jobs.${schema}`.slice(0, 63), onNotice);
    await notifications.listen();
    return notifications;
  }

  /** The hint for `added`, for the committing transaction to send with pg_notify: delivered at its commit, dropped with its rollback. */
  notice(added: JobsAdded): { channel: string; payload: string } {
    const notice: Notice = { node: this.node, earliestDueAt: added.earliestDueAt, lanes: [...added.lanes] };
    return { channel: this.channel, payload: JSON.stringify(notice) };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    await this.client?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    const client = new pg.Client(this.connection);
    client.on('error', () => this.dropped(client));
    client.on('end', () => this.dropped(client));
    client.on('notification', (message) => this.received(message.payload));
    this.client = client;
    await client.connect();
    await client.query(`LISTEN "${this.channel}"`);
    this.reconnectMs = RECONNECT_MIN_MS;
  }

  private received(payload: string | undefined): void {
    if (payload === undefined) return;
    const notice = JSON.parse(payload) as Notice;
    if (notice.node === this.node) return; // this node's engine heard of its own jobs at commit
    this.onNotice({ earliestDueAt: notice.earliestDueAt, lanes: new Set(notice.lanes) });
  }

  /** The listening connection broke (the database restarted): listen again, backing off. */
  private dropped(client: pg.Client): void {
    if (this.stopped || this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    const delay = this.reconnectMs;
    this.reconnectMs = Math.min(RECONNECT_MAX_MS, this.reconnectMs * 2);
    this.reconnectTimer = setTimeout(() => {
      this.listen().catch(() => this.client && this.dropped(this.client));
    }, delay);
  }
}
