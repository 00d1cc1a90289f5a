import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { pino } from 'pino';
import { generateApplicationJwt } from '../generate-jwt.js';
import { commandDefaults, loadConfig } from '../../config/config.js';
import { createAccount } from '../../engine/accounts/create-account.js';
import { systemClock } from '../../engine/clock.js';
import { startServer, type RunningServer } from '../../server.js';
import { UsageError } from '../usage-error.js';

interface DemoFlags {
  url?: string;
  apiKey?: string;
  apiSecret?: string;
  expiry: string;
}

interface Webhook {
  at: number;
  body: Record<string, any>;
}

const PAGE_ID = '107083064136738';
/** Server seconds per tick on a virtual clock; events still carry their own instants. */
const TICK_SECONDS = 5;
const SMS_FROM = '447700900000';

/**
 * The seed tutorial, live: a Messenger message with failover to SMS if it is not read in time,
 * once where the recipient reads it and once where they do not. Prints each webhook as it arrives.
 */
export function registerDemo(program: Command): void {
  const defaults = commandDefaults();
  program
    .command('demo')
    .description('run the "Facebook message with failover to SMS" tutorial against the sandbox and print its timeline')
    .option('--url <url>', 'use a running server instead of starting a temporary one')
    .option('--api-key <key>', 'account api key, with --url (env OPENDISPATCH_API_KEY)', defaults.apiKey)
    .option('--api-secret <secret>', 'account api secret, with --url (env OPENDISPATCH_API_SECRET)', defaults.apiSecret)
    .option('--expiry <seconds>', 'expiry_time of the Messenger step (15-86400)', '15')
    .action(async (flags: DemoFlags) => {
      const expiry = Number(flags.expiry);
      if (!Number.isInteger(expiry) || expiry < 15 || expiry > 86400) throw new UsageError('--expiry must be an integer from 15 to 86400');
      if (flags.url && (!flags.apiKey || !flags.apiSecret)) throw new UsageError('with --url give --api-key and --api-secret (or OPENDISPATCH_API_KEY / OPENDISPATCH_API_SECRET)');
      const target = flags.url ? { url: flags.url, apiKey: flags.apiKey!, apiSecret: flags.apiSecret! } : await startTemporaryServer();
      const receiver = await startReceiver();
      try {
        await runDemo(target, receiver, expiry);
      } finally {
        receiver.server.close();
        await target.close?.();
      }
    });
}

