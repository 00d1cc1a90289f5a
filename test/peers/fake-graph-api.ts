// A fake Meta Graph API (Messenger Send API + webhook sender) for integration tests.
// Built only from the protocol reference (channels.md §1), never from our adapter, so that a
// misunderstanding of the protocol in the adapter is not copied into the fake.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type HttpPeer, listenHttpPeer, readBody } from './http-peer.js';
import { metaHandshake, postMetaEvent } from './meta-callbacks.js';

export interface GraphSend {
  pageId: string;
  accessToken: string;
  /** As sent; `id` is the PSID (user_ref / phone_number kept when a client uses those). */
  recipient: { id?: string; user_ref?: string; phone_number?: string };
  messagingType: string;
  tag?: string;
  message: Record<string, unknown>;
  mid: string;
  /** now() when the send was accepted: the timestamp Meta would use for watermarks and echoes. */
  at: number;
}

export interface GraphError {
  httpStatus: number;
  code: number;
  subcode?: number;
  message?: string;
  type?: string;
}

/** Every POST to `/messages`, whatever it was answered: lets tests see retries and bad requests. */
export interface GraphRequest {
  pageId: string;
  body: unknown;
  /** HTTP status answered; 0 when the connection was reset on purpose (resetNext). */
  httpStatus: number;
  /** Graph error code when the answer was an error. */
  errorCode?: number;
  at: number;
}

export interface FakeGraphApiOptions {
  appSecret: string;
  /** page id → page access token */
  pages: Record<string, string>;
  now?: () => number;
  /** `app_id` put in message echoes. */
  appId?: number;
}

type Planned = { kind: 'error'; error: GraphError } | { kind: 'reset' };

const messagingTypes = new Set(['RESPONSE', 'UPDATE', 'MESSAGE_TAG']);
// The March-2020 tag set (§1.3); pre-2020 tags such as SHIPPING_UPDATE are refused like Meta does.
const messageTags = new Set(['CONFIRMED_EVENT_UPDATE', 'POST_PURCHASE_UPDATE', 'ACCOUNT_UPDATE', 'HUMAN_AGENT']);
const attachmentTypes = new Set(['image', 'audio', 'video', 'file', 'template']);
const sendPath = /^\/v\d+\.\d+\/([^/]+)\/messages$/;
// Meta times a webhook call out after 20 s (§1.5).

const defaultErrorMessages: Record<number, string> = {
  1: 'An unknown error occurred',
  2: 'An unexpected error has occurred. Please retry your request later.',
  4: 'Application request limit reached',
  10: '(#10) This message is sent outside of allowed window.',
  100: '(#100) Invalid parameter',
  190: 'Invalid OAuth access token.',
  200: '(#200) This person isn\'t receiving messages from you right now.',
  551: '(#551) This person isn\'t available right now.',
  613: '(#613) Calls to this API have exceeded the rate limit.',
  1200: 'Temporary send message failure. Please try again later',
};

class GraphFailure extends Error {
  constructor(readonly graph: GraphError) {
    super(graph.message);
  }
}

