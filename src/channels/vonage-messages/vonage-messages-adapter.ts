import { createHash, timingSafeEqual } from 'node:crypto';
import { jwtVerify } from 'jose';
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';
import type { MessageStatus } from '../../core/message-status.js';
import { mintApplicationJwt } from '../application-jwt.js';
import type { ChannelAdapter, ProviderEvent, ProviderWebhookAnswer, ProviderWebhookRequest, SendFailure, SendRequest, SendResult } from '../channel-adapter.js';
import { parseJsonObject, retryAfterMs } from '../http/provider-http.js';
import { HttpProviderAdapter, unreachable } from '../http/http-adapter.js';
import { isRecord } from '../json-value.js';
import { v01Address, v01Channel, v01Content, v1MessageBody } from './v1-message.js';

export interface VonageMessagesSettings {
  applicationId: string;
  privateKeyPem: string;
  /** Verifies the signed webhooks (HS256, payload_hash); without it they are taken unsigned, with a warning at start. */
  signatureSecret?: string;
  baseUrl: string;
  /** `{public_url}/webhooks/{name}`: each message's webhook_url. */
  callbackUrl: string;
}

const REPORTED = new Set<MessageStatus>(['delivered', 'read', 'rejected', 'undeliverable']);
const UNSIGNED: ProviderWebhookAnswer = { status: 401, body: 'invalid signature', contentType: 'text/plain; charset=utf-8', events: [] };

/**
 * Any channel through a Vonage account's Messages API v1 (reference messages-v1.md): the
 * migration path for Dispatch users, whose workflow runs here while Vonage carries the
 * messages. Sends with a JWT of the Vonage application; its status webhooks (v1, flat) come back
 * signed with the account's signature secret, and are mapped to our message by its
 * `message_uuid`, the reference.
 */
export class VonageMessagesAdapter extends HttpProviderAdapter implements ChannelAdapter {
  readonly type = 'vonage-messages';
  private readonly secret: Uint8Array | undefined;

  constructor(
    readonly provider: string,
    private readonly settings: VonageMessagesSettings,
    private readonly clock: Clock,
    private readonly log: Logger,
    timeoutMs: number,
  ) {
    super(timeoutMs);
    this.secret = settings.signatureSecret === undefined ? undefined : new TextEncoder().encode(settings.signatureSecret);
  }

  override async start(): Promise<void> {
    if (this.secret === undefined) this.log.warn({ provider: this.provider }, 'no signature_secret: webhooks are taken unsigned, so anyone can forge one; set signature_secret in production');
  }

  async send(request: SendRequest): Promise<SendResult> {
    const token = await mintApplicationJwt({ privateKeyPem: this.settings.privateKeyPem, applicationId: this.settings.applicationId, nowMs: this.clock.wallNow() });
    const answer = await this.http.call({
      method: 'POST',
      url: `${this.settings.baseUrl}/v1/messages`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(v1MessageBody(request, this.settings.callbackUrl)),
    });
    if (!answer.ok) return unreachable('Vonage', answer.reason);
    const body = parseJsonObject(answer.body);
    if (answer.status === 202 || answer.status === 200) {
      if (typeof body?.message_uuid === 'string') return { ok: true, providerRef: body.message_uuid };
      return { ok: false, failure: { retryable: true, error: { code: 1331, reason: 'Provider error: Vonage answered without a message_uuid' } } };
    }
    return { ok: false, failure: this.failureOf(answer.status, body, retryAfterMs(answer.headers, this.clock.wallNow())) };
  }

  private failureOf(status: number, body: Record<string, unknown> | undefined, wait: number | undefined): SendFailure {
    const code = codeOf(body);
    if (status === 429) return { retryable: true, error: { code: 1000, reason: 'Throttled: Vonage rate limit hit' }, ...(wait !== undefined && { retryAfterMs: wait }) };
    if (status >= 500) return { retryable: true, error: { code: 1331, reason: `Provider error: Vonage answered ${status}` } };
    if (status === 401 || status === 403) return { retryable: false, aboutProvider: true, error: { code: 1331, reason: 'Provider error: Vonage refused the application credentials' } };
    if (status === 402) return { retryable: false, aboutProvider: true, error: { code: 1070, reason: 'Partner quota exceeded: the Vonage account has no credit' } };
    return { retryable: false, error: { code: code ?? 1020, reason: `Rejected by Vonage (${code ?? status})` } };
  }

  async webhook(request: ProviderWebhookRequest): Promise<ProviderWebhookAnswer> {
    if (request.method !== 'POST') return { status: 405, events: [] };
    if (this.secret !== undefined && !(await this.signed(request))) return UNSIGNED;
    const webhook = parseJsonObject(request.rawBody.toString('utf8'));
    if (!webhook) return { status: 400, body: 'not JSON', contentType: 'text/plain; charset=utf-8', events: [] };
    return { status: 200, events: this.eventsOf(webhook) };
  }

  /** `Authorization: Bearer <HS256 JWT>` by the signature secret, whose payload_hash is the body's. */
  private async signed(request: ProviderWebhookRequest): Promise<boolean> {
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!token) return false;
    try {
      const { payload } = await jwtVerify(token, this.secret!, { algorithms: ['HS256'] });
      const expected = createHash('sha256').update(request.rawBody).digest('hex');
      const given = typeof payload.payload_hash === 'string' ? payload.payload_hash : '';
      return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
    } catch {
      return false;
    }
  }

  private eventsOf(webhook: Record<string, unknown>): ProviderEvent[] {
    const at = typeof webhook.timestamp === 'string' && !Number.isNaN(Date.parse(webhook.timestamp)) ? Date.parse(webhook.timestamp) : this.clock.now();
    if (typeof webhook.status === 'string') {
      const status = webhook.status as MessageStatus;
      if (typeof webhook.message_uuid !== 'string' || !REPORTED.has(status)) return [];
      const code = isRecord(webhook.error) ? Number(webhook.error.title) : Number.NaN;
      const error = Number.isInteger(code) ? { code, reason: `Reported by Vonage (${code})` } : status === 'rejected' || status === 'undeliverable' ? { code: 1330, reason: 'Unknown: Vonage reported no error code' } : undefined;
      return [{ type: 'receipt', providerRef: webhook.message_uuid, report: { status, at, ...(error && { error }) } }];
    }
    const channel = v01Channel(webhook.channel);
    const content = v01Content(webhook);
    if (!channel || !content || typeof webhook.to !== 'string' || typeof webhook.from !== 'string') return [];
    return [{ type: 'inbound', inbound: { channel, to: v01Address(channel, webhook.to, 'business'), from: v01Address(channel, webhook.from, 'user'), message: { content }, at } }];
  }
}

/** The Vonage error code of a problem+json body: its title, or the number after `#` in its type. */
function codeOf(body: Record<string, unknown> | undefined): number | undefined {
  const fromTitle = Number(body?.title);
  if (Number.isInteger(fromTitle) && fromTitle >= 1000 && fromTitle <= 1500) return fromTitle;
  const fromType = typeof body?.type === 'string' ? Number(/#(\d{4})$/.exec(body.type)?.[1]) : Number.NaN;
  return Number.isInteger(fromType) ? fromType : undefined;
}
