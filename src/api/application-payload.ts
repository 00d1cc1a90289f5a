/**
 * The wire shapes of the Applications API v2 (reference/nexmo-api.md §3): the create/update
 * body, the list query, and the application and collection resources we answer with.
 * Pure: every bad field is reported at once as an `invalid_parameters` entry named by its
 * dotted path, and a valid body comes back normalised (known fields only, defaults filled in).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { rsaKeyProblem } from './auth/rsa-key-policy.js';
import type { ApplicationRecord } from '../core/records.js';
import { invalid, valid, type InvalidParameter, type Validation } from '../core/validation.js';
import { normaliseWebhookUrl } from '../core/url.js';

type Json = Record<string, unknown>;

export type HttpMethod = 'GET' | 'POST';

export type Webhook = { address: string; http_method: HttpMethod };
export type VoiceWebhook = Webhook & { connection_timeout: number; socket_timeout: number };

/** Types (not interfaces) so that they fit the record's `Record<string, unknown>`. */
export type Capabilities = {
  messages?: { webhooks: { inbound_url?: Webhook; status_url?: Webhook } };
  voice?: { webhooks: { answer_url?: VoiceWebhook; fallback_answer_url?: VoiceWebhook; event_url?: VoiceWebhook } };
  rtc?: { webhooks: { event_url?: Webhook } };
  vbc?: Record<string, never>;
};

export type ApplicationPayload = {
  name: string;
  /** Canonical PEM SPKI; absent when the client wants the server to generate a key pair. */
  publicKey?: string;
  capabilities: Capabilities;
  privacy: { improve_ai: boolean };
};

export type ApplicationResource = {
  id: string;
  name: string;
  capabilities: Record<string, unknown>;
  keys: { public_key: string; private_key?: string };
  privacy: { improve_ai: boolean };
  _links: { self: { href: string } };
};

export const APPLICATIONS_PATH = '/v2/applications';

const MAX_NAME = 200;
const MAX_URL = 2000;
/** A 4096-bit RSA SPKI PEM is about 800 characters; this only bounds the parser's work. */
const MAX_PEM = 10_000;
const PEM_HEADER = '-----BEGIN PUBLIC KEY-----';

// ---------------------------------------------------------------------------------------------
// webhook rules

interface Range {
  min: number;
  max: number;
  default: number;
}

interface WebhookRule {
  methods: readonly HttpMethod[];
  defaultMethod: HttpMethod;
  /** Voice webhooks only: how long Nexmo waits to connect and for the answer, in ms. */
  timeouts?: { connection: Range; socket: Range };
}

/** Nexmo delivers Messages webhooks by POST only (§3). */
const MESSAGES_WEBHOOK: WebhookRule = { methods: ['POST'], defaultMethod: 'POST' };
const RTC_WEBHOOK: WebhookRule = { methods: ['GET', 'POST'], defaultMethod: 'POST' };

/** Defaults as nexmo-node sends them: answer URLs fetched by GET, events POSTed. */
const voiceWebhook = (defaultMethod: HttpMethod, socketMax: number): WebhookRule => ({
  methods: ['GET', 'POST'],
  defaultMethod,
  timeouts: {
    connection: { min: 300, max: 1000, default: 1000 },
    socket: { min: 1000, max: socketMax, default: socketMax },
  },
});

/** Each capability with the webhooks it may name; `vbc` has none and is echoed as `{}`. */
const CAPABILITIES: Record<string, Record<string, WebhookRule>> = {
  messages: { inbound_url: MESSAGES_WEBHOOK, status_url: MESSAGES_WEBHOOK },
  voice: {
    answer_url: voiceWebhook('GET', 5000),
    fallback_answer_url: voiceWebhook('GET', 5000),
    event_url: voiceWebhook('POST', 10_000),
  },
  rtc: { event_url: RTC_WEBHOOK },
  vbc: {},
};

// ---------------------------------------------------------------------------------------------
// create / update body

