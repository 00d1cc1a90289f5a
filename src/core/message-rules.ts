/**
 * Channel address and content rules of a Messages v0.1 send (and of each Dispatch step).
 * Pure: every bad field is reported at once as an `invalid_parameters` entry, and a valid
 * request comes back normalised (known fields only, numeric ids turned into strings).
 * Facts: reference/nexmo-api.md §1.3, §1.9, §2.2–2.4.
 */
import { CHANNELS, type Address, type Channel } from './channel.js';
import type {
  ContentType,
  MediaContent,
  MessageBody,
  MessageContent,
  MessengerOptions,
  OutboundMessage,
  TemplateContent,
  ViberOptions,
  WhatsappOptions,
} from './message.js';
import { invalid, valid, type InvalidParameter, type Validation } from './validation.js';
import { isHttpUrl } from './url.js';

type Json = Record<string, unknown>;
type Side = 'to' | 'from';
type IdField = 'number' | 'id';
type MessageParts = Omit<OutboundMessage, 'client_ref'>;

/** Which identifier each side of an address carries, per channel (§2.2). */
const ADDRESS_FIELDS: Record<Channel, Record<Side, IdField>> = {
  sms: { to: 'number', from: 'number' },
  mms: { to: 'number', from: 'number' },
  whatsapp: { to: 'number', from: 'number' },
  messenger: { to: 'id', from: 'id' },
  viber_service_msg: { to: 'number', from: 'id' },
};

const CONTENT_TYPES: readonly ContentType[] = ['text', 'image', 'audio', 'video', 'file', 'template', 'custom'];

const CONTENT_TYPES_BY_CHANNEL: Record<Channel, readonly ContentType[]> = {
  sms: ['text'],
  mms: ['image'],
  messenger: ['text', 'image', 'audio', 'video', 'file', 'custom'],
  viber_service_msg: ['text', 'image', 'template', 'custom'],
  whatsapp: ['text', 'image', 'audio', 'video', 'file', 'template', 'custom'],
};

/** Longest `text` per channel, in code points (§2.3). */
const TEXT_LIMITS: Record<Channel, number> = {
  sms: 1000,
  viber_service_msg: 1000,
  messenger: 640,
  whatsapp: 4096,
  mms: 4096,
};
const DEFAULT_TEXT_LIMIT = 4096;

const MAX = {
  id: 50,
  url: 2000,
  caption: 3000,
  templateName: 512,
  clientRef: 40,
  locale: 20,
  // No documented limit: generous caps so a free string cannot be unbounded.
  messengerTag: 100,
  viberType: 100,
  // Provider payloads nest a handful of levels (WhatsApp interactive messages about 6). A body of
  // 100 000 nested objects fits in 1 MB and overflows JSON.stringify when the message is stored.
  customDepth: 32,
  // What one stored message may hold beyond its text (hardening): a 1 MB body of parameters
  // or custom JSON, stored and listed many times over, must not add up to hundreds of MB.
  customBytes: 64 * 1024,
  templateParameters: 100,
  templateParameter: 1024,
} as const;

const VIBER_TTL = { min: 30, max: 259_200 } as const;

/** E.164 without '+' or '00': 7–15 digits, the first not 0. */
const E164 = /^[1-9][0-9]{6,14}$/;
/** SMS alphanumeric sender ID: 1–11 letters or digits, spaces allowed only inside. */
const SMS_SENDER_ID = /^[A-Za-z0-9](?:[A-Za-z0-9 ]{0,9}[A-Za-z0-9])?$/;
/** BCP-47-ish locale: en, en-GB, en_GB, zh-Hant-TW. */
const LOCALE = /^[A-Za-z][A-Za-z0-9]*(?:[-_][A-Za-z0-9]+)*$/;

const E164_REASON =
  "must be an E.164 number without '+' or '00': 7 to 15 digits, not starting with 0 (e.g. 447700900000)";
const SMS_SENDER_REASON =
  "must be an E.164 number (7 to 15 digits without '+' or '00') or an alphanumeric sender ID of 1 to 11 letters, digits or inner spaces";

