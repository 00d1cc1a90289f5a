// A fake Vonage (Nexmo) SMS API (POST /sms/json) and DLR / inbound-SMS webhook sender, for integration
// tests. Built only from the protocol reference (channels.md §5.1) and Vonage's public documentation,
// OpenAPI spec and SDK code, never from our adapter, so that a misunderstanding in the adapter is not
// copied into the fake.
//
// Signed webhooks (`sig`), as implemented by `vonageSignature` below:
//
//   1. Take every parameter of the request except `sig` (when Vonage signs a webhook it adds
//      `timestamp` = Unix seconds and `nonce` = a random UUID to the set first; a client signing a
//      request adds `timestamp` itself).
//   2. Sort by key; for each: s += "&" + key + "=" + value with every "&" and "=" in the VALUE
//      replaced by "_" (keys untouched, values raw, not URL-encoded). Note the leading "&".
//   3. signature_method md5hash (the dashboard default): sig = hex(MD5(s + signature_secret)).
//      md5 / sha1 / sha256 / sha512 (HMAC): sig = hex(HMAC-<alg>(key = signature_secret, s)).
//   4. Case: Vonage sends md5hash in lowercase hex and the HMAC variants in UPPERCASE hex; every
//      SDK compares case-insensitively. (`signatureCase` can force one case to test a receiver.)
//   The values on the wire stay unchanged; the "_" replacement is only for the signed string.
//
// Sources:
//  * developer.vonage.com "Signing messages" (Nexmo/station _documentation/en/concepts/guides/
//    signing-messages.md, "Manually generate a signature": timestamp, sort, &/= → _, leading &,
//    md5 of string + secret vs HMAC keyed with the secret; remove `sig` and use the request's
//    `timestamp` when validating).
//  * nexmo-node 2.x lib/HashGenerator.js `generate()` and Vonage/vonage-node-sdk packages/sms/lib/
//    sms.ts `verifySignature()` (same string; `digest('hex')`; compares `toUpperCase()` of both).
//  * Vonage/vonage-php-sdk-core src/Client/Signature.php: md5hash → `md5()` (lowercase), HMAC →
//    `strtoupper(hash_hmac())`; `check()` compares lowercased. Vonage's .NET SmsSignatureGenerator
//    docs say the same ("md5hash returns lowercase …; the HMAC variants return the uppercase HMAC").
//    Nexmo/api-specification definitions/sms.yml shows a DLR `sig` example in uppercase hex
//    (1A20E4E2…336E1C) and `timestamp`/`nonce` "only included if you have signatures enabled".
//  * Known vectors (vonage-php-sdk-core test/Client/SignatureTest.php, vonage-python-sdk tests),
//    checked in fake-http-sms.test.ts.
//  (@vonage/auth's `createSignatureHash`, for *outgoing* requests, replaces & and = across the whole
//  URLSearchParams string instead; it disagrees with the documentation and is not followed here.)
//
// DLR transport: an account setting (Dashboard → API settings → SMS API → webhook format: GET = query
// parameters, POST = form body, POST-JSON = JSON body, "recommended"; developer.vonage.com/en/dashboard/
// control/api-settings). The docs name no default; GET was the historic default of the Nexmo era, and
// the OpenAPI spec declares both callbacks as POST application/json. This fake defaults to 'post-json'
// (option `transport` to change the account setting, per call `transport` to override).
//
// Send API: answers 200 with {"message-count", "messages": [...]} whatever the outcome; a failure
// is one entry with a non-zero `status` and `error-text` (sms.yml x-errors: 1 throttled, 2 missing
// params, 3 invalid params, 4 invalid credentials, 14 invalid signature, 23 invalid callback,
// 32 signature and api_secret both sent…). Message ids are 16 uppercase hex characters like
// Vonage's ("0B00000127FDBC63", developer.vonage.com delivery-receipts guide).
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type HttpPeer, listenHttpPeer, readBody } from './http-peer.js';

export type VonageSignatureMethod = 'md5hash' | 'md5' | 'sha1' | 'sha256' | 'sha512';
export type VonageTransport = 'get' | 'post-form' | 'post-json';
export type VonageSignatureMode = 'valid' | 'forged' | 'missing';
export type VonageDlrStatus = 'delivered' | 'expired' | 'failed' | 'rejected' | 'accepted' | 'buffered' | 'unknown';

