import type { Clock } from '../../core/clock.js';
import type { MessageContent } from '../../core/message.js';
import type { ChannelAdapter, ProviderEvent, ProviderWebhookAnswer, ProviderWebhookRequest, SendRequest, SendResult } from '../channel-adapter.js';
import { parseJsonObject, retryAfterMs } from '../http/provider-http.js';
import { HttpProviderAdapter, unreachable } from '../http/http-adapter.js';
import { hasValidTwilioSignature } from './twilio-signature.js';
import { classifyTwilioError, twilioReport } from './twilio-statuses.js';

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  /** Sends from the service's pool instead of the message's `from`. */
  messagingServiceSid?: string;
  baseUrl: string;
  /** `{public_url}/webhooks/{name}`: each message's StatusCallback, and the URL Twilio signs. */
  callbackUrl: string;
}

/** Twilio answers an incoming-message webhook with TwiML; an empty Response sends no reply. */
const NO_REPLY: ProviderWebhookAnswer = { status: 200, body: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>', contentType: 'text/xml', events: [] };

/**
 * SMS and MMS through Twilio Programmable Messaging (channels reference §5.2, §6): the Messages resource,
 * form-encoded with HTTP Basic, a StatusCallback per message pointing at our webhook route, whose
 * callbacks (and incoming messages) carry `X-Twilio-Signature`.
 */
export class TwilioAdapter extends HttpProviderAdapter implements ChannelAdapter {
  readonly type = 'twilio';

  constructor(
    readonly provider: string,
    private readonly settings: TwilioSettings,
    private readonly clock: Clock,
    timeoutMs: number,
  ) {
    super(timeoutMs);
  }

  async send(request: SendRequest): Promise<SendResult> {
    const parts = messageParts(request);
    if (!parts) return { ok: false, failure: { retryable: false, error: { code: 1020, reason: `Invalid params: Twilio sends text as SMS and an image as MMS, not ${request.message.content.type}` } } };
    const form = new URLSearchParams({ To: e164(request.to.number ?? ''), StatusCallback: this.settings.callbackUrl });
    if (parts.body !== undefined) form.set('Body', parts.body);
    // An MMS: Twilio fetches the medium from its public URL and hands it to the carrier (reference §6).
    if (parts.mediaUrl !== undefined) form.set('MediaUrl', parts.mediaUrl);
    if (this.settings.messagingServiceSid) form.set('MessagingServiceSid', this.settings.messagingServiceSid);
    else form.set('From', sender(request.from.number ?? ''));
    const { accountSid, authToken, baseUrl } = this.settings;
    const answer = await this.http.call({
      method: 'POST',
      url: `${baseUrl}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`,
      headers: { authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    if (!answer.ok) return unreachable('Twilio', answer.reason);
    const body = parseJsonObject(answer.body);
    if (answer.status === 201 || answer.status === 200) {
      const sid = typeof body?.sid === 'string' ? body.sid : undefined;
      if (sid) return { ok: true, providerRef: sid };
      return { ok: false, failure: { retryable: true, error: { code: 1331, reason: 'Provider error: Twilio answered without a message sid' } } };
    }
    const code = typeof body?.code === 'number' ? body.code : undefined;
    return { ok: false, failure: classifyTwilioError(answer.status, code, retryAfterMs(answer.headers, this.clock.wallNow())) };
  }

  async webhook(request: ProviderWebhookRequest): Promise<ProviderWebhookAnswer> {
    if (request.method !== 'POST') return { status: 405, events: [] };
    const params = new URLSearchParams(request.rawBody.toString('utf8'));
    const signedUrl = `${this.settings.callbackUrl}${request.search}`;
    if (!hasValidTwilioSignature(this.settings.authToken, signedUrl, params, request.headers['x-twilio-signature'])) {
      return { status: 401, body: 'invalid signature', contentType: 'text/plain; charset=utf-8', events: [] };
    }
    const at = this.clock.now();
    const status = params.get('MessageStatus') ?? params.get('SmsStatus');
    const sid = params.get('MessageSid') ?? params.get('SmsSid');
    if (status !== null && status !== 'received' && sid) {
      const errorCode = Number(params.get('ErrorCode') ?? Number.NaN);
      const report = twilioReport(status, Number.isInteger(errorCode) ? errorCode : undefined, at);
      return { status: 200, events: report ? [{ type: 'receipt', providerRef: sid, report }] : [] };
    }
    return { ...NO_REPLY, events: inboundOf(params, at) };
  }
}

/** What a message becomes on the Messages resource: an SMS's Body, an MMS's MediaUrl and caption. */
function messageParts(request: SendRequest): { body?: string; mediaUrl?: string } | undefined {
  const { content } = request.message;
  if (content.type === 'text' && content.text !== undefined) return { body: content.text };
  if (request.channel === 'mms' && content.type === 'image' && content.image) return { mediaUrl: content.image.url, ...(content.image.caption !== undefined && { body: content.image.caption }) };
  return undefined;
}

/** An incoming SMS, or an MMS (NumMedia > 0: its first medium, the Body as caption). */
function inboundOf(params: URLSearchParams, at: number): ProviderEvent[] {
  const from = params.get('From');
  const to = params.get('To');
  const body = params.get('Body');
  const mediaUrl = Number(params.get('NumMedia') ?? 0) > 0 ? params.get('MediaUrl0') : null;
  if (!from || !to || (body === null && mediaUrl === null)) return [];
  const channel = mediaUrl === null ? 'sms' : 'mms';
  const content: MessageContent = mediaUrl === null ? { type: 'text', text: body ?? '' } : { type: 'image', image: { url: mediaUrl, ...(body && { caption: body }) } };
  return [{ type: 'inbound', inbound: { channel, to: { type: channel, number: digits(to) }, from: { type: channel, number: digits(from) }, message: { content }, at } }];
}

/** Twilio wants E.164 with its "+"; our numbers are digits. */
const e164 = (number: string) => (number.startsWith('+') ? number : `+${number}`);
/** An alphanumeric sender goes as it is; a number as E.164. */
const sender = (from: string) => (/^\+?\d+$/.test(from) ? e164(from) : from);
const digits = (number: string) => number.replace(/^\+/, '');
