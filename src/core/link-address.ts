import { CHANNELS, type Channel, isChannel } from './channel.js';

/**
 * The business address of a link (DESIGN §4 "Links"), as inbound messages name it: a number as
 * digits (a leading "+" is dropped, so `+447700900000` and `447700900000` are one address), a
 * Messenger page id, a Viber service id, an alphanumeric sender.
 */
const ADDRESS = /^[A-Za-z0-9]{1,50}$/;

export type LinkTarget = { ok: true; channel: Channel; address: string } | { ok: false; name: 'channel' | 'address'; reason: string };

export function linkTarget(channel: string, address: string): LinkTarget {
  if (!isChannel(channel)) return { ok: false, name: 'channel', reason: `must be one of ${CHANNELS.join(', ')}` };
  const plain = address.startsWith('+') ? address.slice(1) : address;
  if (!ADDRESS.test(plain)) return { ok: false, name: 'address', reason: 'must be a number of digits, a page id or a sender id: 1 to 50 letters and digits' };
  return { ok: true, channel, address: plain };
}
