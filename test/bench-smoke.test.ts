/**
 * Every benchmark of `npm run bench`, at a small size, so that none can rot: each runs its real
 * servers and checks the work it did (every request accepted, every dispatch ended with the
 * right final report, no webhook lost or doubled). Nothing here is timed; speed is measured by
 * `npm run bench` alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAcceptBenchmark } from '../bench/accept.js';
import { runFailoverBenchmark, type FailoverOptions } from '../bench/failover-e2e.js';
import { runWaitingTimersBenchmark } from '../bench/waiting-timers.js';

const quiet = () => undefined;

test('the accept benchmark runs every target, each answering only 202s', async () => {
  const report = await runAcceptBenchmark({ seconds: 1, warmupSeconds: 0, connections: 4, targets: ['bare', 'dispatch', 'dispatch-basic', 'messages', 'dispatch-engine-off', 'dispatch-postgres', 'dispatch-postgres-3', 'dispatch-webhooks', 'dispatch-webhooks-slow', 'dispatch-webhooks-failing'], logLevel: 'warn' }, quiet);
  assert.equal(report.results.length, 10);
  for (const result of report.results) {
    assert.ok(result.load.ok2xx > 0, `${result.target} answered no 2xx`);
    assert.equal(result.load.non2xx + result.load.errors, 0, `${result.target}: ${JSON.stringify(result.load.statusCodes)}`);
  }
  assert.ok(report.ratio !== undefined && report.ratio > 0);
  assert.ok(report.fanOutLoss !== undefined);
});

const failover: FailoverOptions = { dispatches: 150, concurrency: 10, recipients: 10, messenger: 'delivered', timeoutSeconds: 120, logLevel: 'warn', database: 'sqlite', nodes: 1 };

for (const options of [failover, { ...failover, database: 'postgres', nodes: 2 } as const]) {
  test(`the end-to-end failover benchmark on ${options.database} (${options.nodes} node${options.nodes > 1 ? 's' : ''}): every dispatch fails over and reports right, no webhook lost or doubled`, async () => {
    const report = await runFailoverBenchmark(options, quiet);
    assert.equal(report.timedOut, undefined);
    assert.equal(report.accepted, options.dispatches);
    assert.equal(report.completed, options.dispatches);
    assert.deepEqual(report.finalStatuses, { 'completed: messenger delivered, sms delivered': options.dispatches });
    assert.equal(report.unexpectedReports, 0);
    assert.equal(report.webhooks, report.expectedWebhooks);
    assert.equal(report.duplicateWebhooks, 0);
  });
}

test('the waiting-timers benchmark measures each size, and every fired dispatch sends its SMS and reports right', async () => {
  const report = await runWaitingTimersBenchmark({ sizes: [100, 300], probeSeconds: 0.5, fireRate: 40, fireSeconds: 1, timeoutSeconds: 120, database: 'sqlite', logLevel: 'warn' }, quiet);
  assert.equal(report.timedOut, undefined);
  assert.equal(report.allRight, true);
  assert.deepEqual(report.points.map((point) => point.stored >= 100), [true, true]);
  assert.ok(report.points[1]!.stored >= 300);
  for (const point of report.points) {
    assert.ok(point.fired > 0);
    assert.ok(point.lagP99 >= 0 && Number.isFinite(point.lagP99), `lag ${point.lagP99}`);
    assert.ok(point.rssBytes > 0);
  }
});