/** Validates a Messages v0.1 body {to, from, message, client_ref?}. */
export function validateOutboundMessage(body: unknown): Validation<OutboundMessage> {
  if (!isObject(body)) return invalid([{ name: 'body', reason: 'must be a JSON object' }]);
  const issues = new Issues('');
  const parts = readParts(issues, { to: body.to, from: body.from, message: body.message });
  const clientRef = isAbsent(body.client_ref)
    ? undefined
    : readString(issues, body.client_ref, 'client_ref', { max: MAX.clientRef });
  if (issues.found.length > 0 || !parts) return invalid(issues.found);
  return valid(clientRef === undefined ? parts : { ...parts, client_ref: clientRef });
}

/**
 * Validates the to/from/message parts with every error name prefixed, e.g. prefix 'workflow[0].'
 * gives 'workflow[0].to.number'. Used by Dispatch steps. Does not look at client_ref.
 */
export function validateMessageParts(
  parts: { to: unknown; from: unknown; message: unknown },
  prefix: string,
): Validation<MessageParts> {
  const issues = new Issues(prefix);
  const value = readParts(issues, parts);
  if (issues.found.length > 0 || !value) return invalid(issues.found);
  return valid(value);
}

/**
 * Collects every problem found. Validators return `undefined` for a part they could not
 * accept, always after recording why, so the caller only has to look at `found`.
 */
class Issues {
  readonly found: InvalidParameter[] = [];
  constructor(private readonly prefix: string) {}

  add(name: string, reason: string): undefined {
    this.found.push({ name: this.prefix + name, reason });
    return undefined;
  }
}

function readParts(issues: Issues, parts: { to: unknown; from: unknown; message: unknown }): MessageParts | undefined {
  const to = readAddress(issues, parts.to, 'to', undefined);
  const from = readAddress(issues, parts.from, 'from', to.channel);
  // The recipient's channel decides the content rules; from's is the best guess when to.type is unusable.
  const message = readMessage(issues, parts.message, to.channel ?? from.channel);
  if (!to.address || !from.address || !message) return undefined;
  return { to: to.address, from: from.address, message };
}

// ---------------------------------------------------------------------------------------------
// to / from

interface AddressResult {
  /** Known even when the identifier is bad, so the content can still be checked. */
  channel: Channel | undefined;
  address: Address | undefined;
}

function readAddress(issues: Issues, raw: unknown, side: Side, expected: Channel | undefined): AddressResult {
  const obj = readObject(issues, raw, side);
  if (!obj) return { channel: undefined, address: undefined };
  const channel = readEnum(issues, obj.type, `${side}.type`, CHANNELS);
  if (!channel) return { channel, address: undefined };
  if (expected && channel !== expected) issues.add(`${side}.type`, `must be the same as to.type (${expected})`);

  // Each side is checked against its own type, so a mismatch gives one error, not two.
  const field = ADDRESS_FIELDS[channel][side];
  const rule: IdentifierRule = field === 'id' ? 'id' : channel === 'sms' && side === 'from' ? 'sms-sender' : 'number';
  const value = readIdentifier(issues, obj[field], `${side}.${field}`, channel, rule);
  if (value === undefined) return { channel, address: undefined };
  return { channel, address: field === 'id' ? { type: channel, id: value } : { type: channel, number: value } };
}

type IdentifierRule = 'id' | 'number' | 'sms-sender';

function readIdentifier(
  issues: Issues,
  raw: unknown,
  name: string,
  channel: Channel,
  rule: IdentifierRule,
): string | undefined {
  if (isAbsent(raw)) return issues.add(name, `is required for channel ${channel}`);
  const value = identifierString(raw);
  if (value === undefined) {
    return issues.add(
      name,
      typeof raw === 'number'
        ? 'must be a string (a JSON number is accepted only as a whole number from 0 to 2^53-1; send larger values as strings)'
        : 'must be a string',
    );
  }
  switch (rule) {
    case 'id':
      return checkLength(issues, value, name, { max: MAX.id });
    case 'number':
      return E164.test(value) ? value : issues.add(name, E164_REASON);
    case 'sms-sender':
      return E164.test(value) || SMS_SENDER_ID.test(value) ? value : issues.add(name, SMS_SENDER_REASON);
  }
}

/**
 * The tutorial's curl splices shell variables unquoted (`"id": 1234567890`, §1.9), so a
 * whole JSON number is taken as its digits. Beyond 2^53 the digits are already lost.
 */
function identifierString(raw: unknown): string | undefined {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0) return String(raw);
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// message

