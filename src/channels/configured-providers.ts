import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { ProviderSettings } from '../config/provider-schema.js';
import type { Clock } from '../core/clock.js';
import { OpenDispatchError } from '../core/errors.js';
import type { ChannelAdapter } from './channel-adapter.js';
import { MessengerAdapter } from './messenger/messenger-adapter.js';
import { SmppAdapter } from './smpp/smpp-adapter.js';
import { WhatsAppAdapter } from './whatsapp/whatsapp-adapter.js';
import { TwilioAdapter } from './twilio/twilio-adapter.js';
import { VonageSmsAdapter } from './vonage-sms/vonage-sms-adapter.js';
import { VonageMessagesAdapter } from './vonage-messages/vonage-messages-adapter.js';

/** Graph API versions move; the config names one, else this (DESIGN §4). */
const DEFAULT_GRAPH_VERSION = 'v21.0';

export interface AdapterContext {
  /** How long one call to a provider may take (sends.timeout_ms). */
  sendTimeoutMs: number;
  clock: Clock;
  log: Logger;
  /** `public_url`: where providers that take a callback URL per message are told to report. */
  publicUrl?: string;
  /** The sandbox is made by the server: its instances share the network's state. */
  sandbox(name: string, settings: Extract<ProviderSettings, { type: 'sandbox' }>): ChannelAdapter;
}

/** One adapter per configured provider instance. */
export function configuredAdapter(name: string, settings: ProviderSettings, context: AdapterContext): ChannelAdapter {
  switch (settings.type) {
    case 'sandbox':
      return context.sandbox(name, settings);
    case 'messenger':
      return new MessengerAdapter(
        name,
        {
          appSecret: settings.app_secret,
          verifyToken: settings.verify_token,
          pages: Object.fromEntries(Object.entries(settings.pages).map(([pageId, page]) => [pageId, { accessToken: page.access_token }])),
          baseUrl: trimmed(settings.base_url ?? 'https://graph.facebook.com'),
          apiVersion: settings.api_version ?? DEFAULT_GRAPH_VERSION,
        },
        context.sendTimeoutMs,
      );
    case 'whatsapp':
      return new WhatsAppAdapter(
        name,
        {
          appSecret: settings.app_secret,
          verifyToken: settings.verify_token,
          numbers: Object.fromEntries(Object.entries(settings.numbers).map(([business, number]) => [business, { phoneNumberId: number.phone_number_id, accessToken: number.access_token }])),
          baseUrl: trimmed(settings.base_url ?? 'https://graph.facebook.com'),
          apiVersion: settings.api_version ?? DEFAULT_GRAPH_VERSION,
        },
        context.sendTimeoutMs,
      );
    case 'smpp':
      return new SmppAdapter(
        name,
        {
          host: settings.host,
          port: settings.port,
          tls: settings.tls ?? false,
          systemId: settings.system_id,
          password: settings.password,
          systemType: settings.system_type ?? '',
          window: settings.window ?? 10,
          enquireLinkMs: (settings.enquire_link_seconds ?? 30) * 1000,
          binds: settings.binds ?? 1,
        },
        context.clock,
        context.log,
        context.sendTimeoutMs,
      );
    case 'twilio':
      return new TwilioAdapter(
        name,
        {
          accountSid: settings.account_sid,
          authToken: settings.auth_token,
          messagingServiceSid: settings.messaging_service_sid,
          baseUrl: trimmed(settings.base_url ?? 'https://api.twilio.com'),
          callbackUrl: callbackUrl(context, name),
        },
        context.clock,
        context.sendTimeoutMs,
      );
    case 'vonage-sms':
      return new VonageSmsAdapter(
        name,
        {
          apiKey: settings.api_key,
          apiSecret: settings.api_secret,
          signatureSecret: settings.signature_secret,
          signatureMethod: settings.signature_method ?? 'md5hash',
          baseUrl: trimmed(settings.base_url ?? 'https://rest.nexmo.com'),
          callbackUrl: callbackUrl(context, name),
        },
        context.clock,
        context.log,
        context.sendTimeoutMs,
      );
    case 'vonage-messages':
      return new VonageMessagesAdapter(
        name,
        {
          applicationId: settings.application_id,
          privateKeyPem: privateKeyOf(name, settings),
          signatureSecret: settings.signature_secret,
          baseUrl: trimmed(settings.base_url ?? 'https://api.nexmo.com'),
          callbackUrl: callbackUrl(context, name),
        },
        context.clock,
        context.log,
        context.sendTimeoutMs,
      );
  }
}

const trimmed = (url: string) => url.replace(/\/+$/, '');

/** `{public_url}/webhooks/{name}` (DESIGN §4); the config refuses these providers without public_url. */
function callbackUrl(context: AdapterContext, name: string): string {
  if (context.publicUrl === undefined) throw new OpenDispatchError('OD_CONFIG', `provider ${name} needs public_url`);
  return `${trimmed(context.publicUrl)}/webhooks/${encodeURIComponent(name)}`;
}

/** The Vonage application's private key: inline, or read from the file the config names (once, at start). */
function privateKeyOf(name: string, settings: Extract<ProviderSettings, { type: 'vonage-messages' }>): string {
  if (settings.private_key_pem !== undefined) return settings.private_key_pem;
  if (settings.private_key === undefined) throw new OpenDispatchError('OD_CONFIG', `provider ${name}: give private_key (a file) or private_key_pem`);
  try {
    return readFileSync(settings.private_key, 'utf8');
  } catch (error) {
    throw new OpenDispatchError('OD_CONFIG', `provider ${name}: cannot read private_key ${settings.private_key}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}