export interface VonageSmsSend {
  to: string;
  from: string;
  text?: string;
  type: string;
  callback?: string;
  clientRef?: string;
  statusReportReq: boolean;
  /** One per part, in order. */
  messageIds: string[];
  /** The text of each part (for type text / unicode), in order. */
  parts: string[];
  /** Every parameter as received (query and body merged), for anything not modelled above. */
  params: Record<string, string>;
  at: number;
}

/** Every webhook the fake sent, with what the receiver answered. */
export interface VonageCallback {
  kind: 'receipt' | 'inbound';
  url: string;
  transport: VonageTransport;
  params: Record<string, string>;
  httpStatus: number;
  responseBody: string;
}

export interface FakeVonageSmsOptions {
  apiKey: string;
  apiSecret: string;
  /** When set, webhooks are signed (timestamp, nonce, sig) and signed send requests are accepted. */
  signatureSecret?: string;
  signatureMethod?: VonageSignatureMethod;
  /** Hex case of `sig`: 'vonage' (md5hash lower, HMAC upper; the default), or forced 'lower' / 'upper'. */
  signatureCase?: 'vonage' | 'lower' | 'upper';
  /** The account's webhook format (default 'post-json', see the header comment). */
  transport?: VonageTransport;
  now?: () => number;
  /** Units per part of a multipart message; default 153 septets (text) / 67 UCS-2 units (unicode). */
  partLength?: number;
  /** network-code in DLRs and `network` in send answers (MCCMNC). */
  network?: string;
  /** Price per part. */
  price?: string;
}

// How long a webhook call may take before the fake gives up (a local receiver answers at once).
const webhookTimeoutMs = 15_000;

const errorTexts: Record<number, string> = {
  1: 'Throughput Rate Exceeded - please wait [ 1000 ] and retry',
  2: 'Missing Parameters',
  3: 'Invalid Parameters',
  4: 'Bad Credentials',
  5: 'Internal Error',
  6: 'Invalid Message',
  7: 'Number Barred',
  8: 'Partner Account Barred',
  9: 'Partner Quota Violation',
  10: 'Too Many Existing Binds',
  11: 'Account Not Enabled For HTTP',
  12: 'Message Too Long',
  14: 'Invalid Signature',
  15: 'Invalid Sender Address',
  22: 'Invalid Network Code',
  23: 'Invalid Callback Url',
  29: 'Non-Whitelisted Destination',
  32: 'Signature And API Secret Disallowed',
  33: 'Number De-activated',
};

/** The string Vonage signs: "&k1=v1&k2=v2…", keys sorted, `sig` left out, & and = in values → _. */
export function vonageSignedString(params: Record<string, string>): string {
  let signed = '';
  for (const key of Object.keys(params).sort()) {
    if (key === 'sig') continue;
    signed += `&${key}=${(params[key] ?? '').replace(/[&=]/g, '_')}`;
  }
  return signed;
}

/** Vonage's `sig` for these parameters (md5hash lowercase, HMAC uppercase; see the header comment). */
export function vonageSignature(params: Record<string, string>, secret: string, method: VonageSignatureMethod = 'md5hash'): string {
  const signed = vonageSignedString(params);
  if (method === 'md5hash') return createHash('md5').update(signed + secret, 'utf8').digest('hex');
  return createHmac(method, secret).update(signed, 'utf8').digest('hex').toUpperCase();
}

// GSM 03.38 default alphabet and the extension table (extension characters take two septets).
const gsmBasic = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const gsmExtension = new Set('\f^{}\\[~]|€');

function isGsm(text: string): boolean {
  for (const char of text) if (!gsmBasic.has(char) && !gsmExtension.has(char)) return false;
  return true;
}

/**
 * Splits like an SMSC: type text counts GSM-7 septets (extension characters 2, never split across
 * parts; characters outside GSM count 1, as Vonage would substitute them), single part ≤ 160;
 * type unicode counts UTF-16 code units (surrogate pairs never split), single part ≤ 70.
 */
export function splitSms(text: string, type: 'text' | 'unicode', partLength?: number): string[] {
  const chars = [...text];
  const units = (char: string) => (type === 'unicode' ? char.length : gsmExtension.has(char) ? 2 : 1);
  const total = chars.reduce((sum, char) => sum + units(char), 0);
  if (total <= (type === 'unicode' ? 70 : 160)) return [text];
  const perPart = partLength ?? (type === 'unicode' ? 67 : 153);
  const parts: string[] = [];
  let current = '';
  let used = 0;
  for (const char of chars) {
    const size = units(char);
    if (used + size > perPart && current !== '') {
      parts.push(current);
      current = '';
      used = 0;
    }
    current += char;
    used += size;
  }
  if (current !== '') parts.push(current);
  return parts;
}