function readMessage(issues: Issues, raw: unknown, channel: Channel | undefined): MessageBody | undefined {
  const obj = readObject(issues, raw, 'message');
  if (!obj) return undefined;
  const content = readContent(issues, obj.content, channel);
  const options = readChannelOptions(issues, obj, channel);
  if (channel === 'whatsapp' && isObject(obj.content) && obj.content.type === 'template') {
    requireWhatsappLocale(issues, obj.whatsapp);
  }
  if (!content) return undefined;
  return { content, ...options };
}

function readContent(issues: Issues, raw: unknown, channel: Channel | undefined): MessageContent | undefined {
  const obj = readObject(issues, raw, 'message.content');
  if (!obj) return undefined;
  const allowed = channel ? CONTENT_TYPES_BY_CHANNEL[channel] : CONTENT_TYPES;
  const reason = channel
    ? `must be one of: ${allowed.join(', ')} (the content types of channel ${channel})`
    : undefined;
  const type = readEnum(issues, obj.type, 'message.content.type', allowed, reason);
  // A known type the channel refuses still has its payload checked, so all problems show at once.
  const payloadType = type ?? (isContentType(obj.type) ? obj.type : undefined);
  if (!payloadType) return undefined;
  const content = readPayload(issues, obj, payloadType, channel);
  return type ? content : undefined;
}

/** Reads the one payload field named by the type; other payload fields are dropped. */
function readPayload(
  issues: Issues,
  obj: Json,
  type: ContentType,
  channel: Channel | undefined,
): MessageContent | undefined {
  const name = `message.content.${type}`;
  switch (type) {
    case 'text': {
      const limit = channel ? TEXT_LIMITS[channel] : DEFAULT_TEXT_LIMIT;
      const where = channel ? ` on channel ${channel}` : '';
      const text = readString(issues, obj.text, name, { max: limit, where });
      return text === undefined ? undefined : { type, text };
    }
    case 'image': {
      const image = readMedia(issues, obj.image, name);
      return image && { type, image };
    }
    case 'audio': {
      const audio = readMedia(issues, obj.audio, name);
      return audio && { type, audio };
    }
    case 'video': {
      const video = readMedia(issues, obj.video, name);
      return video && { type, video };
    }
    case 'file': {
      const file = readMedia(issues, obj.file, name);
      return file && { type, file };
    }
    case 'template': {
      const template = readTemplate(issues, obj.template, name);
      return template && { type, template };
    }
    case 'custom': {
      // Passed through to the provider as is (§2.3); a shallow copy keeps the input untouched.
      const custom = readObject(issues, obj.custom, name);
      if (custom && nestsDeeperThan(custom, MAX.customDepth)) {
        return issues.add(name, `must not nest objects or arrays more than ${MAX.customDepth} levels deep`);
      }
      if (custom && Buffer.byteLength(JSON.stringify(custom)) > MAX.customBytes) {
        return issues.add(name, `must be at most ${MAX.customBytes / 1024} KB as JSON`);
      }
      return custom && { type, custom: { ...custom } };
    }
  }
}

/**
 * A caption is accepted on every media type and channel: the docs list it for WhatsApp and
 * MMS only, but refusing it elsewhere would break senders for no gain.
 */
function readMedia(issues: Issues, raw: unknown, name: string): MediaContent | undefined {
  const obj = readObject(issues, raw, name);
  if (!obj) return undefined;
  const url = readUrl(issues, obj.url, `${name}.url`);
  const caption = isAbsent(obj.caption)
    ? undefined
    : readString(issues, obj.caption, `${name}.caption`, { max: MAX.caption });
  if (url === undefined) return undefined;
  return caption === undefined ? { url } : { url, caption };
}

/** File extensions are not checked: provider and CDN URLs often have none. */
function readUrl(issues: Issues, raw: unknown, name: string): string | undefined {
  const url = readString(issues, raw, name, { max: MAX.url });
  if (url === undefined) return undefined;
  return isHttpUrl(url) ? url : issues.add(name, 'must be an absolute http or https URL');
}

function readTemplate(issues: Issues, raw: unknown, name: string): TemplateContent | undefined {
  const obj = readObject(issues, raw, name);
  if (!obj) return undefined;
  const templateName = readString(issues, obj.name, `${name}.name`, { max: MAX.templateName });
  const parameters = readTemplateParameters(issues, obj.parameters, `${name}.parameters`);
  if (templateName === undefined) return undefined;
  return parameters === undefined ? { name: templateName } : { name: templateName, parameters };
}

