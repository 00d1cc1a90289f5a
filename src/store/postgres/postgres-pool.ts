import pg from 'pg';

/** PostgreSQL's type ids whose text the adapter reads as numbers: bigint (times in ms, ids, counts). */
const INT8_OID = 20;

export interface PostgresPoolOptions {
  url: string;
  /** Connections this node keeps at most (docs/operations.md sizes them). */
  max?: number;
  /** Fails a connect that takes longer, so a database that went away gives an error, not a hang. */
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
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
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
  if (code === undefined) return error instanceof Error && /Connection terminated|timeout exceeded when trying to connect/i.test(error.message);
  // 57P01-57P03: admin shutdown, crash shutdown, cannot connect now; 08xxx: connection exceptions.
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P02', '57P03'].includes(code) || code.startsWith('08');
}
