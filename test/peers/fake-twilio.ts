// A fake Twilio Programmable Messaging API (Messages resource) and webhook sender, for integration tests.
// Built only from the protocol reference (channels.md §5.2) and Twilio's public documentation and
// helper-library code, never from our adapter, so that a misunderstanding in the adapter is not copied
// into the fake.
//
// X-Twilio-Signature, as implemented by `twilioSignature` below:
//
//   data = <the full URL Twilio requests, exactly as configured: scheme, host, port, path and the
//           query string as is; query parameters are NOT parsed or sorted>
//   for each POST parameter name, sorted by name (plain code-unit order):
//     for each value of that name (the distinct values, sorted; a single value as it is):
//       data += name + value          // no separators; values decoded, not URL-encoded
//   X-Twilio-Signature = base64( HMAC-SHA1( key = Auth Token, message = UTF-8 bytes of data ) )
//
// Sources:
//  * twilio/twilio-node src/webhooks/webhooks.ts: `getExpectedTwilioSignature` (URL, then
//    `Object.keys(params).sort()`, `toFormUrlEncodedParam` → name + value, with array values
//    de-duplicated with a Set and sorted; `createHmac("sha1", authToken)…digest("base64")`).
//    `validateRequest` accepts the signature computed over the URL *with* the port and over the URL
//    *without* the port ("signature generation on the back end is inconsistent"); for a URL without
//    a port it adds the scheme's default (:443 / :80). So a receiver using twilio-node accepts
//    either form. This fake signs the URL as given by default; `signedUrl: 'without-port'` signs it
//    with the port removed, to check that a receiver copes with both.
//  * twilio.com/docs/usage/webhooks/webhooks-security and …/messaging/guides/webhook-request:
//    form-encoded POSTs, HMAC-SHA1 with the Auth Token over URL + sorted params, the parameter set
//    evolves (receivers must sign over every parameter received).
//  * Known vector (TwilioDevEd/api-snippets security/signature_validation.3.x.js): token "12345",
//    URL "https://mycompany.com/myapp.php?foo=1&bar=2", params CallSid/Caller/Digits/From/To
//    → "GvWf1cFY/Q7PnoempGyD5oXAezc=" (checked in fake-http-sms.test.ts).
//
// Send API (POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded, HTTP Basic):
// errors are Twilio's JSON {code, message, more_info, status}: 20003 (401, bad credentials),
// 21604 (To missing; also what Twilio answers a JSON body with), 21603 (neither From nor
// MessagingServiceSid), 21602 (neither Body nor MediaUrl), 21617 (Body over 1600 characters).
// Success is 201 with the Message resource: status "queued", or "accepted" with a Messaging
// Service (num_segments "0" and from null until a sender is picked); no callback is sent for the
// initial status (channels.md §5.2; twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks).
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type HttpPeer, listenHttpPeer, readBody } from './http-peer.js';

export type TwilioStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'undelivered' | 'failed' | 'read' | 'canceled';
export type TwilioSignatureMode = 'valid' | 'forged' | 'missing';

export interface TwilioSend {
  sid: string;
  accountSid: string;
  to: string;
  from?: string;
  messagingServiceSid?: string;
  body?: string;
  /** Every `MediaUrl` parameter, in the order sent. */
  mediaUrls: string[];
  statusCallback?: string;
  /** now() when the send was accepted (the Message's date_created). */
  at: number;
}

export interface TwilioErrorAnswer {
  httpStatus: number;
  code: number;
  message?: string;
  /** Sent as a Retry-After header. */
  retryAfter?: string;
}

/** Every webhook the fake posted, with what the receiver answered. */
export interface TwilioCallback {
  kind: 'status' | 'inbound';
  url: string;
  /** The form parameters, in the order posted. */
  params: Array<[string, string]>;
  /** The X-Twilio-Signature header sent, if any. */
  signature?: string;
  httpStatus: number;
  responseBody: string;
}

