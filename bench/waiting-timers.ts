/**
 * Waiting timers and cost growth (DESIGN §5, third and fourth targets), on the real clock:
 *
 *   node dist/bench/waiting-timers.js
 *
 * The server fills up with dispatches whose first step (Messenger, to a silent recipient) waits
 * 24 h for a read that never comes: each is a waiting timer. At each size of BENCH_GROWTH
 * (10 000, 100 000 and 1 000 000 stored dispatches) it measures, in this order:
 *
 * 1. accept: `POST /v0.1/dispatch` at full speed for BENCH_PROBE_SECONDS at 50 connections
 *    (these dispatches wait too);
 * 2. fire lag: BENCH_FIRE_RATE dispatches a second for BENCH_FIRE_SECONDS whose expiry_time is
 *    15 s (the least the API allows), so that as many a second come due 15 s later while every
 *    other timer waits; each then sends its SMS step. A timer's lag is the SMS step's submission
 *    minus its due time (the Messenger submission + 15 s), both as the server stamped them in
 *    the status webhooks; the webhook lag is when that webhook reached the receiver;
 * 3. the server's RSS.
 *
 * Between sizes it fills up at full speed, printing progress every 10 s, and before each probe
 * it waits until every stored dispatch has its first step submitted (so a probe does not
 * compete with the fill's backlog). Every fired dispatch must end with one and the same final
 * report and its webhooks must all arrive; otherwise the run fails.
 *
 * Env: BENCH_GROWTH (10000,100000,1000000), BENCH_PROBE_SECONDS (5), BENCH_FIRE_RATE (2000),
 *      BENCH_FIRE_SECONDS (10), BENCH_TIMERS_TIMEOUT_SECONDS (3600), BENCH_DATABASE (sqlite|postgres),
 *      BENCH_LOG_LEVEL (warn), BENCH_CPU_PROF=DIR.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { startChild, type BenchChild } from './support/child.js';
import { childExecArgv, envChoice, envNumber, expectStatus, fmt, isMain, machineLine, serverChildArgs, table, tempDir, tutorialDispatchBody } from './support/common.js';
import { WebhookCounter } from './support/webhook-counter.js';
import { createTestSchema } from '../test/support/postgres-schema.js';

export interface TimersOptions {
  /** Stored dispatches at which to measure, ascending. */
  sizes: number[];
  probeSeconds: number;
  fireRate: number;
  fireSeconds: number;
  timeoutSeconds: number;
  database: 'sqlite' | 'postgres';
  logLevel: string;
}

export interface GrowthPoint {
  stored: number;
  acceptPerSecond: number;
  acceptP99: number;
  fired: number;
  /** Timers that came due a second: the fire rate asked for, unless accepting them could not keep up. */
  duePerSecond: number;
  /** ms from due to the next step's submission, as the server stamped them. */
  lagP50: number;
  lagP99: number;
  lagMax: number;
  /** ms from due to the next step's status webhook reaching the receiver. */
  webhookLagP99: number;
  /** Final-report shape → count, of the fired dispatches. */
  finalShapes: Record<string, number>;
  rssBytes: number;
  /** Of rssBytes: anonymous memory (heap, SQLite's cache), and mapped file pages (reclaimable). */
  rssAnonBytes?: number;
  rssFileBytes?: number;
}

export interface TimersReport {
  options: TimersOptions;
  points: GrowthPoint[];
  acceptErrors: number;
  maxRssBytes: number;
  /** Every fired dispatch ended with the one expected report and all its webhooks arrived. */
  allRight: boolean;
  timedOut?: string;
}

export const TIMER_TARGETS = { rssBytes: 300 * 2 ** 20, lagP99Ms: 1000, flatWithin: 0.2 };
const WAIT_SECONDS = 86_400;
const FIRE_EXPIRY_SECONDS = 15;
const CONNECTIONS = 50;
const RECIPIENTS = 100;
const FB_SENDER = '1234567890';
const SMS_FROM = '447700900000';
const EXPECTED_FINAL = 'completed: messenger submitted, sms delivered';

