/** The channels of Messages v0.1 and Dispatch, named as on the wire. */
export const CHANNELS = ['sms', 'mms', 'whatsapp', 'messenger', 'viber_service_msg'] as const;
export type Channel = (typeof CHANNELS)[number];

export function isChannel(value: unknown): value is Channel {
  return typeof value === 'string' && (CHANNELS as readonly string[]).includes(value);
}

/**
 * A `to` or `from` object. Messenger uses `id` on both sides, Viber uses `id` for the
 * service (from) and `number` for the user (to); the phone channels use `number`.
 */
export interface Address {
  type: Channel;
  number?: string;
  id?: string;
}

/** The one identifier an address carries, whichever field holds it. */
export function addressValue(address: Address): string {
  return address.number ?? address.id ?? '';
}
