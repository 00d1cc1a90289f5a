import type { Channel } from './channel.js';

/**
 * Prices are decimal strings on the wire ("0.0333"). Sums are done in integer micro-units so
 * that a final report's total is exact: 0.0333 + 0.002 is "0.0353", never 0.035300000000000005.
 */
const MICROS = 1_000_000;

export interface ChannelPrice {
  /** Price of one message on this channel. */
  default: string;
  /** Longest matching destination prefix wins, e.g. {"44": "0.04"}. */
  prefixes?: Record<string, string>;
}

export interface PriceTable {
  currency: string;
  channels: Partial<Record<Channel, ChannelPrice>>;
  /** Charged once per dispatch on top of its messages (Nexmo charged 0.002 EUR). */
  dispatchFee: string;
}

export const FREE_PRICE_TABLE: PriceTable = Object.freeze({ currency: 'EUR', channels: {}, dispatchFee: '0' });

/** Key order as in real Nexmo webhooks: price, then currency. */
export interface Usage {
  price: string;
  currency: string;
}

export function messagePrice(table: PriceTable, channel: Channel, destination: string): Usage {
  const entry = table.channels[channel];
  if (!entry) return { price: '0', currency: table.currency };
  let best: string | undefined;
  for (const prefix of Object.keys(entry.prefixes ?? {})) {
    if (destination.startsWith(prefix) && (best === undefined || prefix.length > best.length)) best = prefix;
  }
  const price = best === undefined ? entry.default : entry.prefixes![best]!;
  return { price: formatMicros(parseMicros(price)), currency: table.currency };
}

export function sumPrices(prices: readonly string[]): string {
  return formatMicros(prices.reduce((total, price) => total + parseMicros(price), 0));
}

export function isDecimalPrice(value: unknown): value is string {
  return typeof value === 'string' && /^\d{1,9}(\.\d{1,6})?$/.test(value);
}

function parseMicros(price: string): number {
  if (!isDecimalPrice(price)) throw new RangeError(`not a decimal price: ${price}`);
  const [whole, fraction = ''] = price.split('.');
  return Number(whole) * MICROS + Number(fraction.padEnd(6, '0'));
}

function formatMicros(micros: number): string {
  const whole = Math.floor(micros / MICROS);
  const fraction = String(micros % MICROS).padStart(6, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : String(whole);
}
