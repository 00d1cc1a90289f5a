import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';
import { wholeMessageRef } from '../../core/message-parts.js';
import type { ChannelAdapter, ProviderEvent, ProviderWebhookAnswer, ProviderWebhookRequest, SendRequest, SendResult } from '../channel-adapter.js';
import { parseJsonObject } from '../http/provider-http.js';
import { HttpProviderAdapter, unreachable } from '../http/http-adapter.js';
import { encodingOf } from '../smpp/sms-encoding.js';
import { hasValidVonageSignature, type SignatureMethod } from './vonage-signature.js';
import { classifySendStatus, receiptReport } from './vonage-sms-statuses.js';

export interface VonageSmsSettings {
  apiKey: string;
  apiSecret: string;
  /** With it, a callback without a valid `sig` is refused (401); without it, one whose `api-key` is not ours. */
  signatureSecret?: string;
  signatureMethod: SignatureMethod;
  baseUrl: string;
  /** `{public_url}/webhooks/{name}`: each message's `callback`. */
  callbackUrl: string;
}

/** Vonage echoes client-ref in its receipts, up to this length (reference §5.1). */
const MAX_CLIENT_REF = 40;

/**
 * SMS through the Vonage (Nexmo) SMS API (channels reference §5.1): `POST /sms/json`, one
 * message id per part in the answer (a long text is one message whose parts report one by one,
 * core/message-parts.ts), delivery receipts and inbound SMS at our webhook route as GET query,
 * POST form or POST JSON, whichever the account is set to.
 */
export class VonageSmsAdapter extends HttpProviderAdapter implements ChannelAdapter {
  readonly type = 'vonage-sms';

  constructor(
    readonly provider: string,
    private readonly settings: VonageSmsSettings,
    private readonly clock: Clock,
    private readonly log: Logger,
    timeoutMs: number,
  ) {
    super(timeoutMs);
  }

  override async start(): Promise<void> {
    if (this.settings.signatureSecret === undefined) {
      this.log.warn({ provider: this.provider }, 'no signature_secret: callbacks are checked only for the account api-key, which anyone who knows it can send; set signature_secret (and enable signed webhooks in the Vonage dashboard) in production');
    }
  }

  async send(request: SendRequest): Promise<SendResult> {
    const { content } = request.message;
    if (content.type !== 'text' || content.text === undefined) return { ok: false, failure: { retryable: false, error: { code: 1020, reason: 'Invalid params: SMS carries text only' } } };
    const form = new URLSearchParams({
      api_key: this.settings.apiKey,
      api_secret: this.settings.apiSecret,
      from: (request.from.number ?? '').replace(/^\+/, ''),
      to: (request.to.number ?? '').replace(/^\+/, ''),
      text: content.text,
      type: encodingOf(content.text) === 'gsm7' ? 'text' : 'unicode',
      'status-report-req': '1',
      callback: this.settings.callbackUrl,
    });
    if (request.clientRef) form.set('client-ref', request.clientRef.slice(0, MAX_CLIENT_REF));
    const answer = await this.http.call({ method: 'POST', url: `${this.settings.baseUrl}/sms/json`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    if (!answer.ok) return unreachable('Vonage', answer.reason);
    if (answer.status >= 500 || answer.status === 429) return { ok: false, failure: { retryable: true, error: { code: 1331, reason: `Provider error: Vonage answered ${answer.status}` } } };
    const messages = parseJsonObject(answer.body)?.messages;
    if (answer.status !== 200 || !Array.isArray(messages) || messages.length === 0) {
      return { ok: false, failure: { retryable: false, error: { code: 1331, reason: `Provider error: Vonage answered ${answer.status} without messages` } } };
    }
    const ids: string[] = [];
    for (const entry of messages as Array<Record<string, unknown>>) {
      const status = String(entry.status ?? '');
      // Parts sent before a refused one are out there; a retry sends the whole text again (at-least-once).
      if (status !== '0') return { ok: false, failure: classifySendStatus(status) };
      if (typeof entry['message-id'] !== 'string') return { ok: false, failure: { retryable: true, error: { code: 1331, reason: 'Provider error: Vonage accepted a part without a message-id' } } };
      ids.push(entry['message-id']);
    }
    return ids.length === 1 ? { ok: true, providerRef: ids[0]! } : { ok: true, providerRef: wholeMessageRef(ids), partRefs: ids };
  }

  async webhook(request: ProviderWebhookRequest): Promise<ProviderWebhookAnswer> {
    const params = callbackParams(request);
    if (!params) return { status: 400, body: 'unreadable callback', contentType: 'text/plain; charset=utf-8', events: [] };
    const { signatureSecret, signatureMethod, apiKey } = this.settings;
    // Signed: the signature decides. Unsigned (no secret configured): at least the account's key must be the one Vonage sends.
    const trusted = signatureSecret !== undefined ? hasValidVonageSignature(signatureMethod, signatureSecret, params) : params.get('api-key') === apiKey;
    if (!trusted) return { status: 401, body: 'invalid signature', contentType: 'text/plain; charset=utf-8', events: [] };
    return { status: 200, events: this.eventsOf(params) };
  }

  private eventsOf(params: ReadonlyMap<string, string>): ProviderEvent[] {
    const at = this.clock.now();
    const messageId = params.get('messageId');
    const status = params.get('status');
    // A delivery receipt names the part it is about and its status.
    if (messageId && status) {
      const report = receiptReport(status, params.get('err-code'), at);
      return report ? [{ type: 'receipt', providerRef: messageId, report }] : [];
    }
    const from = params.get('msisdn');
    const to = params.get('to');
    const text = params.get('text');
    // An inbound SMS. A long one arrives part by part (concat-part of concat-total); each is passed on as it comes.
    if (from && to && text !== undefined) return [{ type: 'inbound', inbound: { channel: 'sms', to: { type: 'sms', number: to }, from: { type: 'sms', number: from }, message: { content: { type: 'text', text } }, at } }];
    return [];
  }
}

/** A callback's parameters: the query of a GET, the form or JSON body of a POST. Values are strings, as signed. */
function callbackParams(request: ProviderWebhookRequest): Map<string, string> | undefined {
  if (request.method === 'GET') return new Map(Object.entries(request.query));
  const body = request.rawBody.toString('utf8');
  if ((request.headers['content-type'] ?? '').includes('application/json')) {
    const parsed = parseJsonObject(body);
    if (!parsed) return undefined;
    return new Map(Object.entries(parsed).flatMap(([name, value]) => (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? [[name, String(value)]] : [])));
  }
  return new Map(new URLSearchParams(body));
}
