// A fake Meta WhatsApp Business Cloud API (POST /{version}/{phone_number_id}/messages) and webhook
// sender, for integration tests. Built only from the protocol reference (channels.md §2 WhatsApp and
// §1.5 Meta's webhook signature and GET handshake) and Meta's public docs, never from our adapter, so
// that a misunderstanding of the protocol in the adapter is not copied into the fake.
//
// Send (channels.md §2.1): `Authorization: Bearer <token>` (Graph also takes `?access_token=`), JSON
// body {messaging_product: "whatsapp", recipient_type?: "individual" | "group", to, type, <type>: {…},
// context?: {message_id}, biz_opaque_callback_data?: string ≤ 512}. Success is 200
// {"messaging_product":"whatsapp","contacts":[{"input","wa_id"}],"messages":[{"id":"wamid.…"}]}.
// The same endpoint marks an inbound message read: {messaging_product, status: "read", message_id}
// → 200 {"success": true} (api-evangelist/whatsapp json-schema send-message-request `status`/`message_id`).
//
// Errors (§2.4; Meta's Cloud API error-codes page "Error Response Syntax"):
//   {"error": {"message": "(#<code>) <title>", "type": "OAuthException", "code": <code>,
//              "error_data": {"messaging_product": "whatsapp", "details": "<details>"},
//              "error_subcode"?: <n>, "fbtrace_id": "<id>"}}
// `error_data` is sent when there are details (given, or known for the code below). Token errors come
// from the Graph layer before WhatsApp: 401, code 190, message without "(#190)", no error_data.
// A token that is valid for another number gets Graph's 400 code 100 subcode 33 "Unsupported post
// request. Object with ID '…' does not exist, …" (quoted in voiceflow-community/example-integration-whatsapp#5).
// Parameter errors are 400: the top-level ones code 100 ("(#100) The parameter messaging_product is
// required."; text: "The parameter text.body is required." as reported in shridarpatil/whatomate#487;
// a bad template "(#100) Invalid parameter" + details "Parameter name is missing or empty", as quoted in
// a Q&A repost at exchangetuts.com), a missing type object or media link/id 131008 "Required parameter
// is missing" (shridarpatil/whatomate#501). The exact wording of the other validation messages is ours.
//
// Webhooks (§2.2, Meta's webhooks reference messages.md and messages/status.md): one signed POST per
// call, {"object":"whatsapp_business_account","entry":[{"id":<WABA_ID>,"changes":[{"value":{
// "messaging_product":"whatsapp","metadata":{"display_phone_number","phone_number_id"}, "statuses":[…] |
// "contacts":[{"profile":{"name"},"wa_id"}],"messages":[…]},"field":"messages"}]}]}. A status is
// {id, status, timestamp: "<unix s>", recipient_id, biz_opaque_callback_data?, pricing? (on sent and
// delivered; no `conversation`, which v24.0+ leaves out), errors? [{code, title, message, error_data:
// {details}, href}]}. `read` may come without `delivered`; the fake sends whatever the test asks for.
// Signature (§1.5): X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>, plus the legacy
// X-Hub-Signature: sha1=….
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type HttpPeer, listenHttpPeer, readBody } from './http-peer.js';
import { metaHandshake, postMetaEvent } from './meta-callbacks.js';

export interface WhatsAppSend {
  phoneNumberId: string;
  accessToken: string;
  /** As sent (the response's `contacts[0].input`). */
  to: string;
  /** text | image | audio | video | document | sticker | location | contacts | interactive | template | reaction */
  type: string;
  /** The whole JSON body, as sent. */
  body: Record<string, unknown>;
  wamid: string;
  /** now() when the send was accepted. */
  at: number;
}

export interface WhatsAppError {
  httpStatus: number;
  code: number;
  /** `error_subcode` (Meta stopped sending it in v16.0+, except on Graph-level errors). */
  subcode?: number;
  /** Defaults to "(#<code>) <title>" for known codes. */
  message?: string;
  /** `error_data.details`; defaults to the known details for the code, if any. */
  details?: string;
}

