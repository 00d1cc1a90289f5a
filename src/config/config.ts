import { resolve } from 'node:path';
import type { PriceTable } from '../core/pricing.js';
import { isHttpUrl } from '../core/url.js';
import { DEFAULT_ALLOW_NETWORKS } from '../core/webhook-targets.js';
import type { Channel } from '../core/channel.js';
import { BUILT_IN_SANDBOX, type Route, type RoutingTable } from '../core/routing.js';
import type { ProviderSettings } from './provider-schema.js';
import { readConfigFile } from './config-file.js';
import { ConfigError } from './config-error.js';
import { describeIssues, settingsSchema, type Settings } from './config-schema.js';

export { ConfigError };

export type DatabaseConfig = { kind: 'sqlite'; path: string; synchronous: 'NORMAL' | 'FULL' } | { kind: 'postgres'; url: string; poolSize: number };

/** The one compiled, frozen configuration passed down (DESIGN §2 rule 8); no other module reads process.env. */
export interface Config {
  port: number;
  host: string;
  database: DatabaseConfig;
  clock: 'real' | 'virtual';
  /** Seeds the first account of an empty database (OPENDISPATCH_API_KEY / _SECRET). */
  seedAccount?: { apiKey: string; apiSecret: string };
  /** Default webhooks of the seeded first account (OPENDISPATCH_STATUS_URL / _INBOUND_URL). */
  seedWebhooks: { statusUrl?: string; inboundUrl?: string };
  pricing: PriceTable;
  sandbox: { defaultDeliveredAfterSeconds: number };
  /** Named provider instances with their type's settings (DESIGN §4); one named `sandbox` configures the built-in sandbox. */
  providers: Readonly<Record<string, ProviderSettings>>;
  /** Channel → routes → providers; the sandbox serves what no route does only in the laptop default or with sandbox.serve_unrouted. */
  routing: RoutingTable;
  /** How providers reach POST /webhooks/{provider}. */
  publicUrl?: string;
  /** The lane of the engine's own work: failover timers, provider follow-ups, housekeeping. */
  engine: { concurrency: number; pollIntervalMs: number; leaseMs: number };
  /** Sends run in their own lane; one provider holds at most its share of it, so a provider that hangs delays no other. */
  sends: { concurrency: number; concurrencyPerProvider: number; timeoutMs: number };
  /** Webhook POSTs run in their own lane of `concurrency` jobs, apart from sends and timers. */
  webhooks: {
    timeoutMs: number;
    concurrency: number;
    /** One receiver (scheme, host, port) holds at most this many of the lane's slots. */
    concurrencyPerOrigin: number;
    /** One account holds at most this many, whatever its receivers: one tenant cannot stall the others. */
    concurrencyPerAccount: number;
    /** CIDR networks beyond public unicast that webhooks may connect to. */
    allowNetworks: readonly string[];
  };
  /** What one client connection may hold: a slow client is cut off, and connections are bounded. */
  http: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number; maxConnections: number; trustProxy: readonly string[] };
  /** Failed Basic checks per api key and per client address per window, before a 429. */
  auth: { maxFailures: number; failureWindowMs: number };
  applications: { maxPerAccount: number };
  /** The last step of a dispatch ends in `error` when it has no final status this long after it started. */
  dispatch: { ceilingMs: number };
  /** A receipt held for a reference that no message carries is given up on after this long. */
  receipts: { unmatchedTtlMs: number };
  retention: { keepMs: number };
  /** Message bodies and credentials are never logged; only the level is configurable. */
  log: { level: string };
}

/** What the command line may set; each wins over env, which wins over the config file. */
export interface ConfigFlags {
  port?: string | number;
  host?: string;
  database?: string;
  config?: string;
  clock?: string;
}

export type Environment = Readonly<Record<string, string | undefined>>;

const DEFAULT_DATABASE = 'sqlite:./data/opendispatch.db';

/**
 * Flags win over environment variables, which win over the config file (JSON or YAML). Every
 * problem is reported at once, each naming its setting; nothing is half-applied.
 */
