import { addressValue, type Address, type Channel } from '../../core/channel.js';
import type { MessageBody, MessageContent } from '../../core/message.js';

/**
 * v0.1 messages as the Vonage Messages API v1 takes them (reference messages-v1.md §2), and v1
 * webhooks' channels and contents back as v0.1 (§4). The one rename: v0.1's `viber_service_msg`
 * is v1's `viber_service`, its options object included.
 */

const V1_CHANNEL: Record<Channel, string> = { sms: 'sms', mms: 'mms', whatsapp: 'whatsapp', messenger: 'messenger', viber_service_msg: 'viber_service' };

export function v1MessageBody(request: { channel: Channel; to: Address; from: Address; message: MessageBody; clientRef?: string }, webhookUrl: string): Record<string, unknown> {
  const { content } = request.message;
  return {
    channel: V1_CHANNEL[request.channel],
    to: addressValue(request.to).replace(/^\+/, ''),
    from: addressValue(request.from).replace(/^\+/, ''),
    message_type: content.type,
    ...contentFields(content),
    ...(request.message.messenger && { messenger: request.message.messenger }),
    ...(request.message.viber_service_msg && { viber_service: request.message.viber_service_msg }),
    ...(request.message.whatsapp && { whatsapp: request.message.whatsapp }),
    ...(request.clientRef !== undefined && { client_ref: request.clientRef }),
    webhook_url: webhookUrl,
    webhook_version: 'v1',
  };
}

function contentFields(content: MessageContent): Record<string, unknown> {
  switch (content.type) {
    case 'text':
      return { text: content.text };
    case 'template':
      // v1 takes the parameters as plain strings (MSG 0.4.0's shape).
      return { template: { name: content.template?.name, parameters: (content.template?.parameters ?? []).map((parameter) => (typeof parameter === 'string' ? parameter : parameter.default)) } };
    case 'custom':
      return { custom: content.custom };
    default:
      return { [content.type]: content[content.type] };
  }
}

const V01_CHANNEL: Record<string, Channel> = { sms: 'sms', mms: 'mms', whatsapp: 'whatsapp', messenger: 'messenger', viber_service: 'viber_service_msg' };

export function v01Channel(v1: unknown): Channel | undefined {
  return typeof v1 === 'string' ? V01_CHANNEL[v1] : undefined;
}

/** A v1 party as a v0.1 address: Messenger uses ids on both sides, Viber for its service; numbers otherwise. */
export function v01Address(channel: Channel, value: string, side: 'business' | 'user'): Address {
  const byId = channel === 'messenger' || (channel === 'viber_service_msg' && side === 'business');
  return byId ? { type: channel, id: value } : { type: channel, number: value };
}

const MEDIA = new Set(['image', 'audio', 'video', 'file']);

/** A v1 inbound message's content as v0.1's; undefined for types v0.1 has no shape for. */
export function v01Content(webhook: Record<string, unknown>): MessageContent | undefined {
  const type = webhook.message_type;
  if (type === 'text' && typeof webhook.text === 'string') return { type: 'text', text: webhook.text };
  if (typeof type !== 'string' || !MEDIA.has(type)) return undefined;
  const media = webhook[type] as { url?: unknown; caption?: unknown } | undefined;
  if (typeof media?.url !== 'string') return undefined;
  const kind = type as 'image' | 'audio' | 'video' | 'file';
  return { type: kind, [kind]: { url: media.url, ...(typeof media.caption === 'string' && { caption: media.caption }) } };
}
