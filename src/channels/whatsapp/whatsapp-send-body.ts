import type { MessageBody } from '../../core/message.js';

/**
 * A v0.1 WhatsApp message as the Cloud API's send body (channels reference §2.1): text, media by
 * link with their caption (`file` is WhatsApp's `document`), a template with its parameters as
 * the body's text parameters in `whatsapp.locale` (default en_US), and `custom` as the
 * type-specific part of the body itself.
 */
export function whatsappSendBody(to: string, body: MessageBody): Record<string, unknown> {
  const base = { messaging_product: 'whatsapp', recipient_type: 'individual', to };
  const { content } = body;
  switch (content.type) {
    case 'text':
      return { ...base, type: 'text', text: { body: content.text } };
    case 'image':
    case 'audio':
    case 'video':
    case 'file': {
      const media = content[content.type];
      const type = content.type === 'file' ? 'document' : content.type;
      return { ...base, type, [type]: { link: media?.url, ...(media?.caption !== undefined && content.type !== 'audio' && { caption: media.caption }) } };
    }
    case 'template': {
      const parameters = (content.template?.parameters ?? []).map((parameter) => ({ type: 'text', text: typeof parameter === 'string' ? parameter : parameter.default }));
      return {
        ...base,
        type: 'template',
        template: {
          name: content.template?.name,
          language: { code: body.whatsapp?.locale ?? 'en_US', policy: 'deterministic' },
          ...(parameters.length > 0 && { components: [{ type: 'body', parameters }] }),
        },
      };
    }
    case 'custom':
      // The message's own recipient and product win: a custom body cannot send elsewhere.
      return { ...content.custom, ...base };
  }
}
