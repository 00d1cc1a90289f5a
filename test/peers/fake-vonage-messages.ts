// A fake Vonage Messages API v1 (POST /v1/messages) and webhook sender, for integration tests.
// Built only from the protocol references (messages-v1.md §1, §2, §4, §6, §7 and channels.md §7),
// never from our adapter, so that a misunderstanding in the adapter is not copied into the fake.
//
// Send (messages-v1.md §1, §2, §7):
//   POST {baseUrl}/v1/messages (a doubled slash, `//v1/messages`, is accepted: the Node SDK builds the
//   URL by concatenation, §7). `Authorization: Bearer <JWT>`: RS256, verified with `publicKeyPem`,
//   claims `application_id` (= options.applicationId), `iat`, `jti`, `exp` (must be in the future by
//   now()). Anything else (no header, Basic, a bad signature, another algorithm, a missing claim, an
//   expired token) is 401. Basic auth (`api_key:api_secret`), which Vonage also accepts (§1), is not
//   configured here: the fake has no API secret, so Basic is 401 too.
//   Body: flat v1 JSON with `to`, `from`, `channel` (sms | mms | whatsapp | messenger | viber_service |
//   rcs), `message_type` (one allowed for the channel by the table in §2) and the field named by
//   `message_type`. v0.1's `viber_service_msg` is refused (§2 "Note the channel name").
//   Success: 202, content-type application/json, `{"message_uuid": "<uuid>"}`, plus `workflow_id` when
//   the body has a `failover` array (§3). The SDK reads the body only with an application/json type (§7).
//
// Errors (messages-v1.md §6): problem+json `{type, title, detail, instance, invalid_parameters?}`.
//   401 `https://developer.vonage.com/api-errors/#unathorized` (sic) "You did not provide correct credentials."
//   422 `https://developer.vonage.com/api-errors/messages#1150` "Invalid params", with
//       `invalid_parameters: [{name, reason}]` naming the field.
//   422 `https://developer.vonage.com/api-errors#invalid-json` "The request body did not contain valid JSON".
//   The 401 `detail` text and the `application/problem+json` content type are this fake's choice (the
//   references give type and title only).
//
// Webhooks (messages-v1.md §4, channels.md §7): JSON POSTs with
//   `Authorization: Bearer <JWT>`, HS256 with the signature secret, claims `iat` (now(), seconds),
//   `jti` (UUID), `iss: "Vonage"`, `payload_hash` (lowercase hex SHA-256 of the exact body bytes),
//   `application_id` and `api_key` (only when options.apiKey is set). No `exp`.
//   Status (flat): message_uuid, to, from, timestamp (ISO 8601), status, channel, client_ref? (echoed),
//   error? `{type: "https://developer.nexmo.com/api-errors/messages-olympus#<code>", title: "<code>",
//   detail, instance}` (on rejected/undeliverable, 1330 unless given; sent on any status if given),
//   usage? `{currency: "EUR", price: "<string>"}` where Vonage charges: on `submitted` for sms/mms and
//   on `delivered` for the OTT channels (messages-v1.md §4 "SMS/MMS are charged at submitted, OTT
//   channels at delivered").
//   Inbound: channel, message_uuid, to, from, timestamp, message_type (`image` when an image is given,
//   else `text`) and `text` / `image {url}`; sms adds `sms {num_messages: "1", keyword}`; whatsapp adds
//   `profile {name}`.
import { createHash, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SignJWT, jwtVerify } from 'jose';
import { type HttpPeer, listenHttpPeer, readBody } from './http-peer.js';

export type VonageMessagesStatus = 'submitted' | 'delivered' | 'read' | 'rejected' | 'undeliverable';
export type VonageMessagesSignatureMode = 'valid' | 'forged' | 'missing' | 'tampered';

export interface VonageMessagesSend {
  messageUuid: string;
  applicationId: string;
  channel: string;
  messageType: string;
  to: string;
  from: string;
  /** The whole JSON body as sent. */
  body: Record<string, unknown>;
  webhookUrl?: string;
  webhookVersion?: string;
  clientRef?: string;
  /** now() when the send was accepted. */
  at: number;
}

export interface VonageMessagesErrorAnswer {
  httpStatus: number;
  title?: string;
  /** A Vonage error code: the type becomes `https://developer.vonage.com/api-errors/messages#<code>`. */
  code?: number;
  detail?: string;
}