async function runDemo(target: Target, receiver: Receiver, expiry: number): Promise<void> {
  const basic = `Basic ${Buffer.from(`${target.apiKey}:${target.apiSecret}`).toString('base64')}`;
  const api = async (method: string, path: string, authorization: string, body?: unknown) => {
    const response = await fetch(new URL(path, target.url), {
      method,
      headers: { authorization, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).catch((error: Error) => {
      throw new UsageError(`cannot reach ${target.url}: ${error.cause instanceof Error ? error.cause.message : error.message}`);
    });
    const json = (await response.json().catch(() => ({}))) as Record<string, any>;
    if (response.status >= 400) throw new UsageError(`${method} ${path} answered ${response.status}: ${json.detail ?? json.title ?? ''}`);
    return json;
  };

  const app = await api('POST', '/v2/applications', basic, {
    name: 'OpenDispatch demo',
    capabilities: { messages: { webhooks: { inbound_url: { address: `${receiver.url}/inbound` }, status_url: { address: `${receiver.url}/status` } } } },
  });
  const bearer = async () => `Bearer ${await generateApplicationJwt({ privateKeyPem: app.keys.private_key, applicationId: app.id })}`;
  const run = systemClock.wallNow().toString().slice(-6);
  const reader = `${run}01`;
  const ignorer = `${run}02`;
  const smsTo = `4477009${run}`;
  await api('PUT', `/sandbox/recipients/messenger/${reader}`, basic, { delivered_after: 1, read_after: 3 });
  await api('PUT', `/sandbox/recipients/messenger/${ignorer}`, basic, { delivered_after: 1 });
  await api('PUT', `/sandbox/recipients/sms/${smsTo}`, basic, { delivered_after: 1 });

  // On a server with the virtual clock the demo moves time itself, a few seconds per tick.
  const clock = await api('GET', '/sandbox/clock', basic);
  const tick = clock.clock === 'virtual' ? async () => void (await api('POST', '/sandbox/clock/advance', basic, { seconds: TICK_SECONDS })) : undefined;
  const serverNow = async () => Date.parse((await api('GET', '/sandbox/clock', basic)).now);

  const say = (line = '') => process.stdout.write(`${line}\n`);
  say(`OpenDispatch demo on ${target.url}: Messenger first; if it is not read within ${expiry} s, an SMS.`);
  for (const [title, recipient] of [
    ['1. The recipient reads the Messenger message in time: no SMS is sent.', reader],
    [`2. The recipient never reads it: the SMS follows ${expiry} s after the Messenger message was submitted.`, ignorer],
  ] as const) {
    say();
    say(title);
    const workflow = [
      {
        from: { type: 'messenger', id: PAGE_ID },
        to: { type: 'messenger', id: recipient },
        message: { content: { type: 'text', text: 'This is a Facebook Messenger Message sent via the Dispatch API' } },
        failover: { expiry_time: expiry, condition_status: 'read' },
      },
      {
        from: { type: 'sms', number: SMS_FROM },
        to: { type: 'sms', number: smsTo },
        message: { content: { type: 'text', text: 'This is an SMS sent via the Dispatch API' } },
      },
    ];
    const started = await serverNow();
    const { dispatch_uuid: uuid } = await api('POST', '/v0.1/dispatch', await bearer(), { template: 'failover', workflow });
    say(`   POST /v0.1/dispatch → 202 {"dispatch_uuid":"${uuid}"}`);
    const report = await receiver.follow(uuid, expiry + 30, tick, (webhook) => say(describe(webhook, started)));
    const timeline = await api('GET', `/v0.1/dispatch/${uuid}`, await bearer());
    for (const step of timeline.workflow as Array<Record<string, any>>) {
      say(`   step ${step.step} (${step.channel}): ${step.outcome?.description ?? (step.state === 'not-started' ? 'never sent' : step.state)}`);
    }
    if (!report) say('   (no final report yet)');
  }
  await api('DELETE', `/v2/applications/${app.id}`, basic);
}

function describe(webhook: Webhook, started: number): string {
  // Server time of the event (the webhook's timestamp), so a virtual clock shows its own seconds.
  const at = Date.parse(webhook.body.timestamp);
  const seconds = Math.max(0, ((Number.isNaN(at) ? webhook.at : at) - started) / 1000);
  const elapsed = `+${seconds.toFixed(1)}s`.padStart(8);
  const body = webhook.body;
  if (body.template === 'failover') {
    const messages = (body._links?.messages ?? []) as Array<{ channel: string; status: string }>;
    return `${elapsed}  final report: ${body.status} (${messages.map((m) => `${m.channel} ${m.status}`).join(', ')}; usage ${body.usage?.price} ${body.usage?.currency})`;
  }
  return `${elapsed}  ${String(body.to?.type).padEnd(9)} ${body.status}${body.error ? ` (${body.error.code} ${body.error.reason})` : ''}`;
}

interface Target {
  url: string;
  apiKey: string;
  apiSecret: string;
  close?: () => Promise<void>;
}

async function startTemporaryServer(): Promise<Target> {
  const dataDir = mkdtempSync(join(tmpdir(), 'opendispatch-demo-'));
  const config = loadConfig({ port: 0, database: `sqlite:${join(dataDir, 'demo.db')}` }, {});
  const server: RunningServer = await startServer(config, { log: pino({ level: 'warn' }) });
  const account = await createAccount(server.store, {}, server.clock.wallNow());
  return {
    url: server.url,
    apiKey: account.apiKey,
    apiSecret: account.apiSecret,
    close: async () => {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

interface Receiver {
  server: Server;
  url: string;
  /**
   * Calls `print` for each webhook of the dispatch until its final report; resolves with it, or
   * with undefined after `seconds` (of server time when `tick` moves a virtual clock).
   */
  follow(dispatchUuid: string, seconds: number, tick: (() => Promise<void>) | undefined, print: (webhook: Webhook) => void): Promise<Webhook | undefined>;
}

async function startReceiver(): Promise<Receiver> {
  const received: Webhook[] = [];
  let notify = () => {};
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      try {
        received.push({ at: systemClock.wallNow(), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      } catch {
        // not JSON: not ours
      }
      response.writeHead(200).end();
      notify();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    server,
    url,
    async follow(dispatchUuid, seconds, tick, print) {
      const ours = (webhook: Webhook) => webhook.body.dispatch_uuid === dispatchUuid || webhook.body._links?.dispatch?.dispatch_uuid === dispatchUuid;
      let shown = 0;
      const deadline = systemClock.wallNow() + seconds * 1000;
      let ticks = 0;
      for (;;) {
        // Statuses may arrive just after the report: it is shown last, once they had a moment.
        const statuses = received.filter((webhook) => ours(webhook) && webhook.body.template !== 'failover');
        for (; shown < statuses.length; shown += 1) print(statuses[shown]!);
        const report = received.find((webhook) => ours(webhook) && webhook.body.template === 'failover');
        if (report && systemClock.wallNow() - report.at > 300) {
          print(report);
          return report;
        }
        if (tick ? ticks * TICK_SECONDS >= seconds : systemClock.wallNow() > deadline) return undefined;
        if (tick && !report) {
          await tick();
          ticks += 1;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 100);
          notify = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    },
  };
}