/** Both wire shapes, even mixed: `["x"]` (MSG 0.4.0) and `[{"default": "x"}]` (Dispatch, MSG 0.3.6). */
function readTemplateParameters(issues: Issues, raw: unknown, name: string): TemplateContent['parameters'] {
  if (isAbsent(raw)) return undefined;
  if (!Array.isArray(raw)) return issues.add(name, 'must be an array');
  // Checked first, so a huge array is one problem, not one per item.
  if (raw.length > MAX.templateParameters) return issues.add(name, `must hold at most ${MAX.templateParameters} parameters`);
  const parameters: NonNullable<TemplateContent['parameters']> = [];
  const tooLong = `must be at most ${MAX.templateParameter} characters`;
  raw.forEach((item: unknown, index) => {
    const itemName = `${name}[${index}]`;
    if (typeof item === 'string') {
      if (item.length > MAX.templateParameter) issues.add(itemName, tooLong);
      else parameters.push(item);
    } else if (isObject(item)) {
      if (typeof item.default === 'string' && item.default.length > MAX.templateParameter) issues.add(`${itemName}.default`, tooLong);
      else if (typeof item.default === 'string') parameters.push({ default: item.default });
      else issues.add(`${itemName}.default`, isAbsent(item.default) ? 'is required' : 'must be a string');
    } else {
      issues.add(itemName, 'must be a string or an object {"default": string}');
    }
  });
  return parameters;
}

// ---------------------------------------------------------------------------------------------
// per-channel options
// An option set to undefined below means an issue was recorded, so that value is never returned.

type ChannelOptions = Pick<MessageBody, 'messenger' | 'viber_service_msg' | 'whatsapp'>;

/** Only the options object of the message's own channel is read; the others mean nothing here and are dropped. */
function readChannelOptions(issues: Issues, message: Json, channel: Channel | undefined): ChannelOptions {
  switch (channel) {
    case 'messenger': {
      const messenger = readMessengerOptions(issues, message.messenger);
      return messenger ? { messenger } : {};
    }
    case 'viber_service_msg': {
      const viber = readViberOptions(issues, message.viber_service_msg);
      return viber ? { viber_service_msg: viber } : {};
    }
    case 'whatsapp': {
      const whatsapp = readWhatsappOptions(issues, message.whatsapp);
      return whatsapp ? { whatsapp } : {};
    }
    default:
      return {};
  }
}

function readMessengerOptions(issues: Issues, raw: unknown): MessengerOptions | undefined {
  if (isAbsent(raw)) return undefined;
  const obj = readObject(issues, raw, 'message.messenger');
  if (!obj) return undefined;
  const options: MessengerOptions = {};
  if (!isAbsent(obj.category)) {
    options.category = readEnum(issues, obj.category, 'message.messenger.category', [
      'response',
      'update',
      'message_tag',
    ] as const);
  }
  if (options.category === 'message_tag' && isAbsent(obj.tag)) {
    issues.add('message.messenger.tag', 'is required when category is message_tag');
  } else if (!isAbsent(obj.tag)) {
    options.tag = readString(issues, obj.tag, 'message.messenger.tag', { max: MAX.messengerTag });
  }
  return options;
}

function readViberOptions(issues: Issues, raw: unknown): ViberOptions | undefined {
  if (isAbsent(raw)) return undefined;
  const obj = readObject(issues, raw, 'message.viber_service_msg');
  if (!obj) return undefined;
  const options: ViberOptions = {};
  if (!isAbsent(obj.category)) {
    options.category = readEnum(issues, obj.category, 'message.viber_service_msg.category', [
      'transaction',
      'promotion',
    ] as const);
  }
  if (!isAbsent(obj.ttl)) {
    options.ttl = readInteger(issues, obj.ttl, 'message.viber_service_msg.ttl', VIBER_TTL);
  }
  if (!isAbsent(obj.type)) {
    options.type = readString(issues, obj.type, 'message.viber_service_msg.type', { max: MAX.viberType });
  }
  return options;
}

