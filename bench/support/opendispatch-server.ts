/**
 * Child entry: a real OpenDispatch server (`startServer`, as `opendispatch start` runs it) on a
 * SQLite file in the directory the parent made, or on the PostgreSQL database it names, with the
 * Store port's methods wrapped to count transactions, statements and claimed jobs. The parent
 * owns the directory (and the database) and removes it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createAccount } from '../../src/engine/accounts/create-account.js';
import { VirtualClock } from '../../src/engine/clock.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger, startServer } from '../../src/server.js';
import type { ChangeSet, Store } from '../../src/store/store.js';
import type { ClaimedJob } from '../../src/core/records.js';
import { childArgs, reportStartFailure, serveParent } from './child-runtime.js';
import type { StoreCounters } from './protocol.js';

export interface OpenDispatchChildArgs {
  dataDir: string;
  clock: 'real' | 'virtual';
  /** Config-file content (engine, sandbox…), written to dataDir/config.json. */
  configFile?: Record<string, unknown>;
  logLevel: string;
  /** Seeded first account (OPENDISPATCH_API_KEY / _SECRET). */
  apiKey: string;
  apiSecret: string;
  /** When set, a second account whose default status/inbound URL is this is created and used. */
  webhookUrl?: string;
  /** Stop the job engine after start: only the accept path runs (an isolation experiment). */
  engine: 'on' | 'off';
  /** A postgres:// URL shared with other nodes; default: a SQLite file in dataDir. */
  database?: string;
  /**
   * The virtual clock's start (ms): nodes of one database given the same start keep the same
   * time as long as they are advanced together. (The configuration refuses a virtual clock on
   * PostgreSQL; the benchmark, like the tests, hands one in as an embedder may.)
   */
  virtualStartMs?: number;
}

const args = childArgs<OpenDispatchChildArgs>();

try {
  let configPath: string | undefined;
  if (args.configFile) {
    configPath = join(args.dataDir, 'config.json');
    writeFileSync(configPath, JSON.stringify(args.configFile));
  }
  const database = args.database ?? `sqlite:${join(args.dataDir, 'bench.db')}`;
  const handedIn = args.clock === 'virtual' && database.startsWith('postgres');
  const config = loadConfig(
    { port: 0, host: '127.0.0.1', database, clock: handedIn ? 'real' : args.clock, config: configPath },
    { OPENDISPATCH_API_KEY: args.apiKey, OPENDISPATCH_API_SECRET: args.apiSecret, LOG_LEVEL: args.logLevel },
  );
  const server = await startServer(config, { log: createLogger(config), ...(handedIn && { clock: new VirtualClock(args.virtualStartMs) }) });
  if (args.engine === 'off') await server.engine.stop();

  let credentials = { apiKey: args.apiKey, apiSecret: args.apiSecret };
  if (args.webhookUrl) {
    const account = await createAccount(server.store, { statusUrl: args.webhookUrl, inboundUrl: args.webhookUrl }, server.clock.wallNow());
    credentials = { apiKey: account.apiKey, apiSecret: account.apiSecret };
  }
  let counters = newCounters();
  countStoreCalls(server.store, () => counters);
  let ranWhereMadeAtMark = server.engine.jobsStarted().whereMade;

  serveParent(
    { url: server.url, basicAuth: `Basic ${Buffer.from(`${credentials.apiKey}:${credentials.apiSecret}`).toString('base64')}` },
    {
      onMark: () => {
        counters = newCounters();
        ranWhereMadeAtMark = server.engine.jobsStarted().whereMade;
      },
      extraStats: async () => ({ store: counters, jobsLeft: await server.store.countJobs(), ranWhereMadeByKind: since(ranWhereMadeAtMark, server.engine.jobsStarted().whereMade) }),
      close: () => server.close(),
    },
  );
} catch (error) {
  reportStartFailure(error);
}

function since(before: Record<string, number>, now: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(now).map(([kind, count]) => [kind, count - (before[kind] ?? 0)]));
}

function newCounters(): StoreCounters {
  return { calls: {}, ms: {}, maxMs: {}, transactions: 0, conflicts: 0, statements: 0, claimedByKind: {} };
}

/**
 * Wraps every method of the store instance. The engine, the API and the sandbox all hold this
 * same object, so every call is seen; the cost is a counter and two clock reads per call.
 * Calls made from inside another store call (the adapter's private helpers) are not counted.
 */
function countStoreCalls(store: Store, counters: () => StoreCounters): void {
  const target = store as unknown as Record<string, unknown>;
  let depth = 0;
  const names = new Set<string>();
  for (let proto = Object.getPrototypeOf(store); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) if (name !== 'constructor') names.add(name);
  }
  for (const name of names) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    target[name] = function (this: unknown, ...callArgs: unknown[]) {
      if (depth > 0) return (original as (...a: unknown[]) => unknown).apply(store, callArgs);
      const c = counters();
      c.calls[name] = (c.calls[name] ?? 0) + 1;
      const startedAt = performance.now();
      let result: unknown;
      depth += 1;
      try {
        result = (original as (...a: unknown[]) => unknown).apply(store, callArgs);
      } finally {
        depth -= 1;
      }
      const tookMs = performance.now() - startedAt;
      c.ms[name] = (c.ms[name] ?? 0) + tookMs;
      if (tookMs > (c.maxMs[name] ?? 0)) c.maxMs[name] = tookMs;
      if (name === 'commit') {
        const change = callArgs[0] as ChangeSet;
        return (result as Promise<string>).then((outcome) => {
          c.transactions += 1;
          if (outcome === 'conflict') c.conflicts += 1;
          else c.statements += statementsOf(change);
          return outcome;
        });
      }
      if (name === 'claimJobs') {
        return (result as Promise<ClaimedJob[]>).then((jobs) => {
          for (const job of jobs) c.claimedByKind[job.kind] = (c.claimedByKind[job.kind] ?? 0) + 1;
          return jobs;
        });
      }
      return result;
    };
  }
}

/** Row statements a committed change set runs (see SqliteStore.apply). */
function statementsOf(change: ChangeSet): number {
  const n = (list?: unknown[]) => list?.length ?? 0;
  return (
    (change.complete ? 1 : 0) +
    (change.reschedule ? 1 : 0) +
    n(change.dispatches) +
    n(change.dispatchUpdates) +
    n(change.messages) +
    n(change.messageUpdates) +
    n(change.events) +
    n(change.sendAttempts) +
    n(change.webhooks) +
    n(change.webhookUpdates) +
    n(change.webhookAttempts) +
    n(change.jobs) +
    n(change.cancelJobKeys) +
    n(change.inbox) +
    n(change.inboxTaken) +
    n(change.inboxExpired) +
    Object.keys(change.counters ?? {}).length +
    (change.release ? 1 : 0)
  );
}
