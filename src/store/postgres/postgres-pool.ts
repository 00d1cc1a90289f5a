import pg from 'pg';
import { OpenDispatchError } from '../../core/errors.js';

/** PostgreSQL's type ids whose text the adapter reads as numbers: bigint (times in ms, ids, counts). */
const INT8_OID = 20;

export interface PostgresPoolOptions {
  url: string;
  /** Connections this node keeps at most (docs/operations.md sizes them). */
  max?: number;
  /**
   * Fails a query that waited this long for a connection (a free one in the pool, or a new one
   * to the database), so a database that went away gives an error, not a hang. Long next to a
   * transaction: under a burst, waiting for a free connection is queueing, not an outage.
   */
  connectTimeoutMs?: number;
}

/**
 * One pool per node for the store and the sandbox. Times are integer milliseconds in `bigint`
 * columns: read back as numbers (they stay far below 2^53). A connection that breaks while idle
 * is dropped by the pool (the 'error' listener keeps that from crashing the process); the next
 * query opens a fresh one, so a restarted database is picked up without a restart of ours.
 */
export function createPostgresPool(options: PostgresPoolOptions, onIdleError: (error: Error) => void): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    // A statement that waits on a lock longer than this is a bug or an outage: fail it instead of hanging a request.
    statement_timeout: 30_000,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  pool.on('error', onIdleError);
  return pool;
}

/** Whether an error means the database cannot be reached (down, restarting, refusing connections). */
export function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  if (code === 'OD_DATABASE_UNAVAILABLE') return true;
  if (code === undefined) return error instanceof Error && /Connection terminated|timeout exceeded when trying to connect/i.test(error.message);
  // 57P01-57P03: admin shutdown, crash shutdown, cannot connect now; 08xxx: connection exceptions.
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P02', '57P03'].includes(code) || code.startsWith('08');
}

/**
 * Rethrows what the driver says about a database it cannot reach as OD_DATABASE_UNAVAILABLE, so
 * the API answers 503 (try again) instead of 500, and callers need not know the driver's codes.
 */
export function rethrowUnavailable(error: unknown): never {
  if (isUnavailable(error) && !(error instanceof OpenDispatchError)) {
    throw Object.assign(new OpenDispatchError('OD_DATABASE_UNAVAILABLE', 'the database cannot be reached'), { cause: error });
  }
  throw error;
}

/**
 * Runs `work` on a connection of its own from the pool. The pool listens for a connection's
 * errors only while it is idle: a checked-out one that breaks (the database restarted) would
 * raise an uncaught 'error'. Listened to here; a broken connection is discarded on release,
 * never handed out again.
 */
export async function withConnection<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect().catch(rethrowUnavailable);
  let broken: Error | undefined;
  const onError = (error: Error) => (broken = error);
  client.on('error', onError);
  try {
    return await work(client);
  } catch (error) {
    if (isUnavailable(error)) broken ??= error as Error;
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}
