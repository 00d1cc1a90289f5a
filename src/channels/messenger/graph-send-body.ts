import type { MessageBody } from '../../core/message.js';

/**
 * A v0.1 Messenger message as the Send API's JSON body (channels reference §1.1, §1.3):
 * `messaging_type` RESPONSE unless `message.messenger` says UPDATE or MESSAGE_TAG with its tag;
 * text as `text`, media as an attachment by URL, `custom` as the Graph `message` object itself.
 */
export function graphSendBody(recipientId: string, body: MessageBody): Record<string, unknown> {
  const { messenger } = body;
  const messagingType = messenger?.category === 'update' ? 'UPDATE' : messenger?.category === 'message_tag' ? 'MESSAGE_TAG' : 'RESPONSE';
  return {
    recipient: { id: recipientId },
    messaging_type: messagingType,
    ...(messagingType === 'MESSAGE_TAG' && { tag: messenger?.tag }),
    message: graphMessage(body),
  };
}

function graphMessage(body: MessageBody): Record<string, unknown> {
  const { content } = body;
  switch (content.type) {
    case 'text':
      return { text: content.text };
    case 'image':
    case 'audio':
    case 'video':
    case 'file': {
      // Messenger has no captions: the URL is what it takes.
      const media = content[content.type];
      return { attachment: { type: content.type, payload: { url: media?.url, is_reusable: false } } };
    }
    case 'custom':
      return { ...content.custom };
    default:
      // The v0.1 rules allow no other type on this channel (core/message-rules.ts).
      throw new RangeError(`Messenger takes no ${content.type} content`);
  }
}