function invalidParameter(message: string, subcode?: number): GraphFailure {
  return new GraphFailure({ httpStatus: 400, code: 100, message: `(#100) ${message}`, ...(subcode === undefined ? {} : { subcode }) });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function newMid(): string {
  return `m_${randomBytes(18).toString('base64url')}`;
}

export class FakeGraphApi {
  readonly sends: GraphSend[] = [];
  readonly attempts: GraphRequest[] = [];
  /** Where event notifications go, e.g. `${gatewayUrl}/webhooks/messenger`. */
  webhookUrl: string | undefined;

  private readonly planned: Planned[] = [];
  private readonly now: () => number;
  private readonly appId: number;

  private constructor(
    private readonly peer: HttpPeer,
    private readonly options: FakeGraphApiOptions,
    readonly baseUrl: string,
  ) {
    this.now = options.now ?? Date.now;
    this.appId = options.appId ?? 100000000000001;
  }

  static async start(options: FakeGraphApiOptions): Promise<FakeGraphApi> {
    let fake: FakeGraphApi | undefined;
    // Requests cannot arrive before listen resolved, so `fake` is always set in the handler.
    const peer = await listenHttpPeer((request, response) => fake!.handle(request, response));
    fake = new FakeGraphApi(peer, options, peer.baseUrl);
    return fake;
  }

  /** Every POST to /messages, accepted or not. */
  get requests(): number {
    return this.attempts.length;
  }

  /** The next `times` POSTs to /messages answer this Graph error (checked before anything else). */
  failNext(error: GraphError, times = 1): void {
    for (let i = 0; i < times; i++) this.planned.push({ kind: 'error', error });
  }

  /** The next `times` POSTs to /messages get their connection destroyed (a transient network fault). */
  resetNext(times = 1): void {
    for (let i = 0; i < times; i++) this.planned.push({ kind: 'reset' });
  }

  deliver(pageId: string, psid: string, options: { mids?: string[]; watermark?: number } = {}): Promise<number> {
    const delivery: Record<string, unknown> = { watermark: options.watermark ?? this.now() };
    if (options.mids) delivery.mids = options.mids;
    return this.postEvent(this.envelope(pageId, { sender: { id: psid }, recipient: { id: pageId }, timestamp: this.now(), delivery }));
  }

  read(pageId: string, psid: string, options: { watermark?: number } = {}): Promise<number> {
    const read = { watermark: options.watermark ?? this.now() };
    return this.postEvent(this.envelope(pageId, { sender: { id: psid }, recipient: { id: pageId }, timestamp: this.now(), read }));
  }

  inbound(
    pageId: string,
    psid: string,
    message: { text?: string; attachments?: Array<{ type: string; payload: { url: string } }> },
  ): Promise<number> {
    const body = { mid: newMid(), ...message };
    return this.postEvent(this.envelope(pageId, { sender: { id: psid }, recipient: { id: pageId }, timestamp: this.now(), message: body }));
  }

  /** message_echoes for one of our sends: the page is the sender and the timestamp is Meta's own (send.at). */
  echo(send: GraphSend): Promise<number> {
    const message: Record<string, unknown> = { is_echo: true, app_id: this.appId, mid: send.mid };
    if (typeof send.message.metadata === 'string') message.metadata = send.message.metadata;
    if (typeof send.message.text === 'string') message.text = send.message.text;
    const attachment = send.message.attachment;
    if (isRecord(attachment)) {
      // Echoes carry an `attachments` array even though the send had a single `attachment`.
      const payload = isRecord(attachment.payload) && typeof attachment.payload.url === 'string' ? { url: attachment.payload.url } : attachment.payload;
      message.attachments = [{ type: attachment.type, payload }];
    }
    const psid = send.recipient.id ?? '';
    return this.postEvent(this.envelope(send.pageId, { sender: { id: send.pageId }, recipient: { id: psid }, timestamp: send.at, message }));
  }

  /**
   * Posts a raw event notification. An object is serialised once and signed over those exact bytes;
   * a string or Buffer is sent byte for byte (for raw-body tests such as odd escaping or key order).
   */
  async postEvent(body: unknown, signature: 'valid' | 'forged' | 'missing' = 'valid'): Promise<number> {
    const url = this.webhookUrl;
    if (url === undefined) throw new Error('FakeGraphApi: set webhookUrl before posting events');
    return postMetaEvent(url, body, this.options.appSecret, signature);
  }

  /** Meta's subscription handshake (GET with hub.mode / hub.verify_token / hub.challenge). */
  verify(url: string, token: string, challenge: string): Promise<{ status: number; body: string }> {
    return metaHandshake(url, token, challenge);
  }

  close(): Promise<void> {
    return this.peer.close();
  }

  private envelope(pageId: string, event: Record<string, unknown>): Record<string, unknown> {
    return { object: 'page', entry: [{ id: pageId, time: this.now(), messaging: [event] }] };
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.baseUrl);
    const raw = await readBody(request);
    if (request.method !== 'POST' || !url.pathname.endsWith('/messages')) {
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
    const attempt: GraphRequest = { pageId: sendPath.exec(url.pathname)?.[1] ?? '', body, httpStatus: 0, at };
    this.attempts.push(attempt);

    const planned = this.planned.shift();
    if (planned?.kind === 'reset') {
      request.socket.destroy();
      return;
    }
    try {
      if (planned?.kind === 'error') throw new GraphFailure(planned.error);
      const send = this.acceptSend(url, request, body, at);
      attempt.pageId = send.pageId;
      attempt.httpStatus = 200;
      this.sends.push(send);
      const answer: Record<string, string> = { message_id: send.mid };
      // No recipient_id when addressed by user_ref / phone_number (§1.1).
      if (send.recipient.id !== undefined) answer.recipient_id = send.recipient.id;
      this.answerJson(response, 200, answer);
    } catch (error) {
      if (!(error instanceof GraphFailure)) throw error;
      attempt.httpStatus = error.graph.httpStatus;
      attempt.errorCode = error.graph.code;
      this.answerError(response, error.graph);
    }
  }

  /** Validates a Send API call in Meta's order (token, then parameters); throws GraphFailure. */
  private acceptSend(url: URL, request: IncomingMessage, body: unknown, at: number): GraphSend {
    const match = sendPath.exec(url.pathname);
    if (!match) throw invalidParameter(`Unknown path components: ${url.pathname}`);
    const fields = isRecord(body) ? body : {};

    const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const bodyToken = typeof fields.access_token === 'string' ? fields.access_token : undefined;
    const accessToken = url.searchParams.get('access_token') ?? bodyToken ?? bearer;
    // `me` is the Page the token belongs to (older /me/messages form).
    const pageId = match[1] === 'me' ? Object.keys(this.options.pages).find((id) => this.options.pages[id] === accessToken) : match[1];
    if (accessToken === undefined || pageId === undefined || this.options.pages[pageId] !== accessToken) {
      throw new GraphFailure({ httpStatus: 400, code: 190, message: 'Invalid OAuth access token.' });
    }
    if (!isRecord(body)) throw invalidParameter('The request body must be a JSON object');

    const recipient = fields.recipient;
    if (!isRecord(recipient) || !['id', 'user_ref', 'phone_number'].some((key) => typeof recipient[key] === 'string' && recipient[key] !== '')) {
      throw invalidParameter('param recipient must be non-empty.');
    }
    const messagingType = fields.messaging_type;
    if (typeof messagingType !== 'string' || !messagingTypes.has(messagingType)) {
      throw invalidParameter('param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}');
    }
    const tag = typeof fields.tag === 'string' ? fields.tag : undefined;
    if (messagingType === 'MESSAGE_TAG' && tag === undefined) throw invalidParameter('Tag is required for MESSAGE_TAG messaging type.');
    if (tag !== undefined && !messageTags.has(tag)) throw invalidParameter(`param tag must be one of {${[...messageTags].join(', ')}}`);

    const message = fields.message;
    if (!isRecord(message)) throw invalidParameter('param message must be non-empty.', 2018034);
    const hasText = message.text !== undefined;
    const hasAttachment = message.attachment !== undefined;
    if (hasText === hasAttachment) throw invalidParameter('Message must contain exactly one of text or attachment.', 2018034);
    if (hasText) {
      if (typeof message.text !== 'string' || message.text === '') throw invalidParameter('Message cannot be empty, must provide valid attachment or text', 2018034);
      if (message.text.length > 2000) throw invalidParameter('Length of param message[text] must be less than or equal to 2000');
    } else {
      const attachment = message.attachment;
      if (!isRecord(attachment) || typeof attachment.type !== 'string' || !attachmentTypes.has(attachment.type) || !isRecord(attachment.payload)) {
        throw invalidParameter('param message[attachment] must have a type in {image, audio, video, file, template} and a payload', 2018034);
      }
    }

    const sent: GraphSend = {
      pageId,
      accessToken,
      recipient: { ...(recipient as GraphSend['recipient']) },
      messagingType,
      message,
      mid: newMid(),
      at,
    };
    if (tag !== undefined) sent.tag = tag;
    return sent;
  }

  private answerError(response: ServerResponse, error: GraphError): void {
    const body: Record<string, unknown> = {
      message: error.message ?? defaultErrorMessages[error.code] ?? `(#${error.code}) Error`,
      type: error.type ?? 'OAuthException',
      code: error.code,
      fbtrace_id: randomBytes(8).toString('base64url'),
    };
    if (error.subcode !== undefined) body.error_subcode = error.subcode;
    this.answerJson(response, error.httpStatus, { error: body });
  }

  private answerJson(response: ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' }).end(JSON.stringify(body));
  }
}
