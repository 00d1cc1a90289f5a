import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { CHANNELS } from '../core/channel.js';
import { isDecimalPrice } from '../core/pricing.js';
import { channelsSchema, providersSchema } from './provider-schema.js';
import { httpUrl, number, settings, text, wholeNumber } from './schema-parts.js';

/**
 * The settings as they may be written (config file keys, with flags and environment variables
 * merged in), validated with zod. Every object is strict: an unknown key is an error that names
 * it and lists what the object takes. Numbers may be numeric strings ("64"), since `${NAME}`
 * substitution and environment variables produce strings.
 */

const decimal = z.string({ error: 'must be a decimal string such as "0.002"' }).refine(isDecimalPrice, { error: 'must be a decimal string such as "0.002"' });

const network = z.string({ error: 'must be a network such as "10.0.0.0/8"' }).refine((value) => ipaddr.isValidCIDR(value), { error: 'must be a network such as "10.0.0.0/8" or "fd00::/8"' });

const proxy = z
  .string({ error: 'must be an address or network such as "127.0.0.1" or "10.0.0.0/8"' })
  .refine((value) => ipaddr.isValid(value) || ipaddr.isValidCIDR(value), { error: 'must be an address or network such as "127.0.0.1" or "10.0.0.0/8"' });

const channelPrice = settings({
  default: decimal,
  // A bad key is reported under its own name: "prefixes.+44 is not a prefix of digits".
  prefixes: z.record(z.string().regex(/^\d+$/), decimal, { error: (issue) => (issue.code === 'invalid_key' ? 'is not a prefix of digits' : undefined) }).optional(),
});

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const settingsSchema = settings({
  port: wholeNumber(0, 65535).optional(),
  host: text.optional(),
  /** `sqlite:PATH` or `postgres://…`, read in config.ts. */
  database: text.optional(),
  sqlite_synchronous: z.enum(['NORMAL', 'FULL'], { error: 'must be NORMAL or FULL' }).optional(),
  /** Connections each node keeps to a postgres:// database (docs/operations.md sizes them). */
  postgres_pool_size: wholeNumber(1, 1000).optional(),
  clock: z.enum(['real', 'virtual'], { error: 'must be real or virtual' }).optional(),
  pricing: settings({
    currency: text.optional(),
    dispatch_fee: decimal.optional(),
    channels: settings(Object.fromEntries(CHANNELS.map((channel) => [channel, channelPrice.optional()])) as Record<(typeof CHANNELS)[number], z.ZodOptional<typeof channelPrice>>).optional(),
  }).optional(),
  /** How providers reach `POST /webhooks/{provider}` (their callback URLs are built from it). */
  public_url: httpUrl.optional(),
  providers: providersSchema.optional(),
  channels: channelsSchema.optional(),
  sandbox: settings({ default_delivered_after: number(0).optional(), serve_unrouted: z.boolean({ error: 'must be true or false' }).optional() }).optional(),
  engine: settings({
    concurrency: wholeNumber(1).optional(),
    poll_interval_ms: number(10).optional(),
    lease_ms: number(1000).optional(),
  }).optional(),
  sends: settings({
    concurrency: wholeNumber(1).optional(),
    concurrency_per_provider: wholeNumber(1).optional(),
    timeout_ms: number(100).optional(),
  }).optional(),
  webhooks: settings({
    timeout_ms: number(100).optional(),
    concurrency: wholeNumber(1).optional(),
    concurrency_per_origin: wholeNumber(1).optional(),
    concurrency_per_account: wholeNumber(1).optional(),
    /** Networks beyond the public internet that webhooks may reach (DESIGN §3); `[]` in production. */
    allow_networks: z.array(network, { error: 'must be a list of networks such as ["10.0.0.0/8"]' }).optional(),
  }).optional(),
  http: settings({
    headers_timeout_ms: number(100).optional(),
    request_timeout_ms: number(100).optional(),
    keep_alive_timeout_ms: number(100).optional(),
    max_connections: wholeNumber(1).optional(),
    trust_proxy: z.array(proxy, { error: 'must be a list of addresses or networks such as ["127.0.0.1"]' }).optional(),
  }).optional(),
  auth: settings({
    max_failures: wholeNumber(1).optional(),
    failure_window_seconds: number(1).optional(),
  }).optional(),
  applications: settings({ max_per_account: wholeNumber(1).optional() }).optional(),
  dispatch: settings({ ceiling_seconds: number(1).optional() }).optional(),
  receipts: settings({ unmatched_ttl_seconds: number(1).optional() }).optional(),
  /** How long finished dispatches, messages and webhooks are kept. */
  retention: settings({ days: number(0.01).optional() }).optional(),
  log: settings({ level: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).optional() }).optional(),
});

export type Settings = z.infer<typeof settingsSchema>;

/** One line per problem, naming the setting: `engine.concurency is not a setting: engine takes concurrency, …`. */
export function describeIssues(error: z.ZodError, input: unknown): string[] {
  return error.issues.flatMap((issue) => {
    const at = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      const owner = at.length === 0 ? 'the configuration' : at.join('.');
      return issue.keys.map((key) => `${[...at, key].join('.')} is not a setting: ${owner} ${issue.message}`);
    }
    // The value at a bad key's path is its value, not the key: nothing to quote.
    const secretLooking = SECRET_NAMES.test(at.at(-1) ?? '') || issue.code === 'invalid_key';
    return [`${at.join('.') || 'the configuration'} ${issue.message}${secretLooking ? '' : quoted(valueAt(input, at))}`];
  });
}

/** Settings whose value is never repeated in an error: they may hold a credential. */
const SECRET_NAMES = /secret|password|token|key|pem/i;

/** The bad value, quoted, when it is a short scalar. */
function quoted(value: unknown): string {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return '';
  const shown = String(value);
  return shown.length <= 40 ? ` (got "${shown}")` : '';
}

function valueAt(input: unknown, path: readonly string[]): unknown {
  let value = input;
  for (const key of path) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}