/** "YYYY-MM-DD HH:MM:SS" in UTC (message-timestamp). */
function messageTimestamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** YYMMDDHHMM in UTC (scts). */
function scts(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}`;
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

class SendFailure extends Error {
  constructor(
    readonly status: number,
    readonly errorText: string = errorTexts[status] ?? 'Error',
  ) {
    super(errorText);
  }
}

export class FakeVonageSms {
  readonly sends: VonageSmsSend[] = [];
  readonly callbacks: VonageCallback[] = [];
  /** The account-level DLR webhook, used when a send had no `callback` and receipt() gets no `url`. */
  receiptUrl: string | undefined;

  private readonly planned: number[] = [];
  private readonly byMessageId = new Map<string, { send: VonageSmsSend; part: number }>();
  private readonly now: () => number;
  private requestCount = 0;
  private nextId = 0x0127fdbc00;
  private balance = 10;

  private constructor(
    private readonly peer: HttpPeer,
    private readonly options: FakeVonageSmsOptions,
    readonly baseUrl: string,
  ) {
    this.now = options.now ?? Date.now;
  }

  static async start(options: FakeVonageSmsOptions): Promise<FakeVonageSms> {
    let fake: FakeVonageSms | undefined;
    // Requests cannot arrive before listen resolved, so `fake` is always set in the handler.
    const peer = await listenHttpPeer((request, response) => fake!.handle(request, response));
    fake = new FakeVonageSms(peer, options, peer.baseUrl);
    return fake;
  }

  /** Every request to /sms/json (accepted, refused or failed on purpose). */
  get requests(): number {
    return this.requestCount;
  }

  /** The next `times` requests to /sms/json answer this send status (200, one entry), before any other check. */
  failNext(status: number, times = 1): void {
    for (let i = 0; i < times; i++) this.planned.push(status);
  }

  /**
   * One DLR for one part, as Vonage sends it: msisdn (the recipient), to (our sender), network-code,
   * messageId, price, status, scts, err-code (default "0" for delivered/accepted/buffered, "1" =
   * unknown otherwise), api-key, client-ref when the send had one, message-timestamp; and timestamp,
   * nonce, sig when a signature secret is set. Goes to options.url, else the send's `callback`, else
   * `receiptUrl`. Resolves with the receiver's HTTP status.
   */
  async receipt(
    messageId: string,
    status: VonageDlrStatus,
    options: { errCode?: string; transport?: VonageTransport; url?: string; signature?: VonageSignatureMode } = {},
  ): Promise<number> {
    const found = this.byMessageId.get(messageId);
    if (!found) throw new Error(`FakeVonageSms: no part with message id ${messageId}`);
    const { send } = found;
    const url = options.url ?? send.callback ?? this.receiptUrl;
    if (url === undefined) throw new Error('FakeVonageSms: no callback on the send; set receiptUrl or pass options.url');
    const at = this.now();
    const params: Record<string, string> = {
      msisdn: send.to,
      to: send.from,
      'network-code': this.options.network ?? '23410',
      messageId,
      price: this.options.price ?? '0.03330000',
      status,
      scts: scts(at),
      'err-code': options.errCode ?? (status === 'delivered' || status === 'accepted' || status === 'buffered' ? '0' : '1'),
      'api-key': this.options.apiKey,
    };
    if (send.clientRef !== undefined) params['client-ref'] = send.clientRef;
    params['message-timestamp'] = messageTimestamp(at);
    return this.deliver('receipt', url, params, options.transport, options.signature);
  }

  /**
   * An inbound SMS as Vonage sends it: msisdn (the sender), to (our number), messageId, text, type
   * (unicode when the text is not GSM), keyword (first word, upper case), message-timestamp, api-key,
   * concat / concat-ref / concat-total / concat-part for a part of a multipart message; signed like
   * receipts. Resolves with the receiver's HTTP status.
   */
  async inbound(
    url: string,
    message: { msisdn: string; to: string; text: string; messageId?: string; concat?: { ref: string; total: number; part: number } },
    options: { transport?: VonageTransport; signature?: VonageSignatureMode } = {},
  ): Promise<number> {
    const at = this.now();
    const params: Record<string, string> = {
      msisdn: message.msisdn,
      to: message.to,
      messageId: message.messageId ?? this.newMessageId(),
      text: message.text,
      type: isGsm(message.text) ? 'text' : 'unicode',
      keyword: (message.text.trim().split(/\s+/)[0] ?? '').toUpperCase(),
      'api-key': this.options.apiKey,
      'message-timestamp': messageTimestamp(at),
    };
    if (message.concat) {
      params.concat = 'true';
      params['concat-ref'] = message.concat.ref;
      params['concat-total'] = String(message.concat.total);
      params['concat-part'] = String(message.concat.part);
    }
    return this.deliver('inbound', url, params, options.transport, options.signature);
  }

  close(): Promise<void> {
    return this.peer.close();
  }

  private sign(params: Record<string, string>, secret: string): string {
    const method = this.options.signatureMethod ?? 'md5hash';
    const sig = vonageSignature(params, secret, method);
    if (this.options.signatureCase === 'lower') return sig.toLowerCase();
    if (this.options.signatureCase === 'upper') return sig.toUpperCase();
    return sig;
  }

  private async deliver(
    kind: VonageCallback['kind'],
    url: string,
    fields: Record<string, string>,
    transportOption: VonageTransport | undefined,
    signature: VonageSignatureMode = 'valid',
  ): Promise<number> {
    const params = { ...fields };
    const secret = this.options.signatureSecret;
    // 'missing' = an unsigned webhook: no timestamp, nonce or sig at all.
    if (signature !== 'missing' && (secret !== undefined || signature === 'forged')) {
      params.timestamp = String(Math.floor(this.now() / 1000));
      params.nonce = randomUUID();
      params.sig = this.sign(params, signature === 'valid' && secret !== undefined ? secret : `${secret ?? ''}-forged`);
    }
    const transport = transportOption ?? this.options.transport ?? 'post-json';
    let target = url;
    const init: RequestInit = { redirect: 'manual', signal: AbortSignal.timeout(webhookTimeoutMs), headers: { 'user-agent': 'Vonage-SMS-Webhook' } };
    if (transport === 'get') {
      const withQuery = new URL(url);
      for (const [key, value] of Object.entries(params)) withQuery.searchParams.append(key, value);
      target = withQuery.toString();
      init.method = 'GET';
    } else if (transport === 'post-form') {
      init.method = 'POST';
      init.headers = { ...(init.headers as Record<string, string>), 'content-type': 'application/x-www-form-urlencoded' };
      init.body = new URLSearchParams(params).toString();
    } else {
      init.method = 'POST';
      init.headers = { ...(init.headers as Record<string, string>), 'content-type': 'application/json' };
      init.body = JSON.stringify(params);
    }
    const response = await fetch(target, init);
    const responseBody = await response.text();
    this.callbacks.push({ kind, url: target, transport, params, httpStatus: response.status, responseBody });
    return response.status;
  }

  private newMessageId(): string {
    // Like Vonage's "0B00000127FDBC63": 16 uppercase hex characters, increasing.
    return `0B${(this.nextId++).toString(16).toUpperCase().padStart(14, '0')}`;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.baseUrl);
    const raw = await readBody(request);
    if (url.pathname !== '/sms/json' || (request.method !== 'POST' && request.method !== 'GET')) {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ 'error-code': '404', 'error-code-label': 'Not Found' }));
      return;
    }
    this.requestCount++;
    try {
      const planned = this.planned.shift();
      if (planned !== undefined) throw new SendFailure(planned);
      const params = this.parameters(request, url, raw);
      const send = this.acceptSend(request, params);
      this.sends.push(send);
      const messages = send.messageIds.map((messageId) => {
        this.balance -= Number(this.options.price ?? '0.03330000');
        const entry: Record<string, string> = {
          to: send.to,
          'message-id': messageId,
          status: '0',
          'remaining-balance': this.balance.toFixed(8),
          'message-price': this.options.price ?? '0.03330000',
          network: this.options.network ?? '23410',
        };
        if (send.clientRef !== undefined) entry['client-ref'] = send.clientRef;
        return entry;
      });
      this.answerJson(response, { 'message-count': String(messages.length), messages });
    } catch (error) {
      if (!(error instanceof SendFailure)) throw error;
      this.answerJson(response, { 'message-count': '1', messages: [{ status: String(error.status), 'error-text': error.errorText }] });
    }
  }

  /** Query string and body merged (the nexmo 2.x SDK puts everything in the query of a POST). */
  private parameters(request: IncomingMessage, url: URL, raw: Buffer): Record<string, string> {
    const params: Record<string, string> = {};
    for (const [key, value] of url.searchParams) params[key] = value;
    if (raw.length === 0) return params;
    const text = raw.toString('utf8');
    if (/json/i.test(request.headers['content-type'] ?? '')) {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new SendFailure(3, 'Invalid JSON body');
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new SendFailure(3, 'Invalid JSON body');
      for (const [key, value] of Object.entries(body)) {
        if (value !== null && value !== undefined) params[key] = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
      }
    } else {
      for (const [key, value] of new URLSearchParams(text)) params[key] = value;
    }
    return params;
  }

  /** Credentials, then parameters, in the order of sms.yml's error list; throws SendFailure. */
  private acceptSend(request: IncomingMessage, params: Record<string, string>): VonageSmsSend {
    let apiKey = params.api_key;
    let apiSecret = params.api_secret;
    const basic = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (basic !== undefined && apiKey === undefined) {
      const decoded = Buffer.from(basic, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon >= 0) {
        apiKey = decoded.slice(0, colon);
        apiSecret = decoded.slice(colon + 1);
      }
    }
    if (apiKey === undefined || apiKey === '') throw new SendFailure(2, 'Missing api_key');
    const sig = params.sig;
    if (sig !== undefined && apiSecret !== undefined) throw new SendFailure(32);
    if (sig !== undefined) {
      const secret = this.options.signatureSecret;
      if (secret === undefined || apiKey !== this.options.apiKey) throw new SendFailure(14);
      const expected = vonageSignature(params, secret, this.options.signatureMethod ?? 'md5hash');
      if (params.timestamp === undefined || !safeEqual(sig.toLowerCase(), expected.toLowerCase())) throw new SendFailure(14);
    } else {
      if (apiSecret === undefined || apiSecret === '') throw new SendFailure(2, 'Missing api_secret');
      if (!safeEqual(apiKey, this.options.apiKey) || !safeEqual(apiSecret, this.options.apiSecret)) throw new SendFailure(4);
    }

    const from = params.from;
    const to = params.to;
    const type = params.type ?? 'text';
    if (from === undefined || from === '') throw new SendFailure(2, 'Missing from param');
    if (to === undefined || to === '') throw new SendFailure(2, 'Missing to param');
    // E.164 digits, 7–15 (sms.yml pattern); a leading + is tolerated.
    if (!/^\+?\d{7,15}$/.test(to)) throw new SendFailure(3, 'Invalid to param');
    const text = params.text;
    let parts: string[];
    if (type === 'text' || type === 'unicode') {
      if (text === undefined || text === '') throw new SendFailure(2, 'Missing text param');
      parts = splitSms(text, type, this.options.partLength);
    } else if (type === 'binary') {
      if (params.body === undefined || params.udh === undefined) throw new SendFailure(2, 'Missing body or udh param');
      parts = [];
    } else if (['wappush', 'vcal', 'vcard'].includes(type)) {
      parts = [];
    } else {
      throw new SendFailure(3, 'Invalid type param');
    }
    const callback = params.callback;
    if (callback !== undefined) {
      let valid = false;
      try {
        valid = ['http:', 'https:'].includes(new URL(callback).protocol);
      } catch {
        valid = false;
      }
      if (!valid) throw new SendFailure(23);
    }
    const report = params['status-report-req'];

    const send: VonageSmsSend = {
      to,
      from,
      type,
      statusReportReq: !(report === 'false' || report === '0'),
      messageIds: [],
      parts,
      params: { ...params },
      at: this.now(),
    };
    if (text !== undefined) send.text = text;
    if (callback !== undefined) send.callback = callback;
    if (params['client-ref'] !== undefined) send.clientRef = params['client-ref'];
    const count = Math.max(parts.length, 1);
    for (let part = 0; part < count; part++) {
      const messageId = this.newMessageId();
      send.messageIds.push(messageId);
      this.byMessageId.set(messageId, { send, part });
    }
    return send;
  }

  private answerJson(response: ServerResponse, body: unknown): void {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }
}
