import type { ChannelAdapter, ProviderWebhookAnswer, ProviderWebhookRequest, SendRequest, SendResult } from '../channel-adapter.js';
import { parseJsonObject } from '../http/provider-http.js';
import { HttpProviderAdapter, unreachable } from '../http/http-adapter.js';
import { answerVerification, hasValidSignature, UNSIGNED } from '../meta/meta-webhook.js';
import { classifyGraphError, graphErrorOf } from './graph-errors.js';
import { graphSendBody } from './graph-send-body.js';
import { messengerEvents } from './messenger-events.js';

export interface MessengerSettings {
  appSecret: string;
  verifyToken: string;
  /** Page id → that page's access token. */
  pages: Readonly<Record<string, { accessToken: string }>>;
  baseUrl: string;
  apiVersion: string;
}

/**
 * Facebook Messenger through the Graph API Send API (channels reference §1). A message's `from.id`
 * is the page that sends it, with that page's token; its `to.id` is the user's page-scoped id.
 * The Send API answers with the `mid`, which delivery receipts may name; read receipts name only a
 * watermark, so they are reported per thread and the intake finds the messages they cover.
 */
export class MessengerAdapter extends HttpProviderAdapter implements ChannelAdapter {
  readonly type = 'messenger';
  private readonly pageIds: ReadonlySet<string>;

  constructor(
    readonly provider: string,
    private readonly settings: MessengerSettings,
    timeoutMs: number,
  ) {
    super(timeoutMs);
    this.pageIds = new Set(Object.keys(settings.pages));
  }

  async send(request: SendRequest): Promise<SendResult> {
    const pageId = request.from.id ?? '';
    const page = this.settings.pages[pageId];
    if (!page) {
      return { ok: false, failure: { retryable: false, aboutProvider: true, error: { code: 1120, reason: 'Illegal sender address: no access token is configured for this page' } } };
    }
    const answer = await this.http.call({
      method: 'POST',
      url: `${this.settings.baseUrl}/${this.settings.apiVersion}/${encodeURIComponent(pageId)}/messages`,
      // The token goes in the body, not the query string, which proxies and access logs keep.
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...graphSendBody(request.to.id ?? '', request.message), access_token: page.accessToken }),
    });
    if (!answer.ok) return unreachable('the Graph API', answer.reason);
    if (answer.status === 200) {
      const mid = midOf(answer.body);
      if (mid !== undefined) return { ok: true, providerRef: mid };
      return { ok: false, failure: { retryable: true, error: { code: 1331, reason: 'Provider error: the Graph API answered 200 without a message_id' } } };
    }
    const failure = classifyGraphError(answer.status, graphErrorOf(answer.body), request.attempt);
    return { ok: false, failure };
  }

  async webhook(request: ProviderWebhookRequest): Promise<ProviderWebhookAnswer> {
    if (request.method === 'GET') return answerVerification(request, this.settings.verifyToken);
    if (!hasValidSignature(request, this.settings.appSecret)) return UNSIGNED;
    let notification: unknown;
    try {
      notification = JSON.parse(request.rawBody.toString('utf8'));
    } catch {
      return { status: 400, body: 'not JSON', contentType: 'text/plain; charset=utf-8', events: [] };
    }
    return { status: 200, body: 'EVENT_RECEIVED', contentType: 'text/plain; charset=utf-8', events: messengerEvents(notification, this.pageIds) };
  }
}

function midOf(body: string): string | undefined {
  const mid = parseJsonObject(body)?.message_id;
  return typeof mid === 'string' && mid !== '' ? mid : undefined;
}