export interface FakeTwilioOptions {
  accountSid: string;
  authToken: string;
  now?: () => number;
  /** `From` put in callbacks for a send that had only a MessagingServiceSid (Twilio picks a sender from the pool). */
  serviceSender?: string;
  /** Which URL the X-Twilio-Signature is computed over (see the header comment). */
  signedUrl?: 'as-is' | 'without-port';
}

const apiVersion = '2010-04-01';
const messagesPath = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages(?:\/([^/.]+))?\.json$/;
// How long a webhook call may take before the fake gives up (a local receiver answers at once).
const webhookTimeoutMs = 15_000;

const defaultErrorMessages: Record<number, string> = {
  20003: 'Authenticate',
  20004: 'Method not allowed',
  20404: 'The requested resource was not found',
  20429: 'Too Many Requests',
  20500: 'An internal server error has occurred',
  20503: 'Service unavailable',
  21602: 'Message body is required.',
  21603: "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
  21604: "A 'To' phone number is required.",
  21617: 'The concatenated message body exceeds the 1600 character limit.',
};

/** Twilio's X-Twilio-Signature for a request to `url` with these POST parameters (see the header comment). */
export function twilioSignature(
  authToken: string,
  url: string,
  params: Iterable<readonly [string, string]> | Record<string, string | readonly string[]>,
): string {
  const byName = new Map<string, string[]>();
  const add = (name: string, value: string): void => {
    const values = byName.get(name);
    if (values) values.push(value);
    else byName.set(name, [value]);
  };
  if (Symbol.iterator in params) {
    for (const [name, value] of params as Iterable<readonly [string, string]>) add(name, value);
  } else {
    for (const [name, value] of Object.entries(params as Record<string, string | readonly string[]>)) {
      if (typeof value === 'string') add(name, value);
      else for (const one of value) add(name, one);
    }
  }
  let data = url;
  for (const name of [...byName.keys()].sort()) {
    const values = byName.get(name) ?? [];
    // twilio-node: a repeated parameter is signed once per distinct value, values sorted.
    for (const value of values.length > 1 ? [...new Set(values)].sort() : values) data += name + value;
  }
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

// GSM 03.38 default alphabet and the extension table (extension characters take two septets).
const gsmBasic = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const gsmExtension = new Set('\f^{}\\[~]|€');

/** Segments Twilio would count: GSM-7 160 / 153 septets, otherwise UCS-2 70 / 67 code units. */
function segmentCount(body: string): number {
  if (body === '') return 1;
  let septets = 0;
  let gsm = true;
  for (const char of body) {
    if (gsmBasic.has(char)) septets += 1;
    else if (gsmExtension.has(char)) septets += 2;
    else {
      gsm = false;
      break;
    }
  }
  if (gsm) return septets <= 160 ? 1 : Math.ceil(septets / 153);
  return body.length <= 70 ? 1 : Math.ceil(body.length / 67);
}

/** RFC 2822 in GMT, as Twilio writes date_created: "Thu, 24 Aug 2023 05:01:45 +0000". */
function rfc2822(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000');
}

/** YYMMDDHHMM in UTC, the form of RawDlrDoneDate. */
function dlrDate(ms: number): string {
  const date = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getUTCFullYear() % 100)}${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}`;
}

function sid(prefix: string): string {
  return `${prefix}${randomBytes(16).toString('hex')}`;
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function guessContentType(url: string): string {
  const extension = /\.([a-z0-9]+)(?:[?#].*)?$/i.exec(url)?.[1]?.toLowerCase();
  const types: Record<string, string> = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', mp4: 'video/mp4', pdf: 'application/pdf', vcf: 'text/vcard' };
  return (extension && types[extension]) || 'image/jpeg';
}

interface MessageState {
  send: TwilioSend;
  status: string;
  errorCode: number | null;
  updated: number;
}

export class FakeTwilio {
  readonly sends: TwilioSend[] = [];
  readonly callbacks: TwilioCallback[] = [];

  private readonly planned: TwilioErrorAnswer[] = [];
  private readonly messages = new Map<string, MessageState>();
  private readonly now: () => number;
  private requestCount = 0;

  private constructor(
    private readonly peer: HttpPeer,
    private readonly options: FakeTwilioOptions,
    readonly baseUrl: string,
  ) {
    this.now = options.now ?? Date.now;
  }

  static async start(options: FakeTwilioOptions): Promise<FakeTwilio> {
    let fake: FakeTwilio | undefined;
    // Requests cannot arrive before listen resolved, so `fake` is always set in the handler.
    const peer = await listenHttpPeer((request, response) => fake!.handle(request, response));
    fake = new FakeTwilio(peer, options, peer.baseUrl);
    return fake;
  }

  /** Every POST to …/Messages.json (accepted, refused or failed on purpose). */
  get requests(): number {
    return this.requestCount;
  }

  /** The next `times` POSTs to Messages.json answer this Twilio error, before any other check. */
  failNext(answer: TwilioErrorAnswer, times = 1): void {
    for (let i = 0; i < times; i++) this.planned.push(answer);
  }

  /**
   * Posts a StatusCallback for one of our sends to its StatusCallback URL (or `url`), as Twilio does:
   * MessageSid, MessageStatus, AccountSid, From, To, ApiVersion, the legacy SmsSid/SmsStatus,
   * MessagingServiceSid when the send used one, ErrorCode on failed/undelivered (30008 "unknown
   * error" unless given; given on any other status it is sent too) and RawDlrDoneDate on
   * delivered/undelivered. Resolves with the HTTP status the receiver answered.
   */
  async status(
    messageSid: string,
    status: TwilioStatus,
    options: { errorCode?: number; url?: string; signature?: TwilioSignatureMode } = {},
  ): Promise<number> {
    const state = this.messages.get(messageSid);
    if (!state) throw new Error(`FakeTwilio: no send with sid ${messageSid}`);
    const { send } = state;
    const url = options.url ?? send.statusCallback;
    if (url === undefined) throw new Error(`FakeTwilio: send ${messageSid} has no StatusCallback; pass options.url`);
    const errorCode = options.errorCode ?? (status === 'failed' || status === 'undelivered' ? 30008 : undefined);
    state.status = status;
    state.errorCode = errorCode ?? null;
    state.updated = this.now();

    const params: Array<[string, string]> = [];
    if (errorCode !== undefined) params.push(['ErrorCode', String(errorCode)]);
    params.push(['SmsSid', send.sid], ['SmsStatus', status], ['MessageStatus', status], ['To', send.to]);
    if (send.messagingServiceSid !== undefined) params.push(['MessagingServiceSid', send.messagingServiceSid]);
    params.push(['MessageSid', send.sid], ['AccountSid', send.accountSid], ['From', send.from ?? this.options.serviceSender ?? '+15005550006']);
    if (status === 'delivered' || status === 'undelivered') params.push(['RawDlrDoneDate', dlrDate(this.now())]);
    params.push(['ApiVersion', apiVersion]);
    return this.post('status', url, params, options.signature ?? 'valid');
  }

  /**
   * An incoming-message webhook as Twilio posts it: MessageSid (SM…, or MM… with media), SmsSid,
   * SmsMessageSid, AccountSid, From, To, Body, NumMedia, NumSegments, MediaUrl{N} and
   * MediaContentType{N}, SmsStatus "received", ApiVersion. Resolves with the receiver's HTTP status.
   */
  async inbound(url: string, message: { from: string; to: string; body: string; mediaUrls?: string[] }, signature: TwilioSignatureMode = 'valid'): Promise<number> {
    const media = message.mediaUrls ?? [];
    const messageSid = sid(media.length > 0 ? 'MM' : 'SM');
    const params: Array<[string, string]> = [];
    media.forEach((mediaUrl, index) => params.push([`MediaContentType${index}`, guessContentType(mediaUrl)]));
    params.push(
      ['SmsMessageSid', messageSid],
      ['NumMedia', String(media.length)],
      ['SmsSid', messageSid],
      ['SmsStatus', 'received'],
      ['Body', message.body],
      ['To', message.to],
      ['NumSegments', String(segmentCount(message.body))],
      ['MessageSid', messageSid],
      ['AccountSid', this.options.accountSid],
      ['From', message.from],
    );
    media.forEach((mediaUrl, index) => params.push([`MediaUrl${index}`, mediaUrl]));
    params.push(['ApiVersion', apiVersion]);
    return this.post('inbound', url, params, signature);
  }

  close(): Promise<void> {
    return this.peer.close();
  }

  private signingUrl(url: string): string {
    if (this.options.signedUrl !== 'without-port') return url;
    const parsed = new URL(url);
    parsed.port = '';
    return parsed.toString();
  }

  private async post(kind: TwilioCallback['kind'], url: string, params: Array<[string, string]>, signature: TwilioSignatureMode): Promise<number> {
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'TwilioProxy/1.1',
      'i-twilio-idempotency-token': randomUUID(),
    };
    let sent: string | undefined;
    if (signature !== 'missing') {
      const token = signature === 'valid' ? this.options.authToken : `${this.options.authToken}-forged`;
      sent = twilioSignature(token, this.signingUrl(url), params);
      headers['x-twilio-signature'] = sent;
    }
    const response = await fetch(url, {
      method: 'POST',
      headers,
      body: new URLSearchParams(params).toString(),
      redirect: 'manual',
      signal: AbortSignal.timeout(webhookTimeoutMs),
    });
    const responseBody = await response.text();
    const callback: TwilioCallback = { kind, url, params, httpStatus: response.status, responseBody };
    if (sent !== undefined) callback.signature = sent;
    this.callbacks.push(callback);
    return response.status;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.baseUrl);
    const raw = await readBody(request);
    const match = messagesPath.exec(url.pathname);
    if (!match) {
      this.answerError(response, { httpStatus: 404, code: 20404, message: `The requested resource ${url.pathname} was not found` });
      return;
    }
    const [, accountSid, messageSid] = match;
    if (request.method === 'POST' && messageSid === undefined) {
      this.requestCount++;
      const planned = this.planned.shift();
      if (planned) {
        this.answerError(response, planned);
        return;
      }
      if (!this.authorised(request)) {
        this.answerError(response, { httpStatus: 401, code: 20003 });
        return;
      }
      if (accountSid !== this.options.accountSid) {
        this.answerError(response, { httpStatus: 404, code: 20404, message: `The requested resource ${url.pathname} was not found` });
        return;
      }
      this.create(request, raw, response);
      return;
    }
    if (request.method === 'GET' && messageSid !== undefined) {
      if (!this.authorised(request)) {
        this.answerError(response, { httpStatus: 401, code: 20003 });
        return;
      }
      const state = this.messages.get(messageSid);
      if (accountSid !== this.options.accountSid || !state) {
        this.answerError(response, { httpStatus: 404, code: 20404, message: `The requested resource ${url.pathname} was not found` });
        return;
      }
      this.answerJson(response, 200, this.resource(state));
      return;
    }
    this.answerError(response, { httpStatus: 405, code: 20004 });
  }

  private authorised(request: IncomingMessage): boolean {
    const encoded = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (encoded === undefined) return false;
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    return safeEqual(decoded.slice(0, colon), this.options.accountSid) && safeEqual(decoded.slice(colon + 1), this.options.authToken);
  }

  private create(request: IncomingMessage, raw: Buffer, response: ServerResponse): void {
    // Twilio reads form parameters only: a JSON body has no `To` (error 21604 says as much).
    const isJson = /json/i.test(request.headers['content-type'] ?? '');
    const form = new URLSearchParams(isJson ? '' : raw.toString('utf8'));
    const value = (name: string): string | undefined => {
      const found = form.get(name);
      return found === null || found === '' ? undefined : found;
    };
    const to = value('To');
    const from = value('From');
    const messagingServiceSid = value('MessagingServiceSid');
    const body = form.get('Body') ?? undefined;
    const mediaUrls = form.getAll('MediaUrl').filter((one) => one !== '');
    const statusCallback = value('StatusCallback');

    if (to === undefined) return this.answerError(response, { httpStatus: 400, code: 21604 });
    if (from === undefined && messagingServiceSid === undefined) return this.answerError(response, { httpStatus: 400, code: 21603 });
    if ((body === undefined || body === '') && mediaUrls.length === 0) return this.answerError(response, { httpStatus: 400, code: 21602 });
    if (body !== undefined && body.length > 1600) return this.answerError(response, { httpStatus: 400, code: 21617 });

    const send: TwilioSend = {
      sid: sid(mediaUrls.length > 0 ? 'MM' : 'SM'),
      accountSid: this.options.accountSid,
      to,
      mediaUrls,
      at: this.now(),
    };
    if (from !== undefined) send.from = from;
    if (messagingServiceSid !== undefined) send.messagingServiceSid = messagingServiceSid;
    if (body !== undefined) send.body = body;
    if (statusCallback !== undefined) send.statusCallback = statusCallback;
    this.sends.push(send);
    const state: MessageState = { send, status: messagingServiceSid !== undefined ? 'accepted' : 'queued', errorCode: null, updated: send.at };
    this.messages.set(send.sid, state);
    this.answerJson(response, 201, this.resource(state));
  }

  /** The Message resource JSON (twilio-go ApiV2010Message / twilio.com/docs/messaging/api/message-resource). */
  private resource(state: MessageState): Record<string, unknown> {
    const { send } = state;
    const uri = `/${apiVersion}/Accounts/${send.accountSid}/Messages/${send.sid}`;
    const viaService = send.messagingServiceSid !== undefined;
    // With a Messaging Service the sender (and so the encoding) is chosen later: num_segments is "0" at first.
    const segments = viaService && state.status === 'accepted' ? 0 : segmentCount(send.body ?? '');
    const sent = ['sent', 'delivered', 'undelivered', 'read'].includes(state.status);
    return {
      account_sid: send.accountSid,
      api_version: apiVersion,
      body: send.body ?? '',
      date_created: rfc2822(send.at),
      date_sent: sent ? rfc2822(state.updated) : null,
      date_updated: rfc2822(state.updated),
      direction: 'outbound-api',
      error_code: state.errorCode,
      error_message: null,
      from: send.from ?? (state.status === 'accepted' ? null : this.options.serviceSender ?? '+15005550006'),
      messaging_service_sid: send.messagingServiceSid ?? null,
      num_media: String(send.mediaUrls.length),
      num_segments: String(segments),
      price: null,
      price_unit: 'USD',
      sid: send.sid,
      status: state.status,
      subresource_uris: { media: `${uri}/Media.json` },
      to: send.to,
      uri: `${uri}.json`,
    };
  }

  private answerError(response: ServerResponse, error: TwilioErrorAnswer): void {
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    if (error.retryAfter !== undefined) headers['retry-after'] = error.retryAfter;
    if (error.httpStatus === 401) headers['www-authenticate'] = 'Basic realm="Twilio API"';
    const body = {
      code: error.code,
      message: error.message ?? defaultErrorMessages[error.code] ?? `Error ${error.code}`,
      more_info: `https://www.twilio.com/docs/errors/${error.code}`,
      status: error.httpStatus,
    };
    response.writeHead(error.httpStatus, headers).end(JSON.stringify(body));
  }

  private answerJson(response: ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
  }
}