function readWhatsappOptions(issues: Issues, raw: unknown): WhatsappOptions | undefined {
  if (isAbsent(raw)) return undefined;
  const obj = readObject(issues, raw, 'message.whatsapp');
  if (!obj) return undefined;
  const options: WhatsappOptions = {};
  if (obj.policy === 'fallback') {
    // Vonage has answered 400 to 'fallback' since January 2020; MSG 0.4.0 lists only 'deterministic'.
    issues.add('message.whatsapp.policy', "'fallback' is no longer supported; use 'deterministic' or leave policy out");
  } else if (!isAbsent(obj.policy)) {
    options.policy = readEnum(issues, obj.policy, 'message.whatsapp.policy', ['deterministic'] as const);
  }
  if (!isAbsent(obj.locale)) options.locale = readLocale(issues, obj.locale, 'message.whatsapp.locale');
  return options;
}

/** Kept as sent (en-GB or en_GB); mapping to WhatsApp's en_GB is the adapter's job. */
function readLocale(issues: Issues, raw: unknown, name: string): string | undefined {
  const locale = readString(issues, raw, name, { min: 2, max: MAX.locale });
  if (locale === undefined) return undefined;
  return LOCALE.test(locale) ? locale : issues.add(name, 'must be a locale such as en-GB or en_GB');
}

/** WhatsApp templates are looked up by name and language (§2.3). */
function requireWhatsappLocale(issues: Issues, rawOptions: unknown): void {
  const rawLocale = isObject(rawOptions) ? rawOptions.locale : undefined;
  if (isAbsent(rawLocale)) issues.add('message.whatsapp.locale', 'is required for a whatsapp template');
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

/** Iterative, so measuring a hostile nesting cannot overflow the stack either. */
function nestsDeeperThan(root: Json, maxDepth: number): boolean {
  const pending: Array<{ value: unknown; depth: number }> = [{ value: root, depth: 1 }];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth > maxDepth) return true;
    for (const child of Object.values(item.value)) pending.push({ value: child, depth: item.depth + 1 });
  }
  return false;
}

function isContentType(value: unknown): value is ContentType {
  return typeof value === 'string' && (CONTENT_TYPES as readonly string[]).includes(value);
}

function readObject(issues: Issues, raw: unknown, name: string): Json | undefined {
  if (isAbsent(raw)) return issues.add(name, 'is required');
  return isObject(raw) ? raw : issues.add(name, 'must be a JSON object');
}

function readEnum<T extends string>(
  issues: Issues,
  raw: unknown,
  name: string,
  allowed: readonly T[],
  reason = `must be one of: ${allowed.join(', ')}`,
): T | undefined {
  if (isAbsent(raw)) return issues.add(name, 'is required');
  if (typeof raw !== 'string') return issues.add(name, 'must be a string');
  return (allowed as readonly string[]).includes(raw) ? (raw as T) : issues.add(name, reason);
}

interface LengthRule {
  min?: number;
  max: number;
  /** Appended to the length reason, e.g. " on channel sms". */
  where?: string;
}

function readString(issues: Issues, raw: unknown, name: string, rule: LengthRule): string | undefined {
  if (isAbsent(raw)) return issues.add(name, 'is required');
  if (typeof raw !== 'string') return issues.add(name, 'must be a string');
  return checkLength(issues, raw, name, rule);
}

function checkLength(
  issues: Issues,
  value: string,
  name: string,
  { min = 1, max, where = '' }: LengthRule,
): string | undefined {
  const length = codePointLength(value, max);
  if (length >= min && length <= max) return value;
  return issues.add(name, `must be ${min} to ${max} characters${where}`);
}

/**
 * Characters as a person counts them: code points, the same as `[...value].length`, so an
 * emoji is one. Stops early past `max` so a huge string costs no more than the limit.
 */
function codePointLength(value: string, max: number): number {
  let count = 0;
  for (let i = 0; i < value.length && count <= max; i++) {
    const unit = value.charCodeAt(i);
    const isHighSurrogate = unit >= 0xd800 && unit <= 0xdbff;
    const next = value.charCodeAt(i + 1);
    if (isHighSurrogate && next >= 0xdc00 && next <= 0xdfff) i++;
    count++;
  }
  return count;
}

function readInteger(
  issues: Issues,
  raw: unknown,
  name: string,
  range: { min: number; max: number },
): number | undefined {
  const inRange = typeof raw === 'number' && Number.isInteger(raw) && raw >= range.min && raw <= range.max;
  return inRange ? raw : issues.add(name, `must be an integer from ${range.min} to ${range.max}`);
}