/** Every webhook the fake posted, with what the receiver answered. */
export interface VonageMessagesCallback {
  kind: 'status' | 'inbound';
  url: string;
  /** The exact body posted. */
  raw: string;
  body: Record<string, unknown>;
  /** The Authorization header sent, if any. */
  authorization?: string;
  httpStatus: number;
  responseBody: string;
}

export interface FakeVonageMessagesOptions {
  applicationId: string;
  /** Verifies the clients' RS256 JWTs (SPKI or PKCS#1 PEM; a private key PEM works too). */
  publicKeyPem: string;
  /** Signs the webhooks' HS256 JWTs. */
  signatureSecret: string;
  /** The `api_key` claim of webhook JWTs; left out when not set. */
  apiKey?: string;
  now?: () => number;
}

const errorsBase = 'https://developer.vonage.com/api-errors';
const statusErrorBase = 'https://developer.nexmo.com/api-errors/messages-olympus';
const messagesPath = /^\/\/?v1\/messages\/?$/;
// How long a webhook call may take before the fake gives up (a local receiver answers at once).
const webhookTimeoutMs = 15_000;

/** message_type values per channel, and the longest `text` (messages-v1.md §2). */
const channels: Record<string, { types: readonly string[]; textMax: number }> = {
  sms: { types: ['text'], textMax: 1000 },
  mms: { types: ['image', 'vcard', 'audio', 'video', 'file', 'text', 'content'], textMax: 1000 },
  whatsapp: { types: ['text', 'image', 'audio', 'video', 'file', 'template', 'custom', 'sticker', 'reaction'], textMax: 4096 },
  messenger: { types: ['text', 'image', 'audio', 'video', 'file'], textMax: 640 },
  viber_service: { types: ['text', 'image', 'video', 'file'], textMax: 1000 },
  rcs: { types: ['text', 'image', 'video', 'file', 'card', 'carousel', 'custom'], textMax: 3072 },
};

/** Texts for the status `error.detail` (channels.md §7 code list). */
const errorDetails: Record<number, string> = {
  1000: 'Throttled',
  1010: 'Rate Limit Hit',
  1020: 'Invalid params',
  1050: 'Number barred',
  1120: 'Invalid sender',
  1150: 'Invalid params',
  1170: 'Invalid MSISDN',
  1180: 'Absent subscriber temporary',
  1190: 'Absent subscriber permanent',
  1210: 'Anti-spam rejection',
  1220: 'Handset busy',
  1230: 'Network error',
  1240: 'Illegal number',
  1250: 'Unroutable message',
  1260: 'Destination unreachable',
  1300: 'Not part of the provider network',
  1310: 'Not suitable device',
  1330: 'Unknown',
  1331: 'Provider error',
  1340: 'Outside of the allowed window',
  1360: 'TTL was activated',
};

const defaultTitles: Record<number, string> = {
  401: 'You did not provide correct credentials.',
  402: 'Low balance',
  404: 'Not Found',
  405: 'Method Not Allowed',
  422: 'Invalid params',
  429: 'Rate Limit Hit',
  500: 'Internal Error',
  503: 'Service Unavailable',
};

interface Problem {
  type: string;
  title: string;
  detail: string;
  instance: string;
  invalid_parameters?: Array<{ name: string; reason: string }>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex');
}

/** Why the field named by `message_type` is not acceptable, or undefined when it is. */
function contentProblem(type: string, value: unknown, textMax: number): { name: string; reason: string } | undefined {
  if (value === undefined) return { name: type, reason: 'is required' };
  switch (type) {
    case 'text':
      if (!nonEmptyString(value)) return { name: 'text', reason: 'must be a non-empty string' };
      if (value.length > textMax) return { name: 'text', reason: `must be at most ${textMax} characters` };
      return undefined;
    case 'content':
      if (!Array.isArray(value) || value.length === 0) return { name: 'content', reason: 'must be a non-empty array' };
      return value.every((item) => isObject(item) && nonEmptyString(item.type) && nonEmptyString(item.url)) ? undefined : { name: 'content', reason: 'each item needs type and url' };
    case 'sticker':
      if (!isObject(value)) return { name: 'sticker', reason: 'must be an object' };
      return nonEmptyString(value.url) || nonEmptyString(value.id) ? undefined : { name: 'sticker', reason: 'needs url or id' };
    case 'template':
      if (!isObject(value)) return { name: 'template', reason: 'must be an object' };
      return nonEmptyString(value.name) ? undefined : { name: 'template.name', reason: 'is required' };
    case 'reaction':
      if (!isObject(value)) return { name: 'reaction', reason: 'must be an object' };
      return value.action === 'react' || value.action === 'unreact' ? undefined : { name: 'reaction.action', reason: 'must be react or unreact' };
    case 'custom':
    case 'card':
    case 'carousel':
      return isObject(value) ? undefined : { name: type, reason: 'must be an object' };
    default: // image, audio, video, file, vcard
      if (!isObject(value)) return { name: type, reason: 'must be an object' };
      return nonEmptyString(value.url) ? undefined : { name: `${type}.url`, reason: 'is required' };
  }
}

