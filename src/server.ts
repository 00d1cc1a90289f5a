import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { createAccount, type CreatedAccount } from './accounts/create-account.js';
import { buildApp } from './api/app.js';
import type { ChannelAdapter } from './channels/channel-adapter.js';
import { SANDBOX_RECEIPT_JOB, SandboxNetwork } from './channels/sandbox/sandbox-network.js';
import type { Config } from './config/config.js';
import { RealClock, VirtualClock, type Clock } from './engine/clock.js';
import { JobEngine } from './engine/job-engine.js';
import { JobWorkers } from './engine/job-workers.js';
import { DELIVER_WEBHOOK_JOB, createDeliverWebhookHandler } from './engine/jobs/deliver-webhook-job.js';
import { createSandboxReceiptHandler } from './engine/jobs/sandbox-receipt-job.js';
import { SEND_MESSAGE_JOB, createSendMessageHandler } from './engine/jobs/send-message-job.js';
import { createDispatchTimerHandler } from './engine/jobs/dispatch-timer-job.js';
import { DISPATCH_TIMER_JOB } from './engine/dispatch/decision-effects.js';
import { StatusRecorder } from './engine/status-recorder.js';
import { ReceiptIntake } from './engine/receipt-intake.js';
import { VirtualTime } from './engine/virtual-time.js';
import { openStore } from './store/open-store.js';
import type { KindFilter, Store } from './store/store.js';
import { createWebhookSender } from './webhooks/http-sender.js';

export interface RunningServer {
  url: string;
  port: number;
  store: Store;
  clock: Clock;
  engine: JobWorkers;
  app: FastifyInstance;
  log: Logger;
  /** Set when this start seeded the first account of an empty database. */
  seededAccount?: CreatedAccount & { generated: boolean };
  close(): Promise<void>;
}

export function createLogger(config: Readonly<Config>): Logger {
  return pino({
    level: config.log.level,
    // Credentials never reach the log, whatever a future log line includes.
    redact: { paths: ['req.headers.authorization', '*.authorization', '*.apiSecret', '*.api_secret', '*.private_key', '*.signatureSecret'], censor: '[redacted]' },
  });
}

/** Composes store, engine, channels and the HTTP API, and starts them. */
export async function startServer(config: Readonly<Config>, log: Logger = createLogger(config)): Promise<RunningServer> {
  const store = await openStore(config.database);
  await store.recoverAtStart();
  const clock: Clock = config.clock === 'virtual' ? new VirtualClock() : new RealClock();

  const sandbox = new SandboxNetwork(store, clock, config.sandbox.defaultDeliveredAfterSeconds);
  const adapterFor = (): ChannelAdapter => sandbox;
  // One connection per webhook slot: a request queued behind others would spend its timeout waiting.
  const sender = createWebhookSender({ timeoutMs: config.webhooks.timeoutMs, connections: config.webhooks.concurrency });
  const dispatchSettings = { ceilingMs: config.dispatch.ceilingMs };
  const recorder = new StatusRecorder(store, config.pricing, dispatchSettings);
  const intake = new ReceiptIntake(store, recorder, log);
  const handlers = {
    [SEND_MESSAGE_JOB]: createSendMessageHandler({ store, clock, recorder, adapterFor }),
    [DELIVER_WEBHOOK_JOB]: createDeliverWebhookHandler({ store, clock, sender }),
    [SANDBOX_RECEIPT_JOB]: createSandboxReceiptHandler({ store, clock, recorder }),
    [DISPATCH_TIMER_JOB]: createDispatchTimerHandler({ store, clock, pricing: config.pricing, settings: dispatchSettings }),
  };
  const lane = (kinds: KindFilter, concurrency: number, maxPerKey?: number) =>
    new JobEngine({ store, clock, log, handlers, kinds, concurrency, maxPerKey, pollIntervalMs: config.engine.pollIntervalMs, leaseMs: config.engine.leaseMs });
  const engine = new JobWorkers(
    [lane({ except: DELIVER_WEBHOOK_JOB }, config.engine.concurrency), lane({ only: DELIVER_WEBHOOK_JOB }, config.webhooks.concurrency, config.webhooks.concurrencyPerOrigin)],
    store,
    clock,
  );
  let advanceClock: ((ms: number) => Promise<number>) | undefined;
  if (clock instanceof VirtualClock) {
    clock.onAdvance(() => engine.wake());
    const time = new VirtualTime(clock, engine, store);
    advanceClock = (ms) => time.advance(ms);
  }

  const app = buildApp({ config, store, clock, log, sandbox, intake, advanceClock });
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await sender.close();
    await store.close();
    throw error;
  }
  // Seeded once listening, so a start that cannot listen leaves no account nobody saw.
  const seededAccount = await seedFirstAccount(store, config, clock);
  engine.start();
  const { port } = app.server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    port,
    store,
    clock,
    engine,
    app,
    log,
    seededAccount,
    close: () =>
      (closing ??= (async () => {
        await app.close();
        await engine.stop();
        await sender.close();
        await store.close();
      })()),
  };
}

/** An empty database gets one account: from OPENDISPATCH_API_KEY/SECRET, or a generated one. */
async function seedFirstAccount(store: Store, config: Readonly<Config>, clock: Clock): Promise<RunningServer['seededAccount']> {
  if ((await store.countAccounts()) > 0) return undefined;
  const created = await createAccount(store, { ...config.seedAccount, ...config.seedWebhooks }, clock.now());
  return { ...created, generated: config.seedAccount === undefined };
}