/** Validates a create or update body (update has the same rules: full replace). */
export function validateApplicationPayload(body: unknown): Validation<ApplicationPayload> {
  if (!isObject(body)) return invalid([{ name: 'body', reason: 'must be a JSON object' }]);
  const issues = new Issues();
  const name = readName(issues, body.name);
  const publicKey = readKeys(issues, body.keys);
  const capabilities = readCapabilities(issues, body.capabilities);
  const privacy = readPrivacy(issues, body.privacy);
  if (issues.found.length > 0 || name === undefined || !capabilities || !privacy) return invalid(issues.found);
  return valid(publicKey === undefined ? { name, capabilities, privacy } : { name, publicKey, capabilities, privacy });
}

/**
 * Collects every problem found. Readers return `undefined` for a part they could not accept,
 * always after recording why, so the caller only has to look at `found`.
 */
class Issues {
  readonly found: InvalidParameter[] = [];

  add(name: string, reason: string): undefined {
    this.found.push({ name, reason });
    return undefined;
  }
}

function readName(issues: Issues, raw: unknown): string | undefined {
  if (isAbsent(raw)) return issues.add('name', 'is required');
  if (typeof raw !== 'string') return issues.add('name', 'must be a string');
  if (raw.trim() === '') return issues.add('name', 'must not be empty');
  return isLongerThan(raw, MAX_NAME) ? issues.add('name', `must be at most ${MAX_NAME} characters`) : raw;
}

/** `keys.private_key`, if a client sends one, is ignored: a private key is never stored. */
function readKeys(issues: Issues, raw: unknown): string | undefined {
  if (isAbsent(raw)) return undefined;
  if (!isObject(raw)) return issues.add('keys', 'must be a JSON object');
  if (isAbsent(raw.public_key)) return undefined;
  return readPublicKey(issues, raw.public_key, 'keys.public_key');
}

/**
 * Only an RSA key in PEM SPKI form, which is what RS256 JWTs are verified with. The header is
 * checked before parsing because node would also accept a *private* key here (deriving its
 * public half), and the key is re-exported so that only public material is ever stored.
 */
