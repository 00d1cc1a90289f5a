import type { MessageContent } from '../../core/message.js';
import type { ProviderEvent } from '../channel-adapter.js';
import { arrayOf, isRecord } from '../json-value.js';

/**
 * Messenger's event notifications (channels reference §1.5, §1.6) as provider events:
 * - `delivery`: the mids it names are delivered, and so is everything sent before its watermark;
 * - `read`: everything sent at or before its watermark is read (there are no per-message ids);
 * - `message` (not an echo): an inbound message to the page.
 * Events of pages this provider does not serve are left out; so is everything else Meta sends
 * (echoes, postbacks, reactions): they report nothing about our messages.
 */
export function messengerEvents(notification: unknown, pages: ReadonlySet<string>): ProviderEvent[] {
  const events: ProviderEvent[] = [];
  if (!isRecord(notification) || notification.object !== 'page' || !Array.isArray(notification.entry)) return events;
  for (const entry of notification.entry) {
    if (!isRecord(entry) || typeof entry.id !== 'string' || !pages.has(entry.id)) continue;
    // Under the handover protocol the page's events come in `standby` instead.
    const messaging = [...arrayOf(entry.messaging), ...arrayOf(entry.standby)];
    for (const item of messaging) events.push(...eventsOf(entry.id, item));
  }
  return events;
}

function eventsOf(pageId: string, item: unknown): ProviderEvent[] {
  if (!isRecord(item)) return [];
  const sender = idOf(item.sender);
  const recipient = idOf(item.recipient);
  const at = typeof item.timestamp === 'number' && Number.isFinite(item.timestamp) ? item.timestamp : undefined;
  if (sender === undefined || recipient === undefined || at === undefined) return [];

  if (isRecord(item.delivery)) {
    const { mids, watermark } = item.delivery;
    const byMid: ProviderEvent[] = arrayOf(mids)
      .filter((mid): mid is string => typeof mid === 'string')
      .map((mid) => ({ type: 'receipt', providerRef: mid, report: { status: 'delivered', at } }));
    // "Everything sent before the watermark": strictly before.
    const byWatermark: ProviderEvent[] = isTime(watermark)
      ? [{ type: 'thread-receipt', report: { channel: 'messenger', businessAddress: pageId, userAddress: sender, sentBy: watermark - 1, status: 'delivered', at } }]
      : [];
    return [...byMid, ...byWatermark];
  }
  if (isRecord(item.read)) {
    const { watermark } = item.read;
    if (!isTime(watermark)) return [];
    return [{ type: 'thread-receipt', report: { channel: 'messenger', businessAddress: pageId, userAddress: sender, sentBy: watermark, status: 'read', at } }];
  }
  if (isRecord(item.message) && item.message.is_echo !== true && recipient === pageId) {
    return contentsOf(item.message).map((message) => ({
      type: 'inbound',
      inbound: { channel: 'messenger', to: { type: 'messenger', id: pageId }, from: { type: 'messenger', id: sender }, message: { content: message }, at },
    }));
  }
  return [];
}

const MEDIA = new Set(['image', 'audio', 'video', 'file']);

/** A text, and each media attachment, as v0.1 contents; other attachments (locations, templates) have no v0.1 shape. */
function contentsOf(message: Record<string, unknown>): MessageContent[] {
  const contents: MessageContent[] = [];
  if (typeof message.text === 'string' && message.text !== '') contents.push({ type: 'text', text: message.text });
  for (const attachment of arrayOf(message.attachments)) {
    if (!isRecord(attachment) || typeof attachment.type !== 'string' || !MEDIA.has(attachment.type) || !isRecord(attachment.payload)) continue;
    const { url } = attachment.payload;
    if (typeof url !== 'string') continue;
    const type = attachment.type as 'image' | 'audio' | 'video' | 'file';
    contents.push({ type, [type]: { url } });
  }
  return contents;
}

function idOf(party: unknown): string | undefined {
  return isRecord(party) && typeof party.id === 'string' && party.id !== '' ? party.id : undefined;
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}
