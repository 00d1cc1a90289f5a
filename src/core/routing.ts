import type { Channel } from './channel.js';

/** The built-in sandbox provider's name: always present, reserved, and usable in routes. */
export const BUILT_IN_SANDBOX = 'sandbox';

/** One route of a channel: destinations starting with one of `prefixes` (all, when there are none) go `via` these providers. */
export interface Route {
  prefixes: readonly string[];
  via: readonly string[];
}

/**
 * Which providers serve each channel (DESIGN §3 "Routing and providers"): the first route whose
 * prefix matches the destination gives them, in order. `unrouted` serves a channel, or a
 * destination, no route matches (the sandbox in the laptop default); without it those are
 * unroutable.
 */
export interface RoutingTable {
  routes: Readonly<Partial<Record<Channel, readonly Route[]>>>;
  unrouted?: string;
}

/** The providers for a message to `destination` (digits of a number, or an id), in order; undefined: unroutable (1250). */
export function providersFor(table: RoutingTable, channel: Channel, destination: string): readonly string[] | undefined {
  for (const route of table.routes[channel] ?? []) {
    if (route.prefixes.length === 0 || route.prefixes.some((prefix) => destination.startsWith(prefix))) return route.via;
  }
  return table.unrouted === undefined ? undefined : [table.unrouted];
}
