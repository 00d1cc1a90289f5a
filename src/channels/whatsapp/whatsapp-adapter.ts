import type { ChannelAdapter, ProviderWebhookAnswer, ProviderWebhookRequest, SendRequest, SendResult } from '../channel-adapter.js';
import { parseJsonObject } from '../http/provider-http.js';
import { HttpProviderAdapter, unreachable } from '../http/http-adapter.js';
import { graphErrorOf } from '../messenger/graph-errors.js';
import { answerVerification, hasValidSignature, UNSIGNED } from '../meta/meta-webhook.js';
import { sendFailureOf } from './whatsapp-errors.js';
import { whatsappEvents } from './whatsapp-events.js';
import { whatsappSendBody } from './whatsapp-send-body.js';

export interface WhatsAppSettings {
  appSecret: string;
  verifyToken: string;
  /** Business number (digits) → its phone number id and access token. */
  numbers: Readonly<Record<string, { phoneNumberId: string; accessToken: string }>>;
  baseUrl: string;
  apiVersion: string;
}

/**
 * WhatsApp through the Business Cloud API (channels reference §2). A message's `from.number` is
 * the business number that sends it, with that number's token; the answer's `wamid` is the
 * reference its status webhooks name. Callbacks share Meta's handshake and signature with
 * Messenger (meta/meta-webhook.ts).
 */
export class WhatsAppAdapter extends HttpProviderAdapter implements ChannelAdapter {
  readonly type = 'whatsapp';
  private readonly phoneNumberIds: ReadonlySet<string>;

  constructor(
    readonly provider: string,
    private readonly settings: WhatsAppSettings,
    timeoutMs: number,
  ) {
    super(timeoutMs);
    this.phoneNumberIds = new Set(Object.values(settings.numbers).map((number) => number.phoneNumberId));
  }

  async send(request: SendRequest): Promise<SendResult> {
    const number = this.settings.numbers[(request.from.number ?? '').replace(/^\+/, '')];
    if (!number) {
      return { ok: false, failure: { retryable: false, aboutProvider: true, error: { code: 1120, reason: 'Illegal sender address: no phone number id is configured for this business number' } } };
    }
    const answer = await this.http.call({
      method: 'POST',
      url: `${this.settings.baseUrl}/${this.settings.apiVersion}/${encodeURIComponent(number.phoneNumberId)}/messages`,
      headers: { authorization: `Bearer ${number.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(whatsappSendBody((request.to.number ?? '').replace(/^\+/, ''), request.message)),
    });
    if (!answer.ok) return unreachable('the WhatsApp Cloud API', answer.reason);
    if (answer.status === 200) {
      const [first] = (parseJsonObject(answer.body)?.messages as Array<{ id?: unknown }> | undefined) ?? [];
      if (typeof first?.id === 'string' && first.id !== '') return { ok: true, providerRef: first.id };
      return { ok: false, failure: { retryable: true, error: { code: 1331, reason: 'Provider error: the Cloud API answered 200 without a message id' } } };
    }
    return { ok: false, failure: sendFailureOf(answer.status, graphErrorOf(answer.body).code) };
  }

  async webhook(request: ProviderWebhookRequest): Promise<ProviderWebhookAnswer> {
    if (request.method === 'GET') return answerVerification(request, this.settings.verifyToken);
    if (!hasValidSignature(request, this.settings.appSecret)) return UNSIGNED;
    const notification = parseJsonObject(request.rawBody.toString('utf8'));
    if (!notification) return { status: 400, body: 'not JSON', contentType: 'text/plain; charset=utf-8', events: [] };
    const mediaUrl = (mediaId: string) => `${this.settings.baseUrl}/${this.settings.apiVersion}/${encodeURIComponent(mediaId)}`;
    return { status: 200, body: 'EVENT_RECEIVED', contentType: 'text/plain; charset=utf-8', events: whatsappEvents(notification, this.phoneNumberIds, mediaUrl) };
  }
}