function readPublicKey(issues: Issues, raw: unknown, name: string): string | undefined {
  if (typeof raw !== 'string') return issues.add(name, 'must be a string');
  if (raw.length > MAX_PEM || !raw.trimStart().startsWith(PEM_HEADER)) {
    return issues.add(name, `must be a PEM public key starting with ${PEM_HEADER}`);
  }
  const key = parsePublicKey(raw);
  if (!key) return issues.add(name, 'is not a valid PEM public key');
  const problem = rsaKeyProblem(key);
  if (problem) return issues.add(name, problem);
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

function parsePublicKey(pem: string): KeyObject | undefined {
  try {
    return createPublicKey({ key: pem, format: 'pem' });
  } catch {
    return undefined;
  }
}

function readCapabilities(issues: Issues, raw: unknown): Capabilities | undefined {
  if (isAbsent(raw)) return {};
  if (!isObject(raw)) return issues.add('capabilities', 'must be a JSON object');
  const capabilities: Json = {};
  for (const [capability, value] of Object.entries(raw)) {
    const name = `capabilities.${capability}`;
    const rules = Object.hasOwn(CAPABILITIES, capability) ? CAPABILITIES[capability] : undefined;
    if (!rules) {
      issues.add(name, `is not a known capability; must be one of: ${Object.keys(CAPABILITIES).join(', ')}`);
      continue;
    }
    if (isAbsent(value)) continue;
    const read = readCapability(issues, value, name, rules);
    if (read) capabilities[capability] = read;
  }
  return capabilities as Capabilities;
}

/**
 * Fields we do not implement (`version`, `signed_callbacks`, `region`…) are dropped so that
 * SDK payloads keep working; a misspelt *webhook* is an error, because it would silently lose
 * the client's messages.
 */
function readCapability(issues: Issues, raw: unknown, name: string, rules: Record<string, WebhookRule>): Json | undefined {
  if (!isObject(raw)) return issues.add(name, 'must be a JSON object');
  const webhooks = readWebhooks(issues, raw.webhooks, `${name}.webhooks`, rules);
  if (!webhooks) return undefined;
  // A capability without webhooks (vbc) is a bare switch, echoed as `{}`.
  return Object.keys(rules).length === 0 ? {} : { webhooks };
}

function readWebhooks(issues: Issues, raw: unknown, name: string, rules: Record<string, WebhookRule>): Json | undefined {
  if (isAbsent(raw)) return {};
  if (!isObject(raw)) return issues.add(name, 'must be a JSON object');
  const known = Object.keys(rules);
  const webhooks: Json = {};
  for (const [webhook, value] of Object.entries(raw)) {
    const webhookName = `${name}.${webhook}`;
    const rule = Object.hasOwn(rules, webhook) ? rules[webhook] : undefined;
    if (!rule) {
      issues.add(webhookName, known.length === 0 ? 'is not allowed: this capability has no webhooks' : `is not a known webhook; must be one of: ${known.join(', ')}`);
      continue;
    }
    if (isAbsent(value)) continue;
    const read = readWebhook(issues, value, webhookName, rule);
    if (read) webhooks[webhook] = read;
  }
  return webhooks;
}

function readWebhook(issues: Issues, raw: unknown, name: string, rule: WebhookRule): Webhook | VoiceWebhook | undefined {
  if (!isObject(raw)) return issues.add(name, 'must be a JSON object');
  const address = readUrl(issues, raw.address, `${name}.address`);
  const method = isAbsent(raw.http_method) ? rule.defaultMethod : readMethod(issues, raw.http_method, `${name}.http_method`, rule.methods);
  const timeouts = rule.timeouts && {
    connection_timeout: readTimeout(issues, raw.connection_timeout, `${name}.connection_timeout`, rule.timeouts.connection),
    socket_timeout: readTimeout(issues, raw.socket_timeout, `${name}.socket_timeout`, rule.timeouts.socket),
  };
  if (address === undefined || method === undefined) return undefined;
  if (!timeouts) return { address, http_method: method };
  const { connection_timeout, socket_timeout } = timeouts;
  if (connection_timeout === undefined || socket_timeout === undefined) return undefined;
  return { address, http_method: method, connection_timeout, socket_timeout };
}

/** Stored normalised: the address checked (here, and on every attempt) is the address used. */
function readUrl(issues: Issues, raw: unknown, name: string): string | undefined {
  if (isAbsent(raw)) return issues.add(name, 'is required');
  if (typeof raw !== 'string') return issues.add(name, 'must be a string');
  if (raw.length > MAX_URL) return issues.add(name, `must be at most ${MAX_URL} characters`);
  const normalised = normaliseWebhookUrl(raw);
  if (!normalised.ok) return issues.add(name, normalised.reason);
  return normalised.url.length > MAX_URL ? issues.add(name, `must be at most ${MAX_URL} characters`) : normalised.url;
}

function readMethod(issues: Issues, raw: unknown, name: string, allowed: readonly HttpMethod[]): HttpMethod | undefined {
  if (typeof raw === 'string' && (allowed as readonly string[]).includes(raw)) return raw as HttpMethod;
  const reason = allowed.length === 1 ? `must be ${allowed[0]}` : `must be one of: ${allowed.join(', ')}`;
  return issues.add(name, reason);
}

function readTimeout(issues: Issues, raw: unknown, name: string, range: Range): number | undefined {
  if (isAbsent(raw)) return range.default;
  const inRange = typeof raw === 'number' && Number.isInteger(raw) && raw >= range.min && raw <= range.max;
  return inRange ? raw : issues.add(name, `must be an integer from ${range.min} to ${range.max}`);
}

/** The 2021 `improve_ai` flag: Nexmo's default is opting in, so an absent flag means true. */
function readPrivacy(issues: Issues, raw: unknown): { improve_ai: boolean } | undefined {
  if (isAbsent(raw)) return { improve_ai: true };
  if (!isObject(raw)) return issues.add('privacy', 'must be a JSON object');
  if (isAbsent(raw.improve_ai)) return { improve_ai: true };
  if (typeof raw.improve_ai !== 'boolean') return issues.add('privacy.improve_ai', 'must be a boolean');
  return { improve_ai: raw.improve_ai };
}

// ---------------------------------------------------------------------------------------------
// list query

export interface ListPage {
  pageSize: number;
  page: number;
}

const PAGE_SIZE = { min: 1, max: 100, default: 10 } as const;
/** Far beyond any real account; keeps `page * page_size` an exact integer. */
const PAGE = { min: 1, max: 1_000_000_000, default: 1 } as const;

/** `page_size` and `page` from a query string (Fastify gives strings, or arrays when repeated). */
export function validateListQuery(query: unknown): Validation<ListPage> {
  const params = isObject(query) ? query : {};
  const issues = new Issues();
  const pageSize = readQueryInteger(issues, params.page_size, 'page_size', PAGE_SIZE, `must be between ${PAGE_SIZE.min} and ${PAGE_SIZE.max}`);
  const page = readQueryInteger(issues, params.page, 'page', PAGE, `must be an integer from ${PAGE.min} to ${PAGE.max}`);
  if (pageSize === undefined || page === undefined) return invalid(issues.found);
  return valid({ pageSize, page });
}

function readQueryInteger(issues: Issues, raw: unknown, name: string, range: Range, reason: string): number | undefined {
  if (raw === undefined) return range.default;
  if (typeof raw !== 'string') return issues.add(name, 'must be given once');
  const value = /^[0-9]{1,10}$/.test(raw) ? Number(raw) : NaN;
  return value >= range.min && value <= range.max ? value : issues.add(name, reason);
}

// ---------------------------------------------------------------------------------------------
// resources

export const applicationHref = (id: string): string => `${APPLICATIONS_PATH}/${encodeURIComponent(id)}`;

/** The application as §3 shows it; `privateKey` only in the 201 of a create that generated it. */
export function toApplicationResource(record: ApplicationRecord, privateKey?: string): ApplicationResource {
  return {
    id: record.id,
    name: record.name,
    capabilities: record.capabilities,
    keys: privateKey === undefined ? { public_key: record.publicKey } : { public_key: record.publicKey, private_key: privateKey },
    privacy: record.privacy,
    _links: { self: { href: applicationHref(record.id) } },
  };
}

type Link = { href: string };

export interface ApplicationCollection {
  page_size: number;
  page: number;
  total_items: number;
  total_pages: number;
  _embedded: { applications: ApplicationResource[] };
  _links: { self: Link; first: Link; last: Link; prev?: Link; next?: Link };
}

/**
 * One page of the account's applications. An empty account still has one (empty) page, so
 * `first` and `last` always point somewhere; `prev` from beyond the end goes to the last page.
 */
export function toApplicationCollection(records: ApplicationRecord[], total: number, { pageSize, page }: ListPage): ApplicationCollection {
  const totalPages = Math.max(1, Math.ceil(total / pageSize));
  const link = (n: number): Link => ({ href: `${APPLICATIONS_PATH}?page_size=${pageSize}&page=${n}` });
  return {
    page_size: pageSize,
    page,
    total_items: total,
    total_pages: totalPages,
    _embedded: { applications: records.map((record) => toApplicationResource(record)) },
    _links: {
      self: link(page),
      first: link(1),
      last: link(totalPages),
      ...(page > 1 && { prev: link(Math.min(page - 1, totalPages)) }),
      ...(page < totalPages && { next: link(page + 1) }),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// primitives

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON has no undefined: clients that mean "not set" send null or leave the key out. */
function isAbsent(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

/** Length in code points (an emoji is one character), stopping as soon as `max` is passed. */
function isLongerThan(value: string, max: number): boolean {
  let count = 0;
  for (const _ of value) if (++count > max) return true;
  return false;
}
