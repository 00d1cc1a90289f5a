/**
 * Accept benchmark (DESIGN §5, first target): how fast dispatches are accepted, durably
 * committed before the 202, compared with a bare Fastify route in the same run.
 *
 *   node dist/bench/accept.js
 *
 * Targets, each server in its own child process, one after the other, loaded by autocannon
 * from this process with the same number of connections:
 *   bare       a Fastify route that parses the same JSON body and answers 202 {dispatch_uuid}
 *   dispatch   POST /v0.1/dispatch, the tutorial body and its application JWT (one token for
 *              the run, as the tutorial's `$JWT`), SQLite file, real clock
 *   dispatch, Basic auth   the same with the account's key and secret
 *   messages   POST /v0.1/messages v0.1 (Messenger text, JWT), for comparison
 *   dispatch, engine stopped   the accept path alone (no send jobs run), to separate its cost
 *   dispatch on PostgreSQL     one node, and three nodes on one schema with the connections spread over them
 *   dispatch with webhooks     the account has a status URL, so each dispatch also sends its
 *                              `submitted` webhook: to a receiver (a child) that answers at once,
 *                              one that answers in 50 ms, one that fails every second request.
 *                              The fan-out target: the last two cost at most 10 % against the first.
 *
 * The sandbox recipients are scripted silent, so the background work per accepted dispatch is
 * its step-0 send job (handset row + `submitted` with the expiry timer; no webhook, because the
 * Basic-auth account has no default status URL); the 600 s timers never come due in the run.
 *
 * Env: BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (2), BENCH_CONNECTIONS (50),
 *      BENCH_ACCEPT_TARGETS (bare,dispatch,messages,dispatch-engine-off,dispatch-postgres,dispatch-postgres-3),
 *      BENCH_LOG_LEVEL (warn),
 *      BENCH_CPU_PROF=DIR (write a CPU profile of each server child there).
 */
import { startChild, type BenchChild } from './support/child.js';
import {
  childExecArgv,
  cpuMsOf,
  databaseCpuMeter,
  envChoice,
  envNumber,
  expectStatus,
  fmt,
  isMain,
  machineBusyMs,
  machineLine,
  messengerMessageBody,
  otherLoadShare,
  serverChildArgs,
  table,
  tempDir,
  TUTORIAL_IDS,
  tutorialDispatchBody,
} from './support/common.js';
import { generateApplicationJwt } from '../src/cli/generate-jwt.js';
import { createTestSchema } from '../test/support/postgres-schema.js';
import { runLoad, type LoadResult } from './support/load.js';
import type { OpenDispatchChildArgs } from './support/opendispatch-server.js';
import type { ReceiverArgs } from './support/receiver-server.js';
import type { ChildStats } from './support/protocol.js';
import { renderStoreTime } from './support/store-report.js';

export type AcceptTarget =
  | 'bare'
  | 'dispatch'
  | 'dispatch-basic'
  | 'messages'
  | 'dispatch-engine-off'
  | 'dispatch-postgres'
  | 'dispatch-postgres-3'
  | 'dispatch-webhooks'
  | 'dispatch-webhooks-slow'
  | 'dispatch-webhooks-failing';
const ALL_TARGETS: readonly AcceptTarget[] = [
  'bare',
  'dispatch',
  'dispatch-basic',
  'messages',
  'dispatch-engine-off',
  'dispatch-postgres',
  'dispatch-postgres-3',
  'dispatch-webhooks',
  'dispatch-webhooks-slow',
  'dispatch-webhooks-failing',
];
/** Nodes of the PostgreSQL targets (one schema, each node its own child; the load spread over them). */
const NODES: Partial<Record<AcceptTarget, number>> = { 'dispatch-postgres': 1, 'dispatch-postgres-3': 3 };
/** The webhook receivers of the fan-out targets (each a child process): how they answer. */
const RECEIVERS: Partial<Record<AcceptTarget, ReceiverArgs>> = {
  'dispatch-webhooks': { delayMs: 0, failHalf: false },
  'dispatch-webhooks-slow': { delayMs: 50, failHalf: false },
  'dispatch-webhooks-failing': { delayMs: 0, failHalf: true },
};

export interface AcceptOptions {
  seconds: number;
  warmupSeconds: number;
  connections: number;
  targets: AcceptTarget[];
  logLevel: string;
}

export interface TargetResult {
  target: AcceptTarget;
  label: string;
  load: LoadResult;
  /** 2xx responses per second. */
  rps: number;
  server: ChildStats;
  /** CPU time of every server node during the run (the first's is in `server` too). */
  nodesCpuMs: number;
  /** CPU time of PostgreSQL's processes during the run (targets on PostgreSQL, on Linux). */
  databaseCpuMs?: number;
  /** Share of the machine's CPU that processes outside this benchmark used during the run. */
  otherLoad?: number;
}

