import type { Address, Channel } from './channel.js';

export type ContentType = 'text' | 'image' | 'audio' | 'video' | 'file' | 'template' | 'custom';

export interface MediaContent {
  url: string;
  caption?: string;
}

export interface TemplateContent {
  name: string;
  /** Both wire shapes are accepted: `[{"default": "x"}]` (Dispatch, MSG 0.3.6) and `["x"]` (MSG 0.4.0). */
  parameters?: Array<{ default: string } | string>;
}

export interface MessageContent {
  type: ContentType;
  text?: string;
  image?: MediaContent;
  audio?: MediaContent;
  video?: MediaContent;
  file?: MediaContent;
  template?: TemplateContent;
  custom?: Record<string, unknown>;
}

export interface MessengerOptions {
  category?: 'response' | 'update' | 'message_tag';
  tag?: string;
}

export interface ViberOptions {
  category?: 'transaction' | 'promotion';
  ttl?: number;
  type?: string;
}

export interface WhatsappOptions {
  policy?: 'deterministic';
  locale?: string;
}

/** The `message` object of Messages v0.1 (and of each Dispatch step). */
export interface MessageBody {
  content: MessageContent;
  messenger?: MessengerOptions;
  viber_service_msg?: ViberOptions;
  whatsapp?: WhatsappOptions;
}

/** A validated, normalised Messages v0.1 send request. */
export interface OutboundMessage {
  to: Address;
  from: Address;
  message: MessageBody;
  client_ref?: string;
}

export type { Address, Channel };