export function timersOptionsFromEnv(): TimersOptions {
  const raw = process.env.BENCH_GROWTH ?? '10000,100000,1000000';
  const sizes = raw.split(',').map((part) => Number(part.trim()));
  if (sizes.some((size) => !Number.isInteger(size) || size < 1) || sizes.some((size, i) => i > 0 && size <= sizes[i - 1]!)) {
    throw new Error(`BENCH_GROWTH must be ascending positive integers separated by commas (got "${raw}")`);
  }
  return {
    sizes,
    probeSeconds: envNumber('BENCH_PROBE_SECONDS', 5, { min: 0.5 }),
    fireRate: envNumber('BENCH_FIRE_RATE', 2000, { min: 1 }),
    fireSeconds: envNumber('BENCH_FIRE_SECONDS', 10, { min: 0.5 }),
    timeoutSeconds: envNumber('BENCH_TIMERS_TIMEOUT_SECONDS', 3600, { min: 1 }),
    database: envChoice('BENCH_DATABASE', ['sqlite', 'postgres'] as const, 'sqlite'),
    logLevel: envChoice('BENCH_LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'silent'] as const, 'warn'),
  };
}

/** One fired dispatch as its status webhooks tell it: the server's stamps, and the arrival of the SMS one. */
interface Fired {
  messengerSubmittedAt?: number;
  smsSubmittedAt?: number;
  smsArrivedAt?: number;
}

export async function runWaitingTimersBenchmark(options: TimersOptions, log: (line: string) => void = console.log): Promise<TimersReport> {
  log(
    `waiting-timers and cost-growth benchmark: real clock, ${options.database === 'sqlite' ? 'SQLite' : 'PostgreSQL, 1 node'}; at ${options.sizes.map(fmt.int).join(', ')} stored dispatches ` +
      `(first steps waiting ${WAIT_SECONDS / 3600} h): accept for ${options.probeSeconds} s, then ${fmt.int(options.fireRate)} timers a second coming due for ${options.fireSeconds} s`,
  );
  log(`${machineLine()}; the server runs in a child process, the POSTs and the webhook receiver in this one`);

  const dir = tempDir('opendispatch-bench-timers-');
  const receiver = await new WebhookCounter().start();
  const schema = options.database === 'postgres' ? await createTestSchema('od_bench') : undefined;
  let child: BenchChild | undefined;
  let pool: Pool | undefined;
  try {
    const childArgs = serverChildArgs({ dataDir: dir.path, clock: 'real', logLevel: options.logLevel, webhookUrl: receiver.url, ...(schema && { database: schema.url }) });
    child = await startChild({ entry: 'opendispatch-server.js', args: childArgs, execArgv: childExecArgv() });
    const { url } = child.ready;
    const auth = child.ready.basicAuth!;

    // Waiting dispatches go to one pool of recipients, fired ones to another: their webhooks tell them apart.
    const waiting = Array.from({ length: RECIPIENTS }, (_, i) => ({ fbRecipient: String(9_100_000_000 + i), toNumber: String(447_700_100_000 + i) }));
    const firing = Array.from({ length: RECIPIENTS }, (_, i) => ({ fbRecipient: String(9_200_000_000 + i), toNumber: String(447_700_200_000 + i) }));
    for (const pair of [...waiting, ...firing]) {
      await expectStatus(200, 'PUT', `${url}/sandbox/recipients/messenger/${pair.fbRecipient}`, auth, { silent: true });
      await expectStatus(200, 'PUT', `${url}/sandbox/recipients/sms/${pair.toNumber}`, auth, { delivered_after: 0 });
    }
    const firingRecipients = new Set(firing.flatMap((pair) => [pair.fbRecipient, pair.toNumber]));
    const waitBodies = waiting.map((pair) => tutorialDispatchBody({ fbSender: FB_SENDER, fromNumber: SMS_FROM, ...pair }, WAIT_SECONDS));
    const fireBodies = firing.map((pair) => tutorialDispatchBody({ fbSender: FB_SENDER, fromNumber: SMS_FROM, ...pair }, FIRE_EXPIRY_SECONDS));

    let fired = new Map<string, Fired>();
    receiver.onStatus = (status, arrivedAt) => {
      const to = status.to?.id ?? status.to?.number;
      const dispatchUuid = status._links?.dispatch?.dispatch_uuid;
      if (status.status !== 'submitted' || !firingRecipients.has(String(to)) || typeof dispatchUuid !== 'string') return;
      const entry = fired.get(dispatchUuid) ?? {};
      if (status.to.type === 'messenger') entry.messengerSubmittedAt = Date.parse(status.timestamp);
      else {
        entry.smsSubmittedAt = Date.parse(status.timestamp);
        entry.smsArrivedAt = arrivedAt;
      }
      fired.set(dispatchUuid, entry);
    };

    pool = new Pool(url, { connections: CONNECTIONS, pipelining: 1 });
    const poster = new Poster(pool, auth);
    const deadline = performance.now() + options.timeoutSeconds * 1000;
    const points: GrowthPoint[] = [];
    let maxRssBytes = 0;
    let allRight = true;
    const submittedFirstSteps = () => receiver.count('messenger', 'submitted');
    const settled = (what: string) =>
      receiver.waitUntil(() => submittedFirstSteps() >= poster.accepted, deadline, () => `${what}: ${fmt.int(submittedFirstSteps())} of ${fmt.int(poster.accepted)} first steps submitted`);

    await child.mark();
    for (const size of options.sizes) {
      // Fill up to the size at full speed (the accept probe then adds its own).
      const fill = Math.max(0, size - poster.accepted);
      if (fill > 0) {
        const startedAt = performance.now();
        const progress = setInterval(() => {
          log(`  filling: ${fmt.int(poster.accepted)} stored (${fmt.perSec((1000 * (poster.accepted - (size - fill))) / (performance.now() - startedAt))}), ${fmt.int(submittedFirstSteps())} first steps submitted`);
        }, 10_000);
        try {
          await poster.post(waitBodies, { count: fill, deadline });
        } finally {
          clearInterval(progress);
        }
      }
      await settled('filling');

      // 1. Accept at full speed.
      const stored = poster.accepted;
      const accept = await poster.post(waitBodies, { seconds: options.probeSeconds, deadline, keepLatencies: true });
      await settled('after the accept probe');

      // 2. Timers coming due at the fire rate, each sending the SMS step.
      fired = new Map();
      const cohort = await poster.post(fireBodies, { seconds: options.fireSeconds, perSecond: options.fireRate, deadline, keepUuids: true });
      const complete = () => cohort.uuids.every((uuid) => receiver.finals.has(uuid) && fired.get(uuid)?.smsArrivedAt !== undefined);
      await receiver.waitUntil(complete, deadline, () => `firing: ${cohort.uuids.filter((uuid) => receiver.finals.has(uuid)).length} of ${cohort.uuids.length} final reports`);
      const lags: number[] = [];
      const webhookLags: number[] = [];
      const finalShapes: Record<string, number> = {};
      for (const uuid of cohort.uuids) {
        const entry = fired.get(uuid)!;
        const due = entry.messengerSubmittedAt! + FIRE_EXPIRY_SECONDS * 1000;
        lags.push(entry.smsSubmittedAt! - due);
        webhookLags.push(entry.smsArrivedAt! - due);
        const report = receiver.finals.get(uuid)!;
        const shape = `${report.status}: ${report.messages.map((m) => `${m.channel} ${m.status}`).join(', ')}`;
        finalShapes[shape] = (finalShapes[shape] ?? 0) + 1;
      }
      if (Object.keys(finalShapes).length !== 1 || finalShapes[EXPECTED_FINAL] !== cohort.uuids.length) allRight = false;
      const stats = await child.stats();
      maxRssBytes = Math.max(maxRssBytes, stats.rssBytes);
      const point: GrowthPoint = {
        stored,
        acceptPerSecond: (1000 * accept.count) / accept.wallMs,
        acceptP99: quantile(accept.latencies, 0.99),
        fired: cohort.uuids.length,
        duePerSecond: (1000 * cohort.uuids.length) / cohort.wallMs,
        lagP50: quantile(lags, 0.5),
        lagP99: quantile(lags, 0.99),
        lagMax: quantile(lags, 1),
        webhookLagP99: quantile(webhookLags, 0.99),
        finalShapes,
        rssBytes: stats.rssBytes,
        ...(stats.rssAnonBytes !== undefined && { rssAnonBytes: stats.rssAnonBytes, rssFileBytes: stats.rssFileBytes }),
      };
      points.push(point);
      log(
        `  at ${fmt.int(point.stored)} stored: accept ${fmt.perSec(point.acceptPerSecond)} (p99 ${fmt.ms(point.acceptP99)}); ${fmt.int(point.fired)} fired (${fmt.perSec(point.duePerSecond)} coming due), lag p99 ${fmt.ms(point.lagP99)} ` +
          `(webhook ${fmt.ms(point.webhookLagP99)}); RSS ${fmt.mb(point.rssBytes)}${point.rssAnonBytes === undefined ? '' : `, ${fmt.mb(point.rssAnonBytes)} of it anonymous`}`,
      );
    }
    const report: TimersReport = { options, points, acceptErrors: poster.errors, maxRssBytes, allRight: allRight && poster.errors === 0 };
    if (poster.firstError) log(`  ${poster.errors} POSTs failed; the first: ${poster.firstError}`);
    log('');
    log(renderTimersReport(report));
    return report;
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('timed out')) throw error;
    log(`  stopped after ${options.timeoutSeconds} s (BENCH_TIMERS_TIMEOUT_SECONDS): ${error.message}`);
    return { options, points: [], acceptErrors: 0, maxRssBytes: 0, allRight: false, timedOut: error.message };
  } finally {
    await pool?.close();
    await child?.stop();
    await receiver.close();
    dir.cleanup();
    await schema?.drop();
  }
}