export interface AcceptReport {
  options: AcceptOptions;
  results: TargetResult[];
  /** dispatch rps / bare rps, when both ran. */
  ratio?: number;
  dispatchP99?: number;
  /** The larger accept loss of the slow and the failing receiver against the one that answers at once. */
  fanOutLoss?: number;
}

/** fanOutLoss: the most a slow or failing receiver may cost accept throughput, against one that answers at once. */
export const ACCEPT_TARGETS = { ratio: 0.4, p99Ms: 25, postgresRatio: 0.25, fanOutLoss: 0.1 } as const;

const LABELS: Record<AcceptTarget, string> = {
  bare: '(a) bare Fastify route',
  dispatch: '(b) POST /v0.1/dispatch',
  'dispatch-basic': '(bB) dispatch, Basic auth',
  messages: '(c) POST /v0.1/messages',
  'dispatch-engine-off': '(b0) dispatch, job engine stopped',
  'dispatch-postgres': '(d1) dispatch, PostgreSQL, 1 node',
  'dispatch-postgres-3': '(d3) dispatch, PostgreSQL, 3 nodes',
  'dispatch-webhooks': '(w) dispatch, a webhook each to a receiver',
  'dispatch-webhooks-slow': '(w50) dispatch, the receiver answers in 50 ms',
  'dispatch-webhooks-failing': '(w500) dispatch, the receiver fails half',
};