export class FakeVonageMessages {
  readonly sends: VonageMessagesSend[] = [];
  readonly callbacks: VonageMessagesCallback[] = [];

  private readonly planned: VonageMessagesErrorAnswer[] = [];
  private readonly messages = new Map<string, VonageMessagesSend>();
  private readonly now: () => number;
  private readonly publicKey: KeyObject;
  private requestCount = 0;

  private constructor(
    private readonly peer: HttpPeer,
    private readonly options: FakeVonageMessagesOptions,
    readonly baseUrl: string,
  ) {
    this.now = options.now ?? Date.now;
    this.publicKey = createPublicKey(options.publicKeyPem);
  }

  static async start(options: FakeVonageMessagesOptions): Promise<FakeVonageMessages> {
    // Parse the key before listening, so a bad PEM fails start() rather than every request.
    createPublicKey(options.publicKeyPem);
    let fake: FakeVonageMessages | undefined;
    // Requests cannot arrive before listen resolved, so `fake` is always set in the handler.
    const peer = await listenHttpPeer((request, response) => fake!.handle(request, response));
    fake = new FakeVonageMessages(peer, options, peer.baseUrl);
    return fake;
  }

  /** Every POST to /v1/messages (accepted, refused or failed on purpose). */
  get requests(): number {
    return this.requestCount;
  }

  /** The next `times` POSTs to /v1/messages answer this problem+json, before any other check. */
  failNext(answer: VonageMessagesErrorAnswer, times = 1): void {
    for (let i = 0; i < times; i++) this.planned.push(answer);
  }

  /**
   * Posts a v1 status webhook for one of our sends to its `webhook_url` (or `url`). Resolves with the
   * HTTP status the receiver answered.
   */
  async status(
    messageUuid: string,
    status: VonageMessagesStatus,
    options: { error?: { code: number; detail?: string }; url?: string; signature?: VonageMessagesSignatureMode } = {},
  ): Promise<number> {
    const send = this.messages.get(messageUuid);
    if (!send) throw new Error(`FakeVonageMessages: no send with message_uuid ${messageUuid}`);
    const url = options.url ?? send.webhookUrl;
    if (url === undefined) throw new Error(`FakeVonageMessages: send ${messageUuid} has no webhook_url; pass options.url`);
    const error = options.error ?? (status === 'rejected' || status === 'undeliverable' ? { code: 1330 } : undefined);

    const body: Record<string, unknown> = {
      message_uuid: send.messageUuid,
      to: send.to,
      from: send.from,
      timestamp: new Date(this.now()).toISOString(),
      status,
      channel: send.channel,
    };
    if (send.clientRef !== undefined) body.client_ref = send.clientRef;
    if (error !== undefined) {
      body.error = {
        type: `${statusErrorBase}#${error.code}`,
        title: String(error.code),
        detail: error.detail ?? errorDetails[error.code] ?? `Error ${error.code}`,
        instance: randomUUID(),
      };
    }
    const charged = send.channel === 'sms' || send.channel === 'mms' ? status === 'submitted' : status === 'delivered';
    if (charged) body.usage = { currency: 'EUR', price: send.channel === 'sms' || send.channel === 'mms' ? '0.0333' : '0.0050' };
    return this.post('status', url, body, options.signature ?? 'valid');
  }

