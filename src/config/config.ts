import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CHANNELS } from '../core/channel.js';
import { isDecimalPrice, type PriceTable } from '../core/pricing.js';
import { isHttpUrl } from '../core/url.js';

export type DatabaseConfig =
  | { kind: 'sqlite'; path: string; synchronous: 'NORMAL' | 'FULL' }
  | { kind: 'postgres'; url: string };

/** The one compiled, frozen configuration passed down; no other module reads process.env. */
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
  engine: { concurrency: number; pollIntervalMs: number; leaseMs: number };
  /** Webhook POSTs run in their own lane of `concurrency` jobs, apart from sends and timers. */
  webhooks: { timeoutMs: number; concurrency: number; concurrencyPerOrigin: number };
  /** The last step of a dispatch ends in `error` when it has no final status this long after it started. */
  dispatch: { ceilingMs: number };
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

export class ConfigError extends Error {
  constructor(readonly field: string, reason: string) {
    super(`configuration: ${field} ${reason}`);
  }
}

const DEFAULT_DATABASE = 'sqlite:./data/opendispatch.db';

export function loadConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const configPath = flags.config ?? env.OPENDISPATCH_CONFIG;
  const file = configPath ? readConfigFile(configPath) : {};
  const pick = <T>(flag: T | undefined, envValue: T | undefined, fileValue: unknown): T | unknown =>
    flag ?? envValue ?? fileValue;

  const config: Config = {
    port: parsePort(pick(flags.port, env.PORT, file.port) ?? 3000),
    host: asString('host', pick(flags.host, env.HOST, file.host) ?? '127.0.0.1'),
    database: parseDatabase(
      asString('database', pick(flags.database, env.DATABASE_URL, file.database) ?? DEFAULT_DATABASE),
      file.sqlite_synchronous,
    ),
    clock: parseClock(pick(flags.clock, env.OPENDISPATCH_CLOCK, file.clock) ?? 'real'),
    seedAccount: parseSeedAccount(env),
    seedWebhooks: {
      statusUrl: optionalUrl('OPENDISPATCH_STATUS_URL', env.OPENDISPATCH_STATUS_URL),
      inboundUrl: optionalUrl('OPENDISPATCH_INBOUND_URL', env.OPENDISPATCH_INBOUND_URL),
    },
    pricing: parsePricing(file.pricing),
    sandbox: {
      defaultDeliveredAfterSeconds: asNumber('sandbox.default_delivered_after', objectAt(file, 'sandbox').default_delivered_after ?? 1, 0),
    },
    engine: {
      concurrency: asInteger('engine.concurrency', objectAt(file, 'engine').concurrency ?? 64, 1),
      pollIntervalMs: asNumber('engine.poll_interval_ms', objectAt(file, 'engine').poll_interval_ms ?? 1000, 10),
      leaseMs: asNumber('engine.lease_ms', objectAt(file, 'engine').lease_ms ?? 60_000, 1000),
    },
    webhooks: {
      timeoutMs: asNumber('webhooks.timeout_ms', objectAt(file, 'webhooks').timeout_ms ?? 10_000, 100),
      concurrency: asInteger('webhooks.concurrency', objectAt(file, 'webhooks').concurrency ?? 64, 1),
      // One receiver that hangs holds at most this many of the lane's slots; the rest serve others.
      concurrencyPerOrigin: asInteger('webhooks.concurrency_per_origin', objectAt(file, 'webhooks').concurrency_per_origin ?? 32, 1),
    },
    dispatch: { ceilingMs: 1000 * asNumber('dispatch.ceiling_seconds', objectAt(file, 'dispatch').ceiling_seconds ?? 86_400, 1) },
    log: {
      level: parseLogLevel(env.LOG_LEVEL ?? objectAt(file, 'log').level ?? 'info'),
    },
  };
  // A lease must outlast the longest job, a webhook attempt, or a second run would start.
  if (config.engine.leaseMs < 2 * config.webhooks.timeoutMs) {
    throw new ConfigError('engine.lease_ms', `must be at least twice webhooks.timeout_ms (${2 * config.webhooks.timeoutMs})`);
  }
  return deepFreeze(config);
}

type ConfigFile = Record<string, unknown>;