/** POSTs dispatch bodies with CONNECTIONS in flight: a number of them, or for a time, at full speed or paced. */
class Poster {
  accepted = 0;
  errors = 0;
  firstError: string | undefined;
  private readonly headers: Record<string, string>;

  constructor(
    private readonly pool: Pool,
    authorization: string,
  ) {
    this.headers = { authorization, 'content-type': 'application/json', accept: 'application/json' };
  }

  async post(
    bodies: readonly string[],
    how: { count?: number; seconds?: number; perSecond?: number; deadline: number; keepLatencies?: boolean; keepUuids?: boolean },
  ): Promise<{ count: number; wallMs: number; latencies: number[]; uuids: string[] }> {
    const startedAt = performance.now();
    const endsAt = how.seconds === undefined ? how.deadline : Math.min(how.deadline, startedAt + how.seconds * 1000);
    const latencies: number[] = [];
    const uuids: string[] = [];
    let next = 0;
    let count = 0;
    const more = () => (how.count === undefined || next < how.count) && performance.now() < endsAt;
    const worker = async () => {
      while (more()) {
        const index = next++;
        // Paced: the index-th request is due index / perSecond seconds after the start.
        if (how.perSecond !== undefined) {
          const wait = startedAt + (1000 * index) / how.perSecond - performance.now();
          if (wait > 0) await sleep(wait);
          if (performance.now() >= endsAt) return;
        }
        const sentAt = performance.now();
        try {
          const response = await this.pool.request({ path: '/v0.1/dispatch', method: 'POST', headers: this.headers, body: bodies[index % bodies.length]! });
          const text = await response.body.text();
          if (response.statusCode !== 202) throw new Error(`${response.statusCode} ${text}`);
          if (how.keepLatencies) latencies.push(performance.now() - sentAt);
          if (how.keepUuids) uuids.push((JSON.parse(text) as { dispatch_uuid: string }).dispatch_uuid);
          count += 1;
          this.accepted += 1;
        } catch (error) {
          this.errors += 1;
          this.firstError ??= String(error);
        }
      }
    };
    await Promise.all(Array.from({ length: CONNECTIONS }, worker));
    return { count, wallMs: performance.now() - startedAt, latencies, uuids };
  }
}

