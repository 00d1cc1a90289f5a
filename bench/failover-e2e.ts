/**
 * End-to-end failover benchmark (DESIGN §5, second target): N two-step failover dispatches
 * through the sandbox with a virtual clock, until every final report has reached a local
 * webhook receiver.
 *
 *   node dist/bench/failover-e2e.js
 *
 * 1. A server child (`--clock virtual`, SQLite in a temp dir) and, in this process, a plain
 *    node:http receiver answering 200 that is the account's default status URL.
 * 2. The Messenger recipients are scripted delivered-never-read ({"delivered_after": 0}, so
 *    each dispatch makes the 5 webhooks of DESIGN §5), or silent with BENCH_MESSENGER=silent
 *    (4 webhooks); the SMS recipients {"delivered_after": 0}.
 * 3. From the first POST: N dispatches (the tutorial body, expiry 600 s) with bounded
 *    concurrency; wait until every Messenger step is submitted (its expiry timer exists only
 *    then), advance the clock 601 s, and wait until every final report and every webhook has
 *    arrived. The single clock jump is a barrier, so the rate is a lower bound on what a
 *    pipelined stream of dispatches would reach.
 *
 * Env: BENCH_DISPATCHES (2000), BENCH_E2E_CONCURRENCY (50), BENCH_RECIPIENTS (100),
 *      BENCH_MESSENGER (delivered|silent), BENCH_E2E_TIMEOUT_SECONDS (300, or a second per 40 dispatches if longer),
 *      BENCH_ENGINE_CONCURRENCY (server default 64), BENCH_LOG_LEVEL (warn), BENCH_CPU_PROF=DIR,
 *      BENCH_DATABASE (sqlite|postgres), BENCH_NODES (1; on PostgreSQL, each node a child on one schema).
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { startChild, type BenchChild } from './support/child.js';
import {
  childExecArgv,
  envChoice,
  cpuMsOf,
  databaseCpuMeter,
  envNumber,
  expectStatus,
  fmt,
  isMain,
  machineBusyMs,
  machineLine,
  otherLoadShare,
  serverChildArgs,
  table,
  tempDir,
  tutorialDispatchBody,
} from './support/common.js';
import type { ChildStats } from './support/protocol.js';
import { isRead, renderStoreTime } from './support/store-report.js';
import { WebhookCounter } from './support/webhook-counter.js';
import { createTestSchema } from '../test/support/postgres-schema.js';

export interface FailoverOptions {
  dispatches: number;
  concurrency: number;
  recipients: number;
  messenger: 'delivered' | 'silent';
  timeoutSeconds: number;
  engineConcurrency?: number;
  logLevel: string;
  /** SQLite in a temp dir, or nodes on one fresh PostgreSQL schema (TEST_DATABASE_URL). */
  database: 'sqlite' | 'postgres';
  /** Nodes on PostgreSQL (one on SQLite): each a child, the POSTs spread over them, their virtual clocks advanced together. */
  nodes: number;
}

export interface FailoverReport {
  options: FailoverOptions;
  /** ms from the first POST. */
  phases: { posted: number; messengerDone: number; finals: number; allWebhooks: number };
  accepted: number;
  acceptErrors: number;
  acceptP50: number;
  acceptP99: number;
  completed: number;
  finalStatuses: Record<string, number>;
  unexpectedReports: number;
  webhooks: number;
  duplicateWebhooks: number;
  expectedWebhooks: number;
  dispatchesPerSecond: number;
  webhooksPerSecond: number;
  server: ChildStats;
  clientCpu: number;
  /** ms from the first POST to the end of the run. */
  wallMs: number;
  /** CPU time of every server node during the run. */
  nodesCpuMs: number;
  /** CPU time of PostgreSQL's processes during the run (on PostgreSQL, on Linux). */
  databaseCpuMs?: number;
  otherLoad?: number;
  timedOut?: string;
}

export const E2E_TARGET_PER_SECOND = 2000;
export const E2E_POSTGRES_TARGET_PER_SECOND = 1000;
const EXPIRY_SECONDS = 600;
const FB_SENDER = '1234567890';
const SMS_FROM = '447700900000';