function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(resolve(path), 'utf8');
  } catch (error) {
    throw new ConfigError('--config', `cannot be read: ${(error as Error).message}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (!isObject(parsed)) throw new Error('the top level must be a JSON object');
    return parsed;
  } catch (error) {
    throw new ConfigError('--config', `is not valid JSON: ${(error as Error).message}`);
  }
}

function parseDatabase(value: string, synchronous: unknown): DatabaseConfig {
  if (value.startsWith('postgres://') || value.startsWith('postgresql://')) return { kind: 'postgres', url: value };
  if (value.startsWith('sqlite:')) {
    const path = value.slice('sqlite:'.length);
    if (!path) throw new ConfigError('database', 'needs a path after sqlite:');
    const mode = synchronous ?? 'NORMAL';
    if (mode !== 'NORMAL' && mode !== 'FULL') throw new ConfigError('sqlite_synchronous', 'must be NORMAL or FULL');
    return { kind: 'sqlite', path: path === ':memory:' ? path : resolve(path), synchronous: mode };
  }
  throw new ConfigError('database', `must start with sqlite: or postgres:// (got "${value}")`);
}

function parsePort(value: unknown): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError('port', `must be an integer 0-65535 (got "${String(value)}")`);
  return port;
}

function parseClock(value: unknown): 'real' | 'virtual' {
  if (value === 'real' || value === 'virtual') return value;
  throw new ConfigError('clock', `must be real or virtual (got "${String(value)}")`);
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function parseLogLevel(value: unknown): string {
  if (typeof value !== 'string' || !LOG_LEVELS.includes(value)) throw new ConfigError('log.level (LOG_LEVEL)', `must be one of ${LOG_LEVELS.join(', ')} (got "${String(value)}")`);
  return value;
}

function optionalUrl(field: string, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!isHttpUrl(value)) throw new ConfigError(field, `must be an http(s) URL (got "${value}")`);
  return value;
}

function parseSeedAccount(env: NodeJS.ProcessEnv): Config['seedAccount'] {
  const apiKey = env.OPENDISPATCH_API_KEY;
  const apiSecret = env.OPENDISPATCH_API_SECRET;
  if (!apiKey && !apiSecret) return undefined;
  if (!apiKey || !apiSecret) throw new ConfigError('OPENDISPATCH_API_KEY/OPENDISPATCH_API_SECRET', 'must be set together');
  return { apiKey, apiSecret };
}

function parsePricing(value: unknown): PriceTable {
  const pricing = value === undefined ? {} : value;
  if (!isObject(pricing)) throw new ConfigError('pricing', 'must be an object');
  const currency = asString('pricing.currency', pricing.currency ?? 'EUR');
  const dispatchFee = pricing.dispatch_fee ?? '0';
  if (!isDecimalPrice(dispatchFee)) throw new ConfigError('pricing.dispatch_fee', 'must be a decimal string such as "0.002"');
  const channels: PriceTable['channels'] = {};
  const configured = pricing.channels ?? {};
  if (!isObject(configured)) throw new ConfigError('pricing.channels', 'must be an object');
  for (const [channel, entry] of Object.entries(configured)) {
    const field = `pricing.channels.${channel}`;
    if (!(CHANNELS as readonly string[]).includes(channel)) throw new ConfigError(field, `is not a channel (${CHANNELS.join(', ')})`);
    if (!isObject(entry) || !isDecimalPrice(entry.default)) throw new ConfigError(`${field}.default`, 'must be a decimal string');
    const prefixes = entry.prefixes ?? {};
    if (!isObject(prefixes)) throw new ConfigError(`${field}.prefixes`, 'must be an object');
    for (const [prefix, price] of Object.entries(prefixes)) {
      if (!/^\d+$/.test(prefix) || !isDecimalPrice(price)) throw new ConfigError(`${field}.prefixes.${prefix}`, 'must map digits to a decimal string');
    }
    channels[channel as keyof PriceTable['channels']] = { default: entry.default, prefixes: prefixes as Record<string, string> };
  }
  return { currency, channels, dispatchFee };
}

function objectAt(file: ConfigFile, key: string): Record<string, unknown> {
  const value = file[key];
  if (value === undefined) return {};
  if (!isObject(value)) throw new ConfigError(key, 'must be an object');
  return value;
}

function asString(field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new ConfigError(field, 'must be a non-empty string');
  return value;
}

function asInteger(field: string, value: unknown, min: number): number {
  const number = asNumber(field, value, min);
  if (!Number.isInteger(number)) throw new ConfigError(field, 'must be a whole number');
  return number;
}

function asNumber(field: string, value: unknown, min: number): number {
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number) || number < min) throw new ConfigError(field, `must be a number >= ${min}`);
  return number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