/** Every POST to the fake, whatever it was answered: lets tests see retries and bad requests. */
export interface WhatsAppRequest {
  phoneNumberId: string;
  body: unknown;
  httpStatus: number;
  /** Graph error code when the answer was an error. */
  errorCode?: number;
  at: number;
}

/** An inbound message posted by `inbound()`. */
export interface WhatsAppInbound {
  phoneNumberId: string;
  from: string;
  wamid: string;
  at: number;
}

export interface FakeWhatsAppOptions {
  /** Signs webhook POSTs (X-Hub-Signature-256). */
  appSecret: string;
  /** phone_number_id → its access token and its display number (digits). */
  numbers: Record<string, { accessToken: string; displayPhoneNumber: string }>;
  /** `entry[].id` of webhooks. */
  wabaId?: string;
  now?: () => number;
}

export interface WhatsAppStatusError {
  code: number;
  title?: string;
  message?: string;
  details?: string;
}

export interface WhatsAppStatusOptions {
  /** Defaults to 131000 for `failed`, none otherwise. */
  errors?: WhatsAppStatusError[];
  /** In ms (default now()); sent as a Unix-seconds string. */
  timestamp?: number;
  /** For a wamid this fake did not issue: the business number and the recipient to report. */
  phoneNumberId?: string;
  recipientId?: string;
}

export interface WhatsAppInboundMessage {
  text?: string;
  image?: { id: string; mime_type?: string; caption?: string; sha256?: string };
}

const mediaTypes = new Set(['image', 'audio', 'video', 'document', 'sticker']);
const captionTypes = new Set(['image', 'video', 'document']);
const messageTypes = new Set([...mediaTypes, 'text', 'location', 'contacts', 'interactive', 'template', 'reaction']);
const sendPath = /^\/v\d+\.\d+\/([^/]+)\/messages$/;
// Meta's documented webhook timeout is Messenger's 20 s (§1.5); WhatsApp documents none, we use the same.
const errorCodesHref = 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/';
const textLimit = 4096; // §2.1 (secondary)
const opaqueLimit = 512; // §2.1, bytes