/** `defaultDispatches`: when BENCH_DISPATCHES is not set; the timeout's default grows with it (40 dispatches a second at least). */
export function failoverOptionsFromEnv(defaultDispatches = 2000): FailoverOptions {
  const engineConcurrency = process.env.BENCH_ENGINE_CONCURRENCY ? envNumber('BENCH_ENGINE_CONCURRENCY', 64, { min: 1, integer: true }) : undefined;
  const dispatches = envNumber('BENCH_DISPATCHES', defaultDispatches, { min: 1, integer: true });
  return {
    dispatches,
    concurrency: envNumber('BENCH_E2E_CONCURRENCY', 50, { min: 1, integer: true }),
    recipients: envNumber('BENCH_RECIPIENTS', 100, { min: 1, integer: true }),
    messenger: envChoice('BENCH_MESSENGER', ['delivered', 'silent'] as const, 'delivered'),
    timeoutSeconds: envNumber('BENCH_E2E_TIMEOUT_SECONDS', Math.max(300, Math.ceil(dispatches / 40)), { min: 1 }),
    ...(engineConcurrency !== undefined && { engineConcurrency }),
    logLevel: envChoice('BENCH_LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'silent'] as const, 'warn'),
    database: envChoice('BENCH_DATABASE', ['sqlite', 'postgres'] as const, 'sqlite'),
    nodes: envNumber('BENCH_NODES', 1, { min: 1, integer: true }),
  };
}

export async function runFailoverBenchmark(options: FailoverOptions, log: (line: string) => void = console.log): Promise<FailoverReport> {
  const perDispatch = options.messenger === 'delivered' ? 5 : 4;
  log(
    `failover end-to-end benchmark: ${fmt.int(options.dispatches)} two-step dispatches (Messenger ${options.messenger === 'delivered' ? 'delivered, never read' : 'silent'} → SMS delivered), ` +
      `${options.concurrency} concurrent POSTs, virtual clock, ${perDispatch} webhooks each, ` +
      (options.database === 'sqlite' ? 'SQLite' : `PostgreSQL, ${options.nodes} node${options.nodes > 1 ? 's' : ''}`),
  );
  log(`${machineLine()}; the server runs in a child process, the POSTs and the webhook receiver in this one (they share the 2 cores)`);

  const dir = tempDir('opendispatch-bench-e2e-');
  const receiver = await new WebhookCounter().start();
  const schema = options.database === 'postgres' ? await createTestSchema('od_bench') : undefined;
  const others: BenchChild[] = [];
  let child: BenchChild | undefined;
  const pools: Pool[] = [];
  try {
    const childArgs = serverChildArgs({
      dataDir: dir.path,
      clock: 'virtual',
      logLevel: options.logLevel,
      webhookUrl: receiver.url,
      ...(options.engineConcurrency !== undefined && { configFile: { engine: { concurrency: options.engineConcurrency } } }),
      ...(schema && { database: schema.url, virtualStartMs: Date.now() }),
    });
    child = await startChild({ entry: 'opendispatch-server.js', args: childArgs, execArgv: childExecArgv() });
    const { url, basicAuth } = child.ready;
    const auth = basicAuth!;
    // Further nodes find the account the first created (the webhook account is made once).
    for (let n = 1; n < (schema ? options.nodes : 1); n += 1) {
      others.push(await startChild({ entry: 'opendispatch-server.js', args: { ...childArgs, webhookUrl: undefined }, execArgv: childExecArgv() }));
    }
    const urls = [url, ...others.map((other) => other.ready.url)];

    // A pool of recipients, scripted before the clock starts.
    const pairs = Array.from({ length: Math.min(options.recipients, options.dispatches) }, (_, i) => ({
      fbRecipient: String(9_100_000_000 + i),
      toNumber: String(447_700_100_000 + i),
    }));
    const messengerScript = options.messenger === 'delivered' ? { delivered_after: 0 } : { silent: true };
    for (const pair of pairs) {
      await expectStatus(200, 'PUT', `${url}/sandbox/recipients/messenger/${pair.fbRecipient}`, auth, messengerScript);
      await expectStatus(200, 'PUT', `${url}/sandbox/recipients/sms/${pair.toNumber}`, auth, { delivered_after: 0 });
    }
    const bodies = pairs.map((pair) => tutorialDispatchBody({ fbSender: FB_SENDER, fbRecipient: pair.fbRecipient, fromNumber: SMS_FROM, toNumber: pair.toNumber }, EXPIRY_SECONDS));

    for (const nodeUrl of urls) pools.push(new Pool(nodeUrl, { connections: Math.ceil(options.concurrency / urls.length), pipelining: 1 }));
    await Promise.all([child, ...others].map((node) => node.mark()));
    const cpuBefore = process.cpuUsage();
    const busyBefore = machineBusyMs();
    const databaseCpu = schema ? databaseCpuMeter() : undefined;
    const t0 = performance.now();
    const deadline = t0 + options.timeoutSeconds * 1000;
    const since = () => performance.now() - t0;

    // 1. POST every dispatch, at most `concurrency` in flight.
    const accepted = new Set<string>();
    const latencies: number[] = [];
    let acceptErrors = 0;
    let firstError: string | undefined;
    let next = 0;
    const headers = { authorization: auth, 'content-type': 'application/json', accept: 'application/json' };
    const worker = async () => {
      while (next < options.dispatches && performance.now() < deadline) {
        const index = next++;
        const startedAt = performance.now();
        try {
          const response = await pools[index % pools.length]!.request({ path: '/v0.1/dispatch', method: 'POST', headers, body: bodies[index % bodies.length]! });
          const text = await response.body.text();
          latencies.push(performance.now() - startedAt);
          if (response.statusCode === 202) accepted.add(JSON.parse(text).dispatch_uuid);
          else {
            acceptErrors += 1;
            firstError ??= `${response.statusCode} ${text}`;
          }
        } catch (error) {
          acceptErrors += 1;
          firstError ??= String(error);
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    const posted = since();
    if (acceptErrors > 0) log(`  ${acceptErrors} POSTs failed; the first: ${firstError}`);
    log(`  ${fmt.int(accepted.size)} accepted in ${(posted / 1000).toFixed(2)} s (${fmt.perSec((1000 * accepted.size) / posted)})`);

    const n = accepted.size;
    const progress = () =>
      `${receiver.total} webhooks: messenger submitted ${receiver.count('messenger', 'submitted')}, delivered ${receiver.count('messenger', 'delivered')}; ` +
      `sms submitted ${receiver.count('sms', 'submitted')}, delivered ${receiver.count('sms', 'delivered')}; final reports ${receiver.finals.size}/${n}`;

    let timedOut: string | undefined;
    let messengerDone = NaN;
    let finals = NaN;
    let allWebhooks = NaN;
    try {
      // 2. Every Messenger step submitted (and delivered, when scripted so): every expiry timer exists.
      await receiver.waitUntil(
        () => receiver.count('messenger', 'submitted') >= n && (options.messenger === 'silent' || receiver.count('messenger', 'delivered') >= n),
        deadline,
        progress,
      );
      messengerDone = since();
      log(`  every Messenger step submitted${options.messenger === 'delivered' ? ' and delivered' : ''} after ${(messengerDone / 1000).toFixed(2)} s; advancing the clock ${EXPIRY_SECONDS + 1} s`);

      // 3. Past expiry_time: every dispatch fails over to SMS. The server may answer the
      // advance only once the work it made due has settled, so it is awaited last.
      // Every node's clock at once: they started at one instant and move together.
      const advance = Promise.all(urls.map((nodeUrl) => expectStatus(200, 'POST', `${nodeUrl}/sandbox/clock/advance`, auth, { seconds: EXPIRY_SECONDS + 1 }, Math.max(1000, deadline - performance.now()))));
      advance.catch(() => undefined);
      await receiver.waitUntil(() => receiver.finals.size >= n, deadline, progress);
      finals = since();
      await receiver.waitUntil(() => receiver.total - receiver.duplicates >= perDispatch * n, deadline, progress);
      allWebhooks = since();
      await advance;
    } catch (error) {
      timedOut = (error as Error).message;
      log(`  stopped after ${options.timeoutSeconds} s (BENCH_E2E_TIMEOUT_SECONDS): ${timedOut}`);
    }
    const wallMs = since();
    const busyAfter = machineBusyMs();
    const databaseUsedMs = databaseCpu?.();
    const clientUsed = process.cpuUsage(cpuBefore);
    const server = await child.stats();
    const nodesCpuMs = cpuMsOf([server, ...(await Promise.all(others.map((other) => other.stats())))]);

    const finalStatuses: Record<string, number> = {};
    let unexpectedReports = 0;
    for (const [uuid, report] of receiver.finals) {
      if (!accepted.has(uuid)) unexpectedReports += 1;
      const shape = `${report.status}: ${report.messages.map((m) => `${m.channel} ${m.status}`).join(', ')}`;
      finalStatuses[shape] = (finalStatuses[shape] ?? 0) + 1;
    }
    latencies.sort((a, b) => a - b);
    const completed = receiver.finals.size;
    const clientCpuMs = (clientUsed.user + clientUsed.system) / 1000;
    const report: FailoverReport = {
      options,
      phases: { posted, messengerDone, finals, allWebhooks },
      accepted: n,
      acceptErrors,
      acceptP50: latencies[Math.floor(latencies.length * 0.5)] ?? NaN,
      acceptP99: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? NaN,
      completed,
      finalStatuses,
      unexpectedReports,
      webhooks: receiver.total,
      duplicateWebhooks: receiver.duplicates,
      expectedWebhooks: perDispatch * n,
      dispatchesPerSecond: (1000 * completed) / (Number.isFinite(finals) ? finals : wallMs),
      webhooksPerSecond: (1000 * receiver.total) / (Number.isFinite(allWebhooks) ? allWebhooks : wallMs),
      server,
      clientCpu: clientCpuMs / wallMs,
      wallMs,
      nodesCpuMs,
      ...(databaseUsedMs !== undefined && { databaseCpuMs: databaseUsedMs }),
      // PostgreSQL shares the cores with the nodes: its CPU is part of the cost, not other load.
      otherLoad: otherLoadShare(busyBefore, busyAfter, clientCpuMs + nodesCpuMs + (databaseUsedMs ?? 0), wallMs),
      ...(timedOut !== undefined && { timedOut }),
    };
    log('');
    log(renderFailoverReport(report));
    return report;
  } finally {
    await Promise.all(pools.map((pool) => pool.close()));
    await Promise.all([child, ...others].map((node) => node?.stop()));
    await receiver.close();
    dir.cleanup();
    await schema?.drop();
  }
}

export function renderFailoverReport(r: FailoverReport): string {
  const s = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : '—');
  const store = r.server.store;
  const n = Math.max(1, r.completed);
  // DESIGN §5 sets a target for SQLite and for one PostgreSQL node; several nodes have none.
  const target = r.options.database === 'sqlite' ? E2E_TARGET_PER_SECOND : r.options.nodes === 1 ? E2E_POSTGRES_TARGET_PER_SECOND : undefined;
  const targetText =
    target === undefined ? 'no target for several nodes' : `target >= ${fmt.perSec(target)}: ${r.dispatchesPerSecond >= target && !r.timedOut ? 'met' : 'MISSED'}`;
  const lines = [
    table(
      ['phase (from the first POST)', 'at', 'what'],
      [
        ['all dispatches accepted', s(r.phases.posted), `${fmt.int(r.accepted)} × 202 (${fmt.perSec((1000 * r.accepted) / r.phases.posted)}), p50 ${fmt.ms(r.acceptP50)}, p99 ${fmt.ms(r.acceptP99)}, ${r.acceptErrors} errors`],
        ['every Messenger step submitted', s(r.phases.messengerDone), `then POST /sandbox/clock/advance 601 s`],
        ['every final report received', s(r.phases.finals), `${fmt.int(r.completed)} reports; ${fmt.perSec((1000 * r.completed) / (r.phases.finals - r.phases.messengerDone))} after the advance`],
        ['every webhook received', s(r.phases.allWebhooks), `${fmt.int(r.webhooks)} webhooks (${r.duplicateWebhooks} duplicates), ${fmt.int(r.expectedWebhooks)} expected`],
      ],
    ),
    '',
    `final reports: ${Object.entries(r.finalStatuses).map(([shape, count]) => `${fmt.int(count)} × ${shape}`).join('; ') || 'none'}${r.unexpectedReports ? `; ${r.unexpectedReports} for unknown dispatches` : ''}`,
    `completed: ${fmt.perSec(r.dispatchesPerSecond)} dispatches (${targetText}); webhooks ${fmt.perSec(r.webhooksPerSecond)}`,
  ];
  if (store) {
    const claimed = Object.values(store.claimedByKind).reduce((a, b) => a + b, 0);
    const whereMade = r.server.ranWhereMadeByKind ?? {};
    const ranWhereMade = Object.values(whereMade).reduce((a, b) => a + b, 0);
    const allKinds = new Set([...Object.keys(store.claimedByKind), ...Object.keys(whereMade)]);
    const byKind = [...allKinds]
      .map((kind): [string, number] => [kind, (store.claimedByKind[kind] ?? 0) + (whereMade[kind] ?? 0)])
      .sort((a, b) => b[1] - a[1])
      .map(([kind, count]) => `${kind} ${(count / n).toFixed(2)}`)
      .join(', ');
    const reads = Object.entries(store.calls)
      .filter(([name]) => isRead(name) && name !== 'countJobs')
      .reduce((a, [, count]) => a + count, 0);
    const seconds = r.phases.allWebhooks / 1000 || r.server.elapsedMs / 1000;
    lines.push(
      `durable operations${r.options.nodes > 1 ? ` of the first node (of ${r.options.nodes})` : ''}: ${fmt.int(store.transactions)} transactions (${(store.transactions / n).toFixed(1)} per dispatch, ${fmt.perSec(store.transactions / seconds)}), ` +
        `${fmt.int(store.statements)} row statements in them (${(store.statements / n).toFixed(1)} per dispatch), ` +
        `${fmt.int(store.calls.claimJobs ?? 0)} claim statements for ${fmt.int(claimed)} jobs (${fmt.int(ranWhereMade)} more run where they were made, unclaimed), ${store.conflicts} conflicts; ${fmt.int(reads)} reads (${(reads / n).toFixed(1)} per dispatch)`,
      `jobs per dispatch: ${byKind}; ${fmt.int(r.server.jobsLeft ?? 0)} job rows left`,
      renderStoreTime(store, r.server.elapsedMs),
    );
  }
  const serverCpu = cpuMsOf([r.server]) / r.server.elapsedMs;
  lines.push(
    `server: event loop busy ${fmt.pct(r.server.eventLoopUtilization)} (blocked p99 ${fmt.ms(r.server.loopDelayP99Ms)}, max ${fmt.ms(r.server.loopDelayMaxMs)}), CPU ${fmt.pct(serverCpu)} of a core, RSS ${fmt.mb(r.server.rssBytes)}; ` +
      `this process (POSTs + receiver): CPU ${fmt.pct(r.clientCpu)}; other processes: ${r.otherLoad === undefined ? '?' : fmt.pct(r.otherLoad)} of the machine`,
  );
  // Where the cores' time went over the whole run: the nodes', and the database's beside them.
  const share = (ms: number) => fmt.pct(ms / r.wallMs);
  const perDispatch = (ms: number) => `${(ms / n).toFixed(2)} ms`;
  lines.push(
    r.databaseCpuMs === undefined
      ? `CPU per completed dispatch: the server ${perDispatch(r.nodesCpuMs)}`
      : `CPU per completed dispatch: the nodes ${perDispatch(r.nodesCpuMs)} (${share(r.nodesCpuMs)} of a core), PostgreSQL ${perDispatch(r.databaseCpuMs)} (${share(r.databaseCpuMs)})`,
  );
  return lines.join('\n');
}

if (isMain(import.meta.url)) {
  try {
    const report = await runFailoverBenchmark(failoverOptionsFromEnv());
    if (report.timedOut) process.exitCode = 1;
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  }
}