export function acceptOptionsFromEnv(): AcceptOptions {
  const rawTargets = process.env.BENCH_ACCEPT_TARGETS;
  const targets = rawTargets ? (rawTargets.split(',').map((t) => t.trim()).filter(Boolean) as AcceptTarget[]) : [...ALL_TARGETS];
  for (const target of targets) if (!ALL_TARGETS.includes(target)) throw new Error(`BENCH_ACCEPT_TARGETS: unknown target ${target} (${ALL_TARGETS.join(', ')})`);
  return {
    seconds: envNumber('BENCH_SECONDS', 10, { min: 1 }),
    warmupSeconds: envNumber('BENCH_WARMUP_SECONDS', 2, { min: 0 }),
    connections: envNumber('BENCH_CONNECTIONS', 50, { min: 1, integer: true }),
    targets,
    logLevel: envChoice('BENCH_LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'silent'] as const, 'warn'),
  };
}

export async function runAcceptBenchmark(options: AcceptOptions, log: (line: string) => void = console.log): Promise<AcceptReport> {
  log(`accept benchmark: ${options.connections} connections, ${options.seconds} s per target (+${options.warmupSeconds} s warm-up), log level ${options.logLevel}`);
  log(`${machineLine()}; each server runs alone in its own child process, autocannon in this one (they share the 2 cores)`);
  const results: TargetResult[] = [];
  for (const target of options.targets) {
    log(`  ${LABELS[target]} …`);
    const result = await runTarget(target, options);
    results.push(result);
    log(`    ${fmt.perSec(result.rps)}  p50 ${fmt.ms(result.load.p50)}  p99 ${fmt.ms(result.load.p99)}  non-2xx ${result.load.non2xx}  errors ${result.load.errors}`);
  }
  const bare = results.find((r) => r.target === 'bare');
  const dispatch = results.find((r) => r.target === 'dispatch');
  const fast = results.find((r) => r.target === 'dispatch-webhooks');
  const fanOut = results.filter((r) => r.target === 'dispatch-webhooks-slow' || r.target === 'dispatch-webhooks-failing');
  const report: AcceptReport = {
    options,
    results,
    ...(fast && fanOut.length > 0 && { fanOutLoss: Math.max(...fanOut.map((r) => 1 - r.rps / fast.rps)) }),
    ...(bare && dispatch && { ratio: dispatch.rps / bare.rps }),
    ...(dispatch && { dispatchP99: dispatch.load.p99 }),
  };
  log('');
  log(renderAcceptReport(report));
  return report;
}

async function runTarget(target: AcceptTarget, options: AcceptOptions): Promise<TargetResult> {
  const dir = target === 'bare' ? undefined : tempDir('opendispatch-bench-accept-');
  const nodes = NODES[target];
  const schema = nodes === undefined ? undefined : await createTestSchema('od_bench');
  const others: BenchChild[] = [];
  let child: BenchChild | undefined;
  let receiver: BenchChild | undefined;
  try {
    const receiverArgs = RECEIVERS[target];
    if (receiverArgs) receiver = await startChild({ entry: 'receiver-server.js', args: receiverArgs });
    const childArgs: OpenDispatchChildArgs | Record<string, never> =
      target === 'bare'
        ? {}
        : serverChildArgs({
            dataDir: dir!.path,
            clock: 'real',
            logLevel: options.logLevel,
            engine: target === 'dispatch-engine-off' ? 'off' : 'on',
            ...(schema && { database: schema.url }),
            ...(receiver && { webhookUrl: receiver.ready.url }),
          });
    child = await startChild({ entry: target === 'bare' ? 'bare-server.js' : 'opendispatch-server.js', args: childArgs, execArgv: childExecArgv() });
    const { url, basicAuth } = child.ready;
    // Further nodes on the same database: the first seeded the account, they find it.
    for (let n = 1; n < (nodes ?? 1); n += 1) others.push(await startChild({ entry: 'opendispatch-server.js', args: childArgs, execArgv: childExecArgv() }));
    const urls = [url, ...others.map((other) => other.ready.url)];

    const path = target === 'messages' ? '/v0.1/messages' : '/v0.1/dispatch';
    const body = target === 'messages' ? messengerMessageBody(TUTORIAL_IDS) : tutorialDispatchBody(TUTORIAL_IDS);
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (basicAuth) {
      headers.authorization = target === 'dispatch-basic' ? basicAuth : await applicationBearer(url, basicAuth, receiver?.ready.url);
      // Silent handsets: the step-0 send is the only background work of an accepted request.
      await expectStatus(200, 'PUT', `${url}/sandbox/recipients/messenger/${TUTORIAL_IDS.fbRecipient}`, basicAuth, { silent: true });
      await expectStatus(200, 'PUT', `${url}/sandbox/recipients/sms/${TUTORIAL_IDS.toNumber}`, basicAuth, { silent: true });
    }
    // One request first: a benchmark of 400s would measure nothing.
    const first = await expectStatus(202, 'POST', `${url}${path}`, headers.authorization ?? '', body);
    if (typeof (first.dispatch_uuid ?? first.message_uuid) !== 'string') throw new Error(`unexpected 202 body ${JSON.stringify(first)}`);

    const load = { url: urls.map((nodeUrl) => `${nodeUrl}${path}`), connections: options.connections, headers, body };
    if (options.warmupSeconds > 0) await runLoad({ ...load, seconds: options.warmupSeconds });
    await Promise.all([child, ...others].map((node) => node.mark()));
    const busyBefore = machineBusyMs();
    const databaseCpu = schema ? databaseCpuMeter() : undefined;
    const result = await runLoad({ ...load, seconds: options.seconds });
    const databaseUsedMs = databaseCpu?.();
    const busyAfter = machineBusyMs();
    // The first node's statistics stand for the server columns; CPU counts every node's.
    const server = await child.stats();
    const nodesCpuMs = cpuMsOf([server, ...(await Promise.all(others.map((other) => other.stats())))]);
    // PostgreSQL shares the cores with the nodes: its CPU is part of the cost, not other load.
    const otherLoad =
      schema && databaseUsedMs === undefined
        ? undefined
        : otherLoadShare(busyBefore, busyAfter, result.loadGeneratorCpuMs + nodesCpuMs + (databaseUsedMs ?? 0), result.wallMs);
    return {
      target,
      label: LABELS[target],
      load: result,
      rps: result.ok2xx / result.seconds,
      server,
      nodesCpuMs,
      ...(databaseUsedMs !== undefined && { databaseCpuMs: databaseUsedMs }),
      otherLoad,
    };
  } finally {
    await Promise.all([child, ...others, receiver].map((node) => node?.stop()));
    dir?.cleanup();
    await schema?.drop();
  }
}

/**
 * An application made through the Applications API (the server makes its key pair), its status
 * webhook the receiver's when there is one, and a `Bearer` JWT for it valid for an hour: what
 * the tutorial does with `nexmo app:create` and `nexmo jwt:generate`.
 */
async function applicationBearer(url: string, basicAuth: string, statusUrl: string | undefined): Promise<string> {
  const created = await expectStatus(201, 'POST', `${url}/v2/applications`, basicAuth, {
    name: 'bench',
    capabilities: { messages: { webhooks: { ...(statusUrl && { status_url: { address: statusUrl, http_method: 'POST' } }) } } },
  });
  return `Bearer ${await generateApplicationJwt({ privateKeyPem: created.keys.private_key, applicationId: created.id, ttlSeconds: 3600 })}`;
}

export function renderAcceptReport(report: AcceptReport): string {
  const bare = report.results.find((r) => r.target === 'bare');
  const rows = report.results.map((r) => {
    const cpu = cpuMsOf([r.server]) / r.server.elapsedMs;
    return [
      r.label,
      fmt.perSec(r.rps),
      bare ? fmt.pct(r.rps / bare.rps) : '',
      fmt.ms(r.load.p50),
      fmt.ms(r.load.p99),
      fmt.ms(r.load.max),
      `${r.load.non2xx}/${r.load.errors}`,
      fmt.pct(r.server.eventLoopUtilization),
      fmt.pct(cpu),
      r.databaseCpuMs === undefined ? '' : fmt.pct(r.databaseCpuMs / r.load.wallMs),
      cpuPerRequest(r),
      fmt.pct(r.load.loadGeneratorCpu),
      r.otherLoad === undefined ? '?' : fmt.pct(r.otherLoad),
      r.server.store ? perRequest(r) : '',
    ];
  });
  const lines = [
    table(['target', 'req/s (2xx)', 'vs bare', 'p50', 'p99', 'max', 'non2xx/err', 'server ELU', 'server CPU', 'database CPU', 'CPU µs per 2xx', 'loadgen CPU', 'other load', 'store work per 2xx'], rows),
    '',
    'server ELU: share of the run the server main thread was busy; CPU columns: CPU time / wall time (100 % = one core);',
    'CPU µs per 2xx: the server nodes\' CPU time per accepted request, + PostgreSQL\'s where it is the database;',
    'other load: CPU used by processes outside this benchmark, as a share of the whole machine (above ~10 % the run is noisy).',
  ];
  if (report.ratio !== undefined) {
    const ok = report.ratio >= ACCEPT_TARGETS.ratio;
    lines.push(`dispatch / bare = ${fmt.pct(report.ratio)} (target >= ${fmt.pct(ACCEPT_TARGETS.ratio)}): ${ok ? 'met' : 'MISSED'}`);
  }
  if (report.dispatchP99 !== undefined) {
    const ok = report.dispatchP99 < ACCEPT_TARGETS.p99Ms;
    lines.push(`dispatch p99 = ${fmt.ms(report.dispatchP99)} at ${report.options.connections} connections (target < ${ACCEPT_TARGETS.p99Ms} ms): ${ok ? 'met' : 'MISSED'}`);
  }
  if (report.fanOutLoss !== undefined) {
    const ok = report.fanOutLoss <= ACCEPT_TARGETS.fanOutLoss;
    lines.push(`webhook fan-out: a slow or failing receiver costs accept ${fmt.pct(report.fanOutLoss)} (target <= ${fmt.pct(ACCEPT_TARGETS.fanOutLoss)}): ${ok ? 'met' : 'MISSED'}`);
  }
  lines.push(
    `server event-loop blocking (timer lateness) p99 / max: ${report.results.map((r) => `${r.target} ${fmt.ms(r.server.loopDelayP99Ms)} / ${fmt.ms(r.server.loopDelayMaxMs)}`).join('; ')}`,
  );
  const dispatch = report.results.find((r) => r.target === 'dispatch');
  if (dispatch?.server.store) {
    const claimed = Object.entries(dispatch.server.store.claimedByKind).map(([kind, n]) => `${kind} ${fmt.int(n)}`).join(', ') || 'none';
    const whereMade = Object.entries(dispatch.server.ranWhereMadeByKind ?? {}).map(([kind, n]) => `${kind} ${fmt.int(n)}`).join(', ') || 'none';
    lines.push(`background during (b): jobs claimed ${claimed}; run where they were made ${whereMade}; ${fmt.int(dispatch.server.jobsLeft ?? 0)} job rows at the end (the 600 s timers, plus any send backlog)`);
  }
  for (const r of report.results) {
    if (r.server.store) lines.push(`${r.label}: ${renderStoreTime(r.server.store, r.server.elapsedMs)}`);
  }
  return lines.join('\n');
}

/** Transactions, statements and store calls per 2xx response, from the child's counters. */
/** What one accepted request cost the machine's cores: the nodes', and the database's beside them. */
export function cpuPerRequest(r: TargetResult): string {
  const n = Math.max(1, r.load.ok2xx);
  const nodes = ((1000 * r.nodesCpuMs) / n).toFixed(0);
  return r.databaseCpuMs === undefined ? nodes : `${nodes} + ${((1000 * r.databaseCpuMs) / n).toFixed(0)}`;
}

function perRequest(r: TargetResult): string {
  const store = r.server.store!;
  const n = Math.max(1, r.load.ok2xx);
  const calls = Object.values(store.calls).reduce((a, b) => a + b, 0);
  return `${(store.transactions / n).toFixed(2)} tx, ${(store.statements / n).toFixed(1)} stmts, ${(calls / n).toFixed(1)} calls`;
}

if (isMain(import.meta.url)) {
  try {
    await runAcceptBenchmark(acceptOptionsFromEnv());
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  }
}