export function loadConfig(flags: ConfigFlags = {}, env: Environment = process.env): Readonly<Config> {
  const configPath = flags.config ?? env.OPENDISPATCH_CONFIG;
  const file = configPath ? readConfigFile(configPath, env) : {};
  const log = typeof file.log === 'object' && file.log !== null ? file.log : {};
  const input = {
    ...file,
    ...defined({
      port: flags.port ?? env.PORT,
      host: flags.host ?? env.HOST,
      database: flags.database ?? env.DATABASE_URL,
      clock: flags.clock ?? env.OPENDISPATCH_CLOCK,
    }),
    ...(env.LOG_LEVEL !== undefined && { log: { ...log, level: env.LOG_LEVEL } }),
  };
  const parsed = settingsSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(describeIssues(parsed.error, input));

  const problems: string[] = [];
  const config = compile(parsed.data, env, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

/** The settings with their defaults, in the shape the code uses; cross-field rules add to `problems`. */
function compile(settings: Settings, env: Environment, problems: string[]): Config {
  const config: Config = {
    port: settings.port ?? 3000,
    host: settings.host ?? '127.0.0.1',
    database: parseDatabase(settings.database ?? DEFAULT_DATABASE, settings, problems),
    clock: settings.clock ?? 'real',
    seedAccount: seedAccount(env, problems),
    seedWebhooks: {
      statusUrl: optionalUrl('OPENDISPATCH_STATUS_URL', env.OPENDISPATCH_STATUS_URL, problems),
      inboundUrl: optionalUrl('OPENDISPATCH_INBOUND_URL', env.OPENDISPATCH_INBOUND_URL, problems),
    },
    pricing: {
      currency: settings.pricing?.currency ?? 'EUR',
      dispatchFee: settings.pricing?.dispatch_fee ?? '0',
      channels: Object.fromEntries(
        Object.entries(settings.pricing?.channels ?? {}).map(([channel, price]) => [channel, { default: price!.default, prefixes: price!.prefixes ?? {} }]),
      ),
    },
    sandbox: { defaultDeliveredAfterSeconds: settings.sandbox?.default_delivered_after ?? 1 },
    providers: settings.providers ?? {},
    routing: compileRouting(settings, problems),
    ...(settings.public_url !== undefined && { publicUrl: settings.public_url }),
    engine: {
      concurrency: settings.engine?.concurrency ?? 64,
      pollIntervalMs: settings.engine?.poll_interval_ms ?? 1000,
      leaseMs: settings.engine?.lease_ms ?? 60_000,
    },
    sends: {
      concurrency: settings.sends?.concurrency ?? 64,
      // One provider that hangs holds at most this many of the lane's slots; the rest serve others.
      concurrencyPerProvider: settings.sends?.concurrency_per_provider ?? 32,
      timeoutMs: settings.sends?.timeout_ms ?? 30_000,
    },
    webhooks: {
      timeoutMs: settings.webhooks?.timeout_ms ?? 10_000,
      concurrency: settings.webhooks?.concurrency ?? 128,
      // One receiver that hangs holds at most this many of the lane's slots; the rest serve others.
      concurrencyPerOrigin: settings.webhooks?.concurrency_per_origin ?? 32,
      // Above one origin's share, so one receiver gets its full share; below the lane, so two
      // tenants whose receivers all hang still leave a quarter of it to everyone else.
      concurrencyPerAccount: settings.webhooks?.concurrency_per_account ?? 48,
      allowNetworks: settings.webhooks?.allow_networks ?? DEFAULT_ALLOW_NETWORKS,
    },
    http: {
      headersTimeoutMs: settings.http?.headers_timeout_ms ?? 10_000,
      requestTimeoutMs: settings.http?.request_timeout_ms ?? 30_000,
      // Longer than the idle timeout of common load balancers (60 s): a proxy reusing a connection
      // the server has just closed would see a reset.
      keepAliveTimeoutMs: settings.http?.keep_alive_timeout_ms ?? 72_000,
      maxConnections: settings.http?.max_connections ?? 4_096,
      trustProxy: settings.http?.trust_proxy ?? [],
    },
    auth: { maxFailures: settings.auth?.max_failures ?? 10, failureWindowMs: 1000 * (settings.auth?.failure_window_seconds ?? 60) },
    applications: { maxPerAccount: settings.applications?.max_per_account ?? 1000 },
    dispatch: { ceilingMs: 1000 * (settings.dispatch?.ceiling_seconds ?? 86_400) },
    receipts: { unmatchedTtlMs: 1000 * (settings.receipts?.unmatched_ttl_seconds ?? 3600) },
    retention: { keepMs: Math.round(86_400_000 * (settings.retention?.days ?? 7)) },
    log: { level: settings.log?.level ?? 'info' },
  };
  // The virtual clock is one per process, moved by any caller of the sandbox: a test tool only.
  if (config.clock === 'virtual' && !isLoopback(config.host)) {
    problems.push(`clock virtual needs a loopback host (127.0.0.1, ::1 or localhost): its time is the whole server's (got "${config.host}")`);
  }
  // Several nodes share a PostgreSQL database, and each would keep a virtual time of its own.
  if (config.clock === 'virtual' && config.database.kind === 'postgres') {
    problems.push('clock virtual needs a sqlite: database: its time is one process\'s, and the nodes of a postgres:// database would each keep their own');
  }
  if (config.http.requestTimeoutMs < config.http.headersTimeoutMs) {
    problems.push('http.request_timeout_ms must be at least http.headers_timeout_ms');
  }
  // A lease must outlast the longest job (a webhook attempt, a send), or a second run would start.
  const longestJob = Math.max(config.webhooks.timeoutMs, config.sends.timeoutMs);
  if (config.engine.leaseMs < 2 * longestJob) {
    problems.push(`engine.lease_ms must be at least twice webhooks.timeout_ms and sends.timeout_ms (${2 * longestJob})`);
  }
  return config;
}

/**
 * The routes as the registry reads them. Every provider a route names must exist; the built-in
 * sandbox is always there as `sandbox`, and serves unrouted channels when no provider is
 * configured at all (the laptop default) or `sandbox.serve_unrouted` says so (DESIGN §3).
 */
function compileRouting(settings: Settings, problems: string[]): RoutingTable {
  const providers = settings.providers ?? {};
  // Naming it configures the built-in sandbox (its default_delivered_after); it cannot be another type.
  if (Object.hasOwn(providers, BUILT_IN_SANDBOX) && providers[BUILT_IN_SANDBOX]!.type !== 'sandbox') {
    problems.push(`providers.${BUILT_IN_SANDBOX} is the built-in sandbox's name: it must be of type sandbox, or give this provider another name`);
  }
  const routes: Partial<Record<Channel, Route[]>> = {};
  for (const [channel, channelRoutes] of Object.entries(settings.channels ?? {}) as Array<[Channel, Array<{ prefix?: string[]; via: string[] }> | undefined]>) {
    routes[channel] = (channelRoutes ?? []).map((route, index) => {
      for (const name of route.via) {
        if (name !== BUILT_IN_SANDBOX && !Object.hasOwn(providers, name)) problems.push(`channels.${channel}.${index}.via names ${JSON.stringify(name)}, which is not a provider: providers has ${[...new Set([BUILT_IN_SANDBOX, ...Object.keys(providers)])].join(', ')}`);
      }
      return { prefixes: route.prefix ?? [], via: route.via };
    });
  }
  // These providers are told, per message, where to report: nowhere without public_url.
  for (const [name, provider] of Object.entries(providers)) {
    if ((provider.type === 'twilio' || provider.type === 'vonage-sms' || provider.type === 'vonage-messages') && settings.public_url === undefined) {
      problems.push(`providers.${name} (${provider.type}) needs public_url: each message tells ${provider.type} to report to {public_url}/webhooks/${name}`);
    }
  }
  const servesUnrouted = settings.sandbox?.serve_unrouted ?? Object.keys(providers).length === 0;
  return { routes, ...(servesUnrouted && { unrouted: BUILT_IN_SANDBOX }) };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

function parseDatabase(value: string, settings: Pick<Settings, 'sqlite_synchronous' | 'postgres_pool_size'>, problems: string[]): DatabaseConfig {
  const synchronous = settings.sqlite_synchronous ?? 'NORMAL';
  // Ten connections carry the default lanes (their transactions are short); docs/operations.md.
  if (value.startsWith('postgres://') || value.startsWith('postgresql://')) return { kind: 'postgres', url: value, poolSize: settings.postgres_pool_size ?? 10 };
  if (value.startsWith('sqlite:')) {
    const path = value.slice('sqlite:'.length);
    if (!path) problems.push('database needs a path after sqlite:');
    return { kind: 'sqlite', path: path === ':memory:' ? path : resolve(path), synchronous };
  }
  // The value is not repeated: a mistyped URL may carry a password.
  problems.push('database must start with sqlite: or postgres://');
  return { kind: 'sqlite', path: '', synchronous };
}

function optionalUrl(name: string, value: string | undefined, problems: string[]): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!isHttpUrl(value)) problems.push(`${name} must be an http(s) URL (got "${value}")`);
  return value;
}

function seedAccount(env: Environment, problems: string[]): Config['seedAccount'] {
  const apiKey = env.OPENDISPATCH_API_KEY;
  const apiSecret = env.OPENDISPATCH_API_SECRET;
  if (!apiKey && !apiSecret) return undefined;
  if (!apiKey || !apiSecret) {
    problems.push('OPENDISPATCH_API_KEY/OPENDISPATCH_API_SECRET must be set together');
    return undefined;
  }
  return { apiKey, apiSecret };
}

/** Defaults the other commands take from the environment (their flags win). */
export function commandDefaults(env: Environment = process.env): { url?: string; apiKey?: string; apiSecret?: string } {
  return { url: env.OPENDISPATCH_URL, apiKey: env.OPENDISPATCH_API_KEY, apiSecret: env.OPENDISPATCH_API_SECRET };
}

/** The environment without the variables that seed the first account (commands other than `start` ignore them). */
export function withoutSeedAccount(env: Environment = process.env): Environment {
  const { OPENDISPATCH_API_KEY: _key, OPENDISPATCH_API_SECRET: _secret, ...rest } = env;
  return rest;
}

function defined<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
