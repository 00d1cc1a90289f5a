import { z } from 'zod';
import { CHANNELS } from '../core/channel.js';
import { httpUrl, number, numberBetween, settings, text, wholeNumber } from './schema-parts.js';

/**
 * The provider instances and channel routes of the config file (DESIGN §4 "Provider types and
 * their keys"): each type takes exactly its keys (plus `base_url` and `rate_per_second`), so a
 * misspelt key is an error that names it. Secrets arrive as `${NAME}` and are never echoed.
 */

const port = wholeNumber(1, 65535);
const count = wholeNumber(1);

/** An object of exactly these keys (and the ones every provider takes), saying which it takes. */
function providerType<Type extends string, Shape extends z.ZodRawShape>(type: Type, shape: Shape) {
  // Below 0.1/s one send would wait longer than a send may take (core/send-pace.ts).
  return settings({ type: z.literal(type), base_url: httpUrl.optional(), rate_per_second: numberBetween(0.1, 1_000_000).optional(), ...shape });
}

const apiVersion = z.string().regex(/^v\d+\.\d+$/, { error: 'must look like v21.0' });

export const providerSchema = z.discriminatedUnion(
  'type',
  [
    providerType('messenger', {
      app_secret: text,
      verify_token: text,
      pages: z.record(z.string().regex(/^\d+$/), z.strictObject({ access_token: text }), { error: (issue) => (issue.code === 'invalid_key' ? 'is not a page id of digits' : undefined) }),
      api_version: apiVersion.optional(),
    }),
    providerType('whatsapp', {
      app_secret: text,
      verify_token: text,
      numbers: z.record(z.string().regex(/^\d+$/), z.strictObject({ phone_number_id: text, access_token: text }), {
        error: (issue) => (issue.code === 'invalid_key' ? 'is not a business number of digits' : undefined),
      }),
      api_version: apiVersion.optional(),
    }),
    providerType('smpp', {
      host: text,
      port,
      system_id: text,
      password: text,
      system_type: z.string().optional(),
      tls: z.boolean({ error: 'must be true or false' }).optional(),
      window: count.optional(),
      enquire_link_seconds: numberBetween(0.1, 3600).optional(),
      binds: count.optional(),
    }),
    providerType('twilio', { account_sid: text, auth_token: text, messaging_service_sid: text.optional() }),
    providerType('vonage-sms', {
      api_key: text,
      api_secret: text,
      signature_secret: text.optional(),
      signature_method: z.enum(['md5hash', 'md5', 'sha1', 'sha256', 'sha512'], { error: 'must be one of md5hash, md5, sha1, sha256, sha512' }).optional(),
    }),
    providerType('vonage-messages', { application_id: text, private_key: text.optional(), private_key_pem: text.optional(), signature_secret: text.optional() }),
    providerType('sandbox', { default_delivered_after: number(0).optional() }),
  ],
  { error: (issue): string | undefined => (issue.code === 'invalid_union' ? `must be one of ${PROVIDER_TYPES.join(', ')}` : undefined) },
);

/** Every type, as the schema lists them (read lazily by the union's error above). */
const PROVIDER_TYPES: string[] = providerSchema.options.map((option) => option.shape.type.value);

export type ProviderSettings = z.infer<typeof providerSchema>;

/** A provider instance's name, as it appears in `/webhooks/{name}` and in routes. */
const providerName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, { error: 'is not a provider name: lower-case letters, digits, - and _' });

const route = settings({
  prefix: z.array(z.string().regex(/^\d{1,15}$/, { error: 'must be a prefix of digits such as "44"' }), { error: 'must be a list of digit prefixes such as ["44"]' }).optional(),
  via: z.array(text, { error: 'must be a list of provider names' }).min(1, { error: 'must name at least one provider' }),
});

export const providersSchema = z.record(providerName, providerSchema, { error: (issue) => (issue.code === 'invalid_key' ? issue.message : undefined) });

export const channelsSchema = settings(
  Object.fromEntries(CHANNELS.map((channel) => [channel, z.array(route, { error: 'must be a list of routes' }).optional()])) as Record<(typeof CHANNELS)[number], z.ZodOptional<z.ZodArray<typeof route>>>,
);