// Titles (message = "(#code) title" on the Graph answer; title = message in webhooks) and details, from
// Meta's Cloud API error-codes page and its mirrors (docs.ycloud.com, channels.md §2.4).
const knownErrors: Record<number, { title: string; details?: string }> = {
  0: { title: 'AuthException' },
  1: { title: 'API Unknown', details: 'Invalid request or possible server error.' },
  2: { title: 'API Service', details: 'Temporary due to downtime or due to being overloaded.' },
  4: { title: 'API Too Many Calls' },
  10: { title: 'Permission Denied' },
  100: { title: 'Invalid parameter' },
  190: { title: 'Invalid OAuth access token - Cannot parse access token' },
  368: { title: 'Temporarily blocked for policies violations' },
  80007: { title: 'Rate limit issues', details: 'The WhatsApp Business Account has reached its rate limit.' },
  130429: { title: 'Rate limit hit', details: 'Message failed to send because there were too many messages sent from this phone number in a short period of time' },
  130497: { title: 'Business account is restricted from messaging users in this country.' },
  131000: { title: 'Something went wrong', details: 'Message failed to send due to an unknown error.' },
  131008: { title: 'Required parameter is missing' },
  131009: { title: 'Parameter value is not valid' },
  131016: { title: 'Service unavailable', details: 'A service is temporarily unavailable.' },
  131021: { title: 'Recipient cannot be sender', details: 'Sender and recipient phone number is the same.' },
  131026: {
    title: 'Message undeliverable',
    details: 'Unable to deliver message. Reasons can include: the recipient phone number is not a WhatsApp phone number; the recipient has not accepted our new Terms of Service and Privacy Policy; the recipient is using an old WhatsApp version.',
  },
  131030: { title: 'Recipient phone number not in allowed list', details: 'Add recipient phone number to recipient list and try again.' },
  131031: { title: 'Account has been locked' },
  131047: { title: 'Re-engagement message', details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.' },
  131048: {
    title: 'Spam rate limit hit',
    details: 'Message failed to send because there are restrictions on how many messages can be sent from this phone number. This may be because too many previous messages were blocked or flagged as spam.',
  },
  131049: { title: 'This message was not delivered to maintain healthy ecosystem engagement.' },
  131050: { title: 'Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.' },
  131051: { title: 'Unsupported message type', details: 'Message type is not currently supported.' },
  131053: { title: 'Media upload error', details: 'Unable to upload the media used in the message.' },
  131056: {
    title: '(Business Account, Consumer Account) pair rate limit hit',
    details: 'Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.',
  },
  132000: { title: 'Number of parameters does not match the expected number of params' },
  132001: { title: 'Template does not exist' },
  133010: { title: 'Phone number Not Registered' },
};

class WhatsAppFailure extends Error {
  constructor(readonly whatsapp: WhatsAppError) {
    super(whatsapp.message);
  }
}

/** A 400 with code 100 (or 131008 / another WhatsApp code); `message` without the "(#code) " prefix. */
function badRequest(message: string, details: string, code = 100, subcode?: number): WhatsAppFailure {
  return new WhatsAppFailure({ httpStatus: 400, code, message: `(#${code}) ${message}`, details, ...(subcode === undefined ? {} : { subcode }) });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

/**
 * A wamid shaped like Meta's: "wamid." + base64 of 1C 18 <len> <wa_id digits> 15 02 00 <11 out | 12 in>
 * 18 <len> <uppercase hex> 00 (decoded from the samples in Meta's webhook reference).
 */
function newWamid(waId: string, direction: 'outbound' | 'inbound'): string {
  const digits = Buffer.from(waId.replace(/\D/g, '').slice(0, 20), 'latin1');
  const hex = Buffer.from(randomBytes(direction === 'outbound' ? 9 : 10).toString('hex').toUpperCase(), 'latin1');
  const bytes = Buffer.concat([
    Buffer.from([0x1c, 0x18, digits.length]),
    digits,
    Buffer.from([0x15, 0x02, 0x00, direction === 'outbound' ? 0x11 : 0x12, 0x18, hex.length]),
    hex,
    Buffer.from([0x00]),
  ]);
  return `wamid.${bytes.toString('base64')}`;
}

function unixSeconds(ms: number): string {
  return String(Math.floor(ms / 1000));
}

export class FakeWhatsApp {
  readonly sends: WhatsAppSend[] = [];
  readonly attempts: WhatsAppRequest[] = [];
  readonly inbounds: WhatsAppInbound[] = [];
  /** message_ids marked read through `{status: "read", message_id}` POSTs. */
  readonly markedRead: string[] = [];
  /** Where notifications go, e.g. `${gatewayUrl}/webhooks/whatsapp`. */
  webhookUrl: string | undefined;

  private readonly planned: WhatsAppError[] = [];
  private readonly now: () => number;
  private readonly wabaId: string;

  private constructor(
    private readonly peer: HttpPeer,
    private readonly options: FakeWhatsAppOptions,
    readonly baseUrl: string,
  ) {
    this.now = options.now ?? Date.now;
    this.wabaId = options.wabaId ?? '100000000000002';
  }

  static async start(options: FakeWhatsAppOptions): Promise<FakeWhatsApp> {
    let fake: FakeWhatsApp | undefined;
    // Requests cannot arrive before listen resolved, so `fake` is always set in the handler.
    const peer = await listenHttpPeer((request, response) => fake!.handle(request, response));
    fake = new FakeWhatsApp(peer, options, peer.baseUrl);
    return fake;
  }

  /** Every POST to the fake, accepted or not. */
  get requests(): number {
    return this.attempts.length;
  }

  /** The next `times` POSTs answer this Graph error (checked before anything else, the token included). */
  failNext(error: WhatsAppError, times = 1): void {
    for (let i = 0; i < times; i++) this.planned.push(error);
  }

  /**
   * A status notification for one of our sends (its number, recipient and biz_opaque_callback_data).
   * `failed` carries `errors` (131000 unless given): `{errors: [{code: 131047}]}` is the 24-hour window.
   */
  async status(wamid: string, status: 'sent' | 'delivered' | 'read' | 'failed', options: WhatsAppStatusOptions = {}): Promise<number> {
    this.webhookTarget();
    const send = this.sends.find((candidate) => candidate.wamid === wamid);
    const phoneNumberId = options.phoneNumberId ?? send?.phoneNumberId;
    const recipientId = options.recipientId ?? (send ? send.to.replace(/\D/g, '') : undefined);
    if (phoneNumberId === undefined || recipientId === undefined) {
      throw new Error(`FakeWhatsApp: no send has id ${wamid}; give phoneNumberId and recipientId for a foreign wamid`);
    }
    const entry: Record<string, unknown> = { id: wamid, status, timestamp: unixSeconds(options.timestamp ?? this.now()), recipient_id: recipientId };
    if (send && typeof send.body.biz_opaque_callback_data === 'string') entry.biz_opaque_callback_data = send.body.biz_opaque_callback_data;
    if (status === 'sent' || status === 'delivered') {
      // Per-message pricing (PMP): a template is billed, a free-form reply inside the window is not.
      entry.pricing =
        send?.type === 'template'
          ? { billable: true, pricing_model: 'PMP', type: 'regular', category: 'utility' }
          : { billable: false, pricing_model: 'PMP', type: 'free_customer_service', category: 'service' };
    }
    const errors = options.errors ?? (status === 'failed' ? [{ code: 131000 }] : undefined);
    if (errors) entry.errors = errors.map((error) => this.webhookError(error));
    return this.postEvent(this.envelope(phoneNumberId, { statuses: [entry] }));
  }

  /** A user's message to a business number: `contacts` + `messages`, text or image. */
  async inbound(phoneNumberId: string, from: string, message: WhatsAppInboundMessage, options: { name?: string; timestamp?: number } = {}): Promise<number> {
    this.webhookTarget();
    if ((message.text === undefined) === (message.image === undefined)) throw new Error('FakeWhatsApp: inbound needs exactly one of text or image');
    const at = options.timestamp ?? this.now();
    const wamid = newWamid(from, 'inbound');
    const body: Record<string, unknown> = { from, id: wamid, timestamp: unixSeconds(at) };
    if (message.text !== undefined) {
      body.type = 'text';
      body.text = { body: message.text };
    } else if (message.image) {
      const image: Record<string, unknown> = {
        mime_type: message.image.mime_type ?? 'image/jpeg',
        sha256: message.image.sha256 ?? randomBytes(32).toString('base64'),
        id: message.image.id,
      };
      if (message.image.caption !== undefined) image.caption = message.image.caption;
      body.type = 'image';
      body.image = image;
    }
    const event = this.envelope(phoneNumberId, { contacts: [{ profile: { name: options.name ?? 'Test User' }, wa_id: from }], messages: [body] });
    this.inbounds.push({ phoneNumberId, from, wamid, at });
    return this.postEvent(event);
  }

  /**
   * Posts a raw notification. An object is serialised once and signed over those exact bytes;
   * a string or Buffer is sent byte for byte (for raw-body tests such as odd escaping or key order).
   */
  async postEvent(body: unknown, signature: 'valid' | 'forged' | 'missing' = 'valid'): Promise<number> {
    const url = this.webhookTarget();
    return postMetaEvent(url, body, this.options.appSecret, signature, { 'user-agent': 'facebookexternalua' });
  }

  /** Meta's subscription handshake (GET with hub.mode / hub.verify_token / hub.challenge). */
  verify(url: string, token: string, challenge: string): Promise<{ status: number; body: string }> {
    return metaHandshake(url, token, challenge);
  }

  close(): Promise<void> {
    return this.peer.close();
  }

  private webhookTarget(): string {
    if (this.webhookUrl === undefined) throw new Error('FakeWhatsApp: set webhookUrl before posting events');
    return this.webhookUrl;
  }

  private envelope(phoneNumberId: string, fields: Record<string, unknown>): Record<string, unknown> {
    const number = this.options.numbers[phoneNumberId];
    if (!number) throw new Error(`FakeWhatsApp: unknown phone_number_id ${phoneNumberId}`);
    const value = { messaging_product: 'whatsapp', metadata: { display_phone_number: number.displayPhoneNumber, phone_number_id: phoneNumberId }, ...fields };
    return { object: 'whatsapp_business_account', entry: [{ id: this.wabaId, changes: [{ value, field: 'messages' }] }] };
  }

  private webhookError(error: WhatsAppStatusError): Record<string, unknown> {
    const known = knownErrors[error.code];
    const title = error.title ?? known?.title ?? 'Error';
    const details = error.details ?? known?.details ?? title;
    return { code: error.code, title, message: error.message ?? title, error_data: { details }, href: errorCodesHref };
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.baseUrl);
    const raw = await readBody(request);
    if (request.method !== 'POST') {
      this.answerError(response, { httpStatus: 400, code: 100, message: `Unsupported ${request.method} request to ${url.pathname}` });
      return;
    }
    const at = this.now();
    let body: unknown;
    try {
      body = raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
    } catch {
      body = raw.toString('utf8');
    }
    const attempt: WhatsAppRequest = { phoneNumberId: sendPath.exec(url.pathname)?.[1] ?? '', body, httpStatus: 0, at };
    this.attempts.push(attempt);

    try {
      const planned = this.planned.shift();
      if (planned) throw new WhatsAppFailure(planned);
      const answer = this.accept(url, request, body, at);
      attempt.httpStatus = 200;
      this.answerJson(response, 200, answer);
    } catch (error) {
      if (!(error instanceof WhatsAppFailure)) throw error;
      attempt.httpStatus = error.whatsapp.httpStatus;
      attempt.errorCode = error.whatsapp.code;
      this.answerError(response, error.whatsapp);
    }
  }

  /** Validates a call in Meta's order (path, token, then parameters) and answers it; throws WhatsAppFailure. */
  private accept(url: URL, request: IncomingMessage, body: unknown, at: number): Record<string, unknown> {
    const match = sendPath.exec(url.pathname);
    if (!match?.[1]) throw badRequest('Invalid parameter', `Unknown path components: ${url.pathname}`);
    const phoneNumberId = decodeURIComponent(match[1]);

    const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1]?.trim();
    const accessToken = url.searchParams.get('access_token') ?? bearer;
    const numbers = this.options.numbers;
    if (accessToken === undefined || !Object.values(numbers).some((number) => number.accessToken === accessToken)) {
      throw new WhatsAppFailure({ httpStatus: 401, code: 190, message: knownErrors[190]!.title });
    }
    if (numbers[phoneNumberId]?.accessToken !== accessToken) {
      throw new WhatsAppFailure({
        httpStatus: 400,
        code: 100,
        subcode: 33,
        message: `Unsupported post request. Object with ID '${phoneNumberId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
      });
    }

    if (!isRecord(body)) throw badRequest('Invalid parameter', 'The request body must be a JSON object');
    if (body.messaging_product === undefined) throw badRequest('The parameter messaging_product is required.', 'Parameter messaging_product is required');
    if (body.messaging_product !== 'whatsapp') throw badRequest('Invalid parameter', 'Param messaging_product must be "whatsapp"');

    // Mark-as-read shares the endpoint.
    if (body.status === 'read') {
      if (!nonEmptyString(body.message_id)) throw badRequest('The parameter message_id is required.', 'Parameter message_id is required');
      this.markedRead.push(body.message_id);
      return { success: true };
    }

    const recipientType = body.recipient_type;
    if (recipientType !== undefined && recipientType !== 'individual' && recipientType !== 'group') {
      throw badRequest('Invalid parameter', 'Param recipient_type must be one of {individual, group}');
    }
    const to = body.to;
    if (!nonEmptyString(to)) throw badRequest('The parameter to is required.', 'Parameter to is required');
    const type = body.type;
    if (!nonEmptyString(type)) throw badRequest('The parameter type is required.', 'Parameter type is required');
    if (!messageTypes.has(type)) throw badRequest('Invalid parameter', `Param type must be one of {${[...messageTypes].sort().join(', ')}} - got "${type}"`);
    const content = body[type];
    if (!isRecord(content)) throw badRequest('Required parameter is missing', `Parameter '${type}' is required for a message of type ${type}`, 131008);
    this.checkContent(type, content);

    const context = body.context;
    if (context !== undefined && (!isRecord(context) || !nonEmptyString(context.message_id))) {
      throw badRequest('Invalid parameter', 'Param context must be an object with a message_id');
    }
    const opaque = body.biz_opaque_callback_data;
    if (opaque !== undefined && (typeof opaque !== 'string' || Buffer.byteLength(opaque, 'utf8') > opaqueLimit)) {
      throw badRequest('Invalid parameter', `Param biz_opaque_callback_data must be a string of at most ${opaqueLimit} bytes`);
    }

    const waId = to.replace(/\D/g, '');
    const wamid = newWamid(waId, 'outbound');
    this.sends.push({ phoneNumberId, accessToken, to, type, body, wamid, at });
    return { messaging_product: 'whatsapp', contacts: [{ input: to, wa_id: waId }], messages: [{ id: wamid }] };
  }

  private checkContent(type: string, content: Record<string, unknown>): void {
    if (type === 'text') {
      if (!nonEmptyString(content.body)) throw badRequest('The parameter text.body is required.', "Parameter text['body'] is required");
      if (content.body.length > textLimit) throw badRequest('Invalid parameter', `Param text['body'] must be at most ${textLimit} characters long`);
      if (content.preview_url !== undefined && typeof content.preview_url !== 'boolean') throw badRequest('Invalid parameter', "Param text['preview_url'] must be a boolean");
    } else if (mediaTypes.has(type)) {
      const hasLink = content.link !== undefined;
      const hasId = content.id !== undefined;
      if (!hasLink && !hasId) throw badRequest('Required parameter is missing', `Parameter '${type}' must have a link or an id`, 131008);
      if (hasLink && hasId) throw badRequest('Invalid parameter', `Param ${type} must have either a link or an id, not both`);
      if (hasLink && !nonEmptyString(content.link)) throw badRequest('Invalid parameter', `Param ${type}['link'] must be a URL`);
      if (hasId && !nonEmptyString(content.id)) throw badRequest('Invalid parameter', `Param ${type}['id'] must be a media id`);
      if (content.caption !== undefined && (!captionTypes.has(type) || typeof content.caption !== 'string')) {
        throw badRequest('Invalid parameter', `Param ${type}['caption'] is not supported here or is not a string`);
      }
    } else if (type === 'template') {
      if (!nonEmptyString(content.name)) throw badRequest('Invalid parameter', 'Parameter name is missing or empty');
      if (!isRecord(content.language) || !nonEmptyString(content.language.code)) throw badRequest('Invalid parameter', 'Parameter language is missing or has no code');
      if (content.components !== undefined && !Array.isArray(content.components)) throw badRequest('Invalid parameter', 'Param components must be an array');
    }
  }

  private answerError(response: ServerResponse, error: WhatsAppError): void {
    const known = knownErrors[error.code];
    const body: Record<string, unknown> = {
      message: error.message ?? (known ? `(#${error.code}) ${known.title}` : `(#${error.code}) Error`),
      type: 'OAuthException',
      code: error.code,
    };
    const details = error.details ?? known?.details;
    if (details !== undefined) body.error_data = { messaging_product: 'whatsapp', details };
    if (error.subcode !== undefined) body.error_subcode = error.subcode;
    body.fbtrace_id = randomBytes(12).toString('base64url');
    const reason = error.code === 190 ? 'invalid_token' : 'invalid_request';
    response
      .writeHead(error.httpStatus, {
        'content-type': 'application/json; charset=UTF-8',
        'www-authenticate': `OAuth "Facebook Platform" "${reason}" "${String(body.message).replace(/"/g, "'").replace(/[^\x20-\x7e]/g, '?')}"`,
      })
      .end(JSON.stringify({ error: body }));
  }

  private answerJson(response: ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' }).end(JSON.stringify(body));
  }
}