  /** An inbound v1 message webhook. Resolves with the receiver's HTTP status. */
  async inbound(
    url: string,
    message: { channel: string; from: string; to: string; text?: string; image?: { url: string } },
    signature: 'valid' | 'forged' | 'missing' = 'valid',
  ): Promise<number> {
    if (message.text === undefined && message.image === undefined) throw new Error('FakeVonageMessages: inbound needs text or image');
    const body: Record<string, unknown> = {
      channel: message.channel,
      message_uuid: randomUUID(),
      to: message.to,
      from: message.from,
      timestamp: new Date(this.now()).toISOString(),
    };
    if (message.image !== undefined) {
      body.message_type = 'image';
      body.image = message.text === undefined ? { url: message.image.url } : { url: message.image.url, caption: message.text };
    } else {
      body.message_type = 'text';
      body.text = message.text;
    }
    if (message.channel === 'sms') {
      body.sms = { num_messages: '1', keyword: (message.text ?? '').trim().split(/\s+/)[0]?.toUpperCase() ?? '' };
    }
    if (message.channel === 'whatsapp') body.profile = { name: 'Fake User' };
    return this.post('inbound', url, body, signature);
  }

  close(): Promise<void> {
    return this.peer.close();
  }

  /** The HS256 webhook JWT over `raw` (what Vonage puts after `Authorization: Bearer`). */
  private async webhookToken(raw: string, secret: string): Promise<string> {
    const claims: Record<string, unknown> = {
      iat: Math.floor(this.now() / 1000),
      jti: randomUUID(),
      iss: 'Vonage',
      payload_hash: sha256Hex(raw),
      application_id: this.options.applicationId,
    };
    if (this.options.apiKey !== undefined) claims.api_key = this.options.apiKey;
    return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));
  }

  private async post(kind: VonageMessagesCallback['kind'], url: string, body: Record<string, unknown>, signature: VonageMessagesSignatureMode): Promise<number> {
    const raw = JSON.stringify(body);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (signature !== 'missing') {
      const secret = signature === 'forged' ? `${this.options.signatureSecret}-forged` : this.options.signatureSecret;
      // tampered: a valid token, but its payload_hash is of another body (the one posted was changed after signing).
      const signedOver = signature === 'tampered' ? JSON.stringify({ ...body, timestamp: new Date(this.now() - 60_000).toISOString() }) : raw;
      headers.authorization = `Bearer ${await this.webhookToken(signedOver, secret)}`;
    }
    const response = await fetch(url, { method: 'POST', headers, body: raw, redirect: 'manual', signal: AbortSignal.timeout(webhookTimeoutMs) });
    const responseBody = await response.text();
    const callback: VonageMessagesCallback = { kind, url, raw, body, httpStatus: response.status, responseBody };
    if (headers.authorization !== undefined) callback.authorization = headers.authorization;
    this.callbacks.push(callback);
    return response.status;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // The raw path, not `new URL(...)`: that would read `//v1/messages` as a protocol-relative URL.
    const pathname = (request.url ?? '/').split('?')[0] ?? '/';
    const raw = await readBody(request);
    if (!messagesPath.test(pathname)) {
      this.answerProblem(response, 404, { type: `${errorsBase}#not-found`, title: 'Not Found', detail: `No resource at ${pathname}` });
      return;
    }
    if (request.method !== 'POST') {
      this.answerProblem(response, 405, { type: `${errorsBase}#method-not-allowed`, title: 'Method Not Allowed', detail: `${request.method ?? ''} is not supported here` });
      return;
    }
    this.requestCount++;
    const planned = this.planned.shift();
    if (planned) {
      this.answerPlanned(response, planned);
      return;
    }
    if (!(await this.authorised(request))) {
      this.answerProblem(response, 401, {
        type: `${errorsBase}/#unathorized`,
        title: 'You did not provide correct credentials.',
        detail: "Check that you're using the correct credentials, and that your account has this feature enabled",
      });
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    if (!isObject(parsed)) {
      this.answerProblem(response, 422, { type: `${errorsBase}#invalid-json`, title: 'The request body did not contain valid JSON', detail: 'The request body did not contain valid JSON' });
      return;
    }
    const invalid = this.validate(parsed);
    if (invalid) {
      this.answerProblem(response, 422, {
        type: `${errorsBase}/messages#1150`,
        title: 'Invalid params',
        detail: 'The value of one or more parameters is invalid.',
        invalid_parameters: [invalid],
      });
      return;
    }
    const send: VonageMessagesSend = {
      messageUuid: randomUUID(),
      applicationId: this.options.applicationId,
      channel: parsed.channel as string,
      messageType: parsed.message_type as string,
      to: parsed.to as string,
      from: parsed.from as string,
      body: parsed,
      at: this.now(),
    };
    if (typeof parsed.webhook_url === 'string') send.webhookUrl = parsed.webhook_url;
    if (typeof parsed.webhook_version === 'string') send.webhookVersion = parsed.webhook_version;
    if (typeof parsed.client_ref === 'string') send.clientRef = parsed.client_ref;
    this.sends.push(send);
    this.messages.set(send.messageUuid, send);
    const answer: Record<string, string> = { message_uuid: send.messageUuid };
    if (Array.isArray(parsed.failover)) answer.workflow_id = randomUUID();
    response.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  }

  /** A Bearer RS256 JWT from our application: verifies, right application_id, iat/jti present, exp in the future. */
  private async authorised(request: IncomingMessage): Promise<boolean> {
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (token === undefined) return false;
    try {
      const { payload } = await jwtVerify(token, this.publicKey, {
        algorithms: ['RS256'],
        requiredClaims: ['exp', 'iat', 'jti', 'application_id'],
        currentDate: new Date(this.now()),
      });
      return payload.application_id === this.options.applicationId;
    } catch {
      return false;
    }
  }

  /** The first invalid parameter of a v1 send body, or undefined when it is acceptable. */
  private validate(body: Record<string, unknown>): { name: string; reason: string } | undefined {
    for (const name of ['to', 'from', 'channel', 'message_type'] as const) {
      if (!nonEmptyString(body[name])) return { name, reason: body[name] === undefined ? 'is required' : 'must be a non-empty string' };
    }
    const channel = body.channel as string;
    const messageType = body.message_type as string;
    const rules = channels[channel];
    if (!rules) return { name: 'channel', reason: channel === 'viber_service_msg' ? 'viber_service_msg is v0.1; v1 uses viber_service' : `unknown channel ${channel}` };
    if (!rules.types.includes(messageType)) return { name: 'message_type', reason: `${messageType} is not supported on ${channel}` };
    const content = contentProblem(messageType, body[messageType], rules.textMax);
    if (content) return content;
    if (body.client_ref !== undefined && (typeof body.client_ref !== 'string' || body.client_ref.length > 100)) return { name: 'client_ref', reason: 'must be a string of at most 100 characters' };
    if (body.webhook_url !== undefined && (typeof body.webhook_url !== 'string' || !/^https?:\/\//.test(body.webhook_url))) return { name: 'webhook_url', reason: 'must be an http(s) URL' };
    if (body.webhook_version !== undefined && body.webhook_version !== 'v1' && body.webhook_version !== 'v0.1') return { name: 'webhook_version', reason: 'must be v1 or v0.1' };
    if (body.failover !== undefined && !Array.isArray(body.failover)) return { name: 'failover', reason: 'must be an array' };
    return undefined;
  }

  private answerPlanned(response: ServerResponse, answer: VonageMessagesErrorAnswer): void {
    const { httpStatus, code } = answer;
    const type =
      code !== undefined
        ? `${errorsBase}/messages#${code}`
        : httpStatus === 401
          ? `${errorsBase}/#unathorized`
          : httpStatus === 422
            ? `${errorsBase}/messages#1150`
            : httpStatus === 429
              ? `${errorsBase}/messages#1010`
              : `${errorsBase}#http-${httpStatus}`;
    const title = answer.title ?? (code !== undefined ? errorDetails[code] : undefined) ?? defaultTitles[httpStatus] ?? `HTTP ${httpStatus}`;
    this.answerProblem(response, httpStatus, { type, title, detail: answer.detail ?? title });
  }

  private answerProblem(response: ServerResponse, httpStatus: number, problem: Omit<Problem, 'instance'>): void {
    const body: Problem = { ...problem, instance: randomUUID() };
    // Keep the documented key order: type, title, detail, instance, invalid_parameters.
    const ordered: Record<string, unknown> = { type: body.type, title: body.title, detail: body.detail, instance: body.instance };
    if (body.invalid_parameters) ordered.invalid_parameters = body.invalid_parameters;
    response.writeHead(httpStatus, { 'content-type': 'application/problem+json' }).end(JSON.stringify(ordered));
  }
}