function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** How far the largest of the values is above the smallest, as a share of the smallest. */
export function spread(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite);
  if (finite.length < 2) return 0;
  return Math.max(...finite) / Math.min(...finite) - 1;
}

export function renderTimersReport(r: TimersReport): string {
  const rows = r.points.map((p) => [
    fmt.int(p.stored),
    fmt.perSec(p.acceptPerSecond),
    fmt.ms(p.acceptP99),
    `${fmt.int(p.fired)} (${fmt.perSec(p.duePerSecond)})`,
    fmt.ms(p.lagP50),
    fmt.ms(p.lagP99),
    fmt.ms(p.lagMax),
    fmt.ms(p.webhookLagP99),
    `${fmt.mb(p.rssBytes)}${p.rssAnonBytes === undefined ? '' : ` (${fmt.mb(p.rssAnonBytes)} anon, ${fmt.mb(p.rssFileBytes ?? 0)} file)`}`,
  ]);
  const shapes = new Map<string, number>();
  for (const point of r.points) for (const [shape, count] of Object.entries(point.finalShapes)) shapes.set(shape, (shapes.get(shape) ?? 0) + count);
  const worstLag = Math.max(...r.points.map((p) => p.lagP99));
  return [
    table(['stored dispatches', 'accept', 'accept p99', 'fired (coming due)', 'fire lag p50', 'p99', 'max', 'webhook lag p99', 'server RSS'], rows),
    '',
    `fired dispatches' final reports: ${[...shapes].map(([shape, count]) => `${fmt.int(count)} × ${shape}`).join('; ') || 'none'}${r.allRight ? '' : ' — NOT ALL RIGHT'}`,
    `server RSS at most ${fmt.mb(r.maxRssBytes)} (target < ${fmt.mb(TIMER_TARGETS.rssBytes)}); fire lag p99 at most ${fmt.ms(worstLag)} (target < ${fmt.ms(TIMER_TARGETS.lagP99Ms)})`,
    `growth from ${fmt.int(r.points[0]?.stored ?? 0)} to ${fmt.int(r.points.at(-1)?.stored ?? 0)} stored: accept spread ${fmt.pct(spread(r.points.map((p) => p.acceptPerSecond)))}, ` +
      `fire lag p99 spread ${fmt.pct(spread(r.points.map((p) => p.lagP99)))} (target within ${fmt.pct(TIMER_TARGETS.flatWithin)})`,
  ].join('\n');
}

if (isMain(import.meta.url)) {
  try {
    const report = await runWaitingTimersBenchmark(timersOptionsFromEnv());
    if (report.timedOut || !report.allRight) process.exitCode = 1;
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  }
}
