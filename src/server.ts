import { BUILT_IN_SANDBOX } from './core/routing.js';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { pino, type DestinationStream, type Logger } from 'pino';
import { buildApp } from './api/app.js';
import type { ChannelAdapter } from './channels/channel-adapter.js';
import { configuredAdapter } from './channels/configured-providers.js';
import { ProviderRegistry } from './channels/provider-registry.js';
import { SandboxNetwork } from './channels/sandbox/sandbox-network.js';
import { ProviderOutages } from './channels/sandbox/provider-outages.js';
import { openSandboxState } from './channels/sandbox/open-sandbox-state.js';
import type { Channel } from './core/channel.js';
import type { Clock } from './core/clock.js';
import type { Config } from './config/config.js';
import { AccountCache } from './engine/accounts/account-cache.js';
import { createFirstAccount, type CreatedAccount } from './engine/accounts/create-account.js';
import { RealClock, VirtualClock } from './engine/clock.js';
import type { EngineContext } from './engine/engine-context.js';
import { JobEngine } from './engine/job-engine.js';
import { JobWorkers } from './engine/job-workers.js';
import { RetentionSweeper } from './engine/retention-sweeper.js';
import { createJobHandlers } from './engine/jobs/job-handlers.js';
import type { Lane } from './engine/jobs/job-kinds.js';
import { createUseCases } from './engine/use-cases/index.js';
import { providerSink } from './engine/use-cases/record-receipt.js';
import { pacedSendLimits } from './engine/send-route.js';
import { VirtualTime } from './engine/virtual-time.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';
import { WebhookAddressPolicy } from './webhooks/address-policy.js';
import { createWebhookSender } from './webhooks/http-sender.js';

export interface RunningServer {
  url: string;
  port: number;
  store: Store;
  clock: Clock;
  engine: JobWorkers;
  providers: ProviderRegistry;
  app: FastifyInstance;
  log: Logger;
  /** Set when this start seeded the first account of an empty database. */
  seededAccount?: CreatedAccount & { generated: boolean };
  close(): Promise<void>;
}

/** What a caller may add to the composition: providers of its own (tests' fake providers, embedders). */
export interface ServerExtras {
  log?: Logger;
  /** Extra provider adapters, each serving the channels named; every other channel is the sandbox's. */
  providers?: Array<{ adapter: ChannelAdapter; channels: Channel[] }>;
  /** Scheduling and wall time; by default real, or virtual with `--clock virtual`. */
  clock?: Clock;
}


/** The server's log: JSON lines on stdout (or `destination`), credentials redacted, request paths only. */
export function createLogger(config: Readonly<Config>, destination?: DestinationStream): Logger {
  return pino({
    level: config.log.level,
    // Credentials never reach the log, whatever a future log line includes.
    redact: { paths: ['req.headers.authorization', '*.authorization', '*.apiSecret', '*.api_secret', '*.private_key', '*.signatureSecret'], censor: '[redacted]' },
    serializers: {
      // Requests are logged by path: query strings carry providers' tokens (Meta's hub.verify_token, a Vonage `sig`).
      req: (request: { method: string; url: string; ip?: string }) => ({ method: request.method, url: request.url.split('?')[0], remoteAddress: request.ip }),
    },
  }, destination);
}

