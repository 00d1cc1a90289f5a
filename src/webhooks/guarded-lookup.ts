import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import type { WebhookAddressPolicy } from './address-policy.js';

/** The error code of a connection the policy refused; the sender turns it into a permanent failure. */
export const ADDRESS_REFUSED = 'OD_WEBHOOK_ADDRESS_REFUSED';

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
/** dns.lookup with every answer: the resolver the guard asks (replaceable to test the guard alone). */
export type Resolver = (hostname: string, options: LookupAllOptions, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

const resolveAll: Resolver = (hostname, options, callback) => dnsLookup(hostname, options, callback);

/**
 * A `lookup` for the webhook connections (net.connect's option): resolves the name, and refuses
 * the connection when any of its addresses is refused, so a name cannot smuggle an internal
 * address in beside a public one. It runs for every new connection, so a name re-pointed after
 * its application was created is caught on the next attempt.
 */
export function guardedLookup(policy: WebhookAddressPolicy, resolve: Resolver = resolveAll) {
  return (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      for (const { address } of addresses) {
        const verdict = policy.check(address);
        if (!verdict.allowed) return callback(refusal(`the receiver's name resolves to an address webhooks may not reach: ${verdict.reason}`), []);
      }
      const [first] = addresses;
      if (!first) return callback(Object.assign(new Error('the receiver\'s name has no address'), { code: 'ENOTFOUND' }), []);
      if ((options as LookupAllOptions).all) return callback(null, addresses);
      callback(null, first.address, first.family);
    });
  };
}

export function refusal(reason: string): NodeJS.ErrnoException {
  return Object.assign(new Error(reason), { code: ADDRESS_REFUSED });
}
