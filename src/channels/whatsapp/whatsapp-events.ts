import type { MessageContent } from '../../core/message.js';
import type { ProviderEvent, ProviderReport } from '../channel-adapter.js';
import { arrayOf, isRecord } from '../json-value.js';
import { classifyWhatsAppError } from './whatsapp-errors.js';

/**
 * The Cloud API's webhook notifications (channels reference §2.2, §2.5) as provider events:
 * `statuses` by wamid (a `read` may come without a `delivered`; `failed` carries its errors, and
 * 131047 there is `rejected` 1340 as on the send), `messages` as inbound messages to the
 * business number. Changes for phone numbers this provider does not serve are left out.
 */
export function whatsappEvents(notification: unknown, phoneNumberIds: ReadonlySet<string>, mediaUrl: (mediaId: string) => string): ProviderEvent[] {
  const events: ProviderEvent[] = [];
  if (!isRecord(notification) || notification.object !== 'whatsapp_business_account') return events;
  for (const entry of arrayOf(notification.entry)) {
    if (!isRecord(entry)) continue;
    for (const change of arrayOf(entry.changes)) {
      if (!isRecord(change) || !isRecord(change.value)) continue;
      const { value } = change;
      const metadata = isRecord(value.metadata) ? value.metadata : {};
      if (typeof metadata.phone_number_id !== 'string' || !phoneNumberIds.has(metadata.phone_number_id)) continue;
      for (const status of arrayOf(value.statuses)) events.push(...statusEvents(status));
      const business = typeof metadata.display_phone_number === 'string' ? metadata.display_phone_number.replace(/\D/g, '') : '';
      for (const message of arrayOf(value.messages)) events.push(...inboundEvents(business, message, mediaUrl));
    }
  }
  return events;
}

function statusEvents(status: unknown): ProviderEvent[] {
  if (!isRecord(status) || typeof status.id !== 'string') return [];
  const at = secondsToMs(status.timestamp);
  if (at === undefined) return [];
  const report = reportOf(status, at);
  return report ? [{ type: 'receipt', providerRef: status.id, report }] : [];
}

function reportOf(status: Record<string, unknown>, at: number): ProviderReport | undefined {
  switch (status.status) {
    case 'delivered':
      return { status: 'delivered', at };
    case 'read':
    case 'played':
      return { status: 'read', at };
    case 'failed': {
      const [first] = arrayOf(status.errors);
      const code = isRecord(first) && typeof first.code === 'number' ? first.code : undefined;
      const classified = classifyWhatsAppError(code);
      // A failure reported after the send is never retried by us: retryable codes end it undeliverable.
      return { status: classified.kind === 'rejected' ? 'rejected' : 'undeliverable', at, error: classified.error };
    }
    default:
      // sent (the submission says it), deleted (legacy): nothing new.
      return undefined;
  }
}

function inboundEvents(business: string, message: unknown, mediaUrl: (mediaId: string) => string): ProviderEvent[] {
  if (!isRecord(message) || typeof message.from !== 'string' || business === '') return [];
  const at = secondsToMs(message.timestamp);
  const content = contentOf(message, mediaUrl);
  if (at === undefined || !content) return [];
  return [{ type: 'inbound', inbound: { channel: 'whatsapp', to: { type: 'whatsapp', number: business }, from: { type: 'whatsapp', number: message.from }, message: { content }, at } }];
}

const MEDIA: Record<string, 'image' | 'audio' | 'video' | 'file'> = { image: 'image', audio: 'audio', video: 'video', document: 'file' };

/** A text, or a medium by a URL of the Graph API's media endpoint (fetching it takes the number's token). */
function contentOf(message: Record<string, unknown>, mediaUrl: (mediaId: string) => string): MessageContent | undefined {
  if (message.type === 'text' && isRecord(message.text) && typeof message.text.body === 'string') return { type: 'text', text: message.text.body };
  const kind = typeof message.type === 'string' ? MEDIA[message.type] : undefined;
  const media = kind && isRecord(message[message.type as string]) ? (message[message.type as string] as Record<string, unknown>) : undefined;
  if (!kind || !media || typeof media.id !== 'string') return undefined;
  return { type: kind, [kind]: { url: mediaUrl(media.id), ...(typeof media.caption === 'string' && { caption: media.caption }) } };
}

function secondsToMs(value: unknown): number | undefined {
  const seconds = typeof value === 'string' ? Number(value) : value;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}