/** The composition root: store, clock, providers, engine lanes and the HTTP API, started in that order. */
export async function startServer(config: Readonly<Config>, extras: ServerExtras = {}): Promise<RunningServer> {
  const { log = createLogger(config), providers: extraProviders = [], clock = defaultClock(config) } = extras;
  const database = await openStore(config.database, clock, {
    listen: true,
    onConnectionError: (error) => log.warn({ err: error }, 'a database connection broke while idle; the next query opens a fresh one'),
    onBackgroundError: (error) => log.warn({ err: error }, 'checkpointing the SQLite WAL in the background failed; the server connection checkpoints by itself'),
  });
  const { store } = database;
  try {
    await store.recoverAtStart();
  } catch (error) {
    await store.close(); // another server owns the database (OD_DATABASE_IN_USE): leave it as it is
    throw error;
  }

  const sandboxState = await openSandboxState(database, clock.wallNow());
  const outages = new ProviderOutages();
  const sandboxNamed = (provider: string, defaultDeliveredAfterSeconds: number) => new SandboxNetwork({ provider, state: sandboxState, clock, defaultDeliveredAfterSeconds, outages });
  const builtInSettings = config.providers[BUILT_IN_SANDBOX];
  // The built-in sandbox is always there; a provider named `sandbox` only configures it.
  const sandbox = sandboxNamed(BUILT_IN_SANDBOX, (builtInSettings?.type === 'sandbox' ? builtInSettings.default_delivered_after : undefined) ?? config.sandbox.defaultDeliveredAfterSeconds);
  let configured: ChannelAdapter[];
  try {
    configured = Object.entries(config.providers)
      .filter(([name]) => name !== BUILT_IN_SANDBOX)
      .map(([name, settings]) =>
        configuredAdapter(name, settings, {
          sendTimeoutMs: config.sends.timeoutMs,
          clock,
          log,
          publicUrl: config.publicUrl,
          sandbox: (sandboxName, sandboxSettings) => sandboxNamed(sandboxName, sandboxSettings.default_delivered_after ?? config.sandbox.defaultDeliveredAfterSeconds),
        }),
      );
  } catch (error) {
    await store.close(); // a provider that cannot be made (an unreadable key file): nothing is left open
    throw error;
  }
  // A test's extra providers serve their channels before any configured route.
  const extraRoutes = extraProviders.flatMap(({ adapter, channels }) => channels.map((channel) => [channel, { prefixes: [], via: [adapter.provider] }] as const));
  const routes = { ...config.routing.routes };
  for (const [channel, route] of extraRoutes) routes[channel] = [route, ...(routes[channel] ?? [])];
  const rates = new Map(Object.entries(config.providers).flatMap(([name, settings]) => (settings.rate_per_second === undefined ? [] : [[name, settings.rate_per_second] as const])));
  const providers = new ProviderRegistry([sandbox, ...configured, ...extraProviders.map(({ adapter }) => adapter)], { ...config.routing, routes }, rates);
  // Each node paces a provider at its share of rate_per_second, so the nodes together keep to it.
  store.onNodesChanged((liveNodes) => {
    providers.shareRatesAmong(liveNodes);
    log.info({ liveNodes }, 'nodes sharing the database changed; provider rates and concurrency shares are divided among them');
  });
  const webhookAddresses = new WebhookAddressPolicy(config.webhooks.allowNetworks);
  const ctx: EngineContext = {
    store,
    accounts: new AccountCache((apiKey) => store.findAccount(apiKey), () => clock.wallNow()),
    clock,
    log,
    providers,
    pricing: config.pricing,
    dispatch: { ceilingMs: config.dispatch.ceilingMs },
    sends: { timeoutMs: config.sends.timeoutMs },
    receipts: { unmatchedTtlMs: config.receipts.unmatchedTtlMs },
    webhookAddresses,
    applications: config.applications,
  };
  for (const adapter of providers.all()) await adapter.start(providerSink(ctx, adapter.provider));

  // One connection per webhook slot: a request queued behind others would spend its timeout waiting.
  const sender = createWebhookSender({
    clock,
    timeoutMs: config.webhooks.timeoutMs,
    connections: config.webhooks.concurrency,
    addresses: webhookAddresses,
  });
  const handlers = createJobHandlers(ctx, sender);
  const lane = (name: Lane, concurrency: number, shares: { maxPerKey?: number; keyLimits?: ReadonlyMap<string, number>; maxPerTenant?: number } = {}) =>
    new JobEngine({ store, clock, log, handlers, lane: name, concurrency, ...shares, pollIntervalMs: config.engine.pollIntervalMs, leaseMs: config.engine.leaseMs, runAddedJobs: true });
  const engine = new JobWorkers(
    {
      engine: lane('engine', config.engine.concurrency),
      sends: lane('sends', config.sends.concurrency, {
        maxPerKey: config.sends.concurrencyPerProvider,
        keyLimits: pacedSendLimits(rates, config.sends.concurrencyPerProvider),
      }),
      webhooks: lane('webhooks', config.webhooks.concurrency, { maxPerKey: config.webhooks.concurrencyPerOrigin, maxPerTenant: config.webhooks.concurrencyPerAccount }),
    },
    store,
    clock,
  );
  // And to its part of each receiver's, provider's and account's share of the lanes.
  store.onNodesChanged((liveNodes) => engine.shareAmong(liveNodes));
  let advanceClock: ((ms: number) => Promise<number>) | undefined;
  if (clock instanceof VirtualClock) {
    clock.onAdvance(() => engine.wake());
    const time = new VirtualTime(clock, engine);
    advanceClock = (ms) => time.advance(ms);
  }

  const closeProviders = () => Promise.all(providers.all().map((adapter) => adapter.close()));
  const app = await buildApp({ useCases: createUseCases(ctx), clock, log, providers, sandbox, advanceClock, http: config.http, auth: config.auth });
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await sender.close();
    await closeProviders();
    await store.close();
    throw error;
  }
  // Seeded once listening, so a start that cannot listen leaves no account nobody saw.
  const seededAccount = await seedFirstAccount(store, config, clock);
  engine.start();
  const retention = new RetentionSweeper({ store, clock, log, keepMs: config.retention.keepMs });
  retention.start();
  const { port } = app.server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    port,
    store,
    clock,
    engine,
    providers,
    app,
    log,
    seededAccount,
    close: () =>
      (closing ??= (async () => {
        // No new requests and no new claims; what is in flight on either finishes.
        await Promise.all([app.close(), engine.stop(), retention.stop()]);
        await sender.close();
        await closeProviders();
        await store.close();
      })()),
  };
}

function defaultClock(config: Readonly<Config>): Clock {
  return config.clock === 'virtual' ? new VirtualClock() : new RealClock();
}

/** An empty database gets one account: from OPENDISPATCH_API_KEY/SECRET, or a generated one. */
async function seedFirstAccount(store: Store, config: Readonly<Config>, clock: Clock): Promise<RunningServer['seededAccount']> {
  if ((await store.countAccounts()) > 0) return undefined;
  const created = await createFirstAccount(store, { ...config.seedAccount, ...config.seedWebhooks }, clock.wallNow());
  return created && { ...created, generated: config.seedAccount === undefined };
}
