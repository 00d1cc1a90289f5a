import type { Channel } from '../core/channel.js';
import { providersFor, type RoutingTable } from '../core/routing.js';
import { SendPace } from '../core/send-pace.js';
import type { ChannelAdapter } from './channel-adapter.js';

/**
 * The provider instances of this server and the routes that choose among them (core/routing.ts).
 * A message goes to the first provider of its route; failover between a route's providers and
 * their circuits come with the real providers.
 */
export class ProviderRegistry {
  private readonly byProvider = new Map<string, ChannelAdapter>();
  private readonly paces: Map<string, SendPace>;

  constructor(
    adapters: readonly ChannelAdapter[],
    private readonly routing: RoutingTable,
    /** Provider → its `rate_per_second`, for those that have one. */
    readonly rates: ReadonlyMap<string, number> = new Map(),
  ) {
    this.paces = new Map([...rates].map(([provider, rate]) => [provider, new SendPace(rate)]));
    for (const adapter of adapters) {
      if (this.byProvider.has(adapter.provider)) throw new RangeError(`two providers are named ${adapter.provider}`);
      this.byProvider.set(adapter.provider, adapter);
    }
    const named = [...(routing.unrouted === undefined ? [] : [routing.unrouted]), ...Object.values(routing.routes).flatMap((routes) => routes.flatMap((route) => route.via))];
    for (const name of named) {
      if (!this.byProvider.has(name)) throw new RangeError(`no provider is named ${name}`);
    }
  }

  /** The provider that sends a message of this channel to this destination; undefined: no route serves it (1250). */
  route(channel: Channel, destination: string): ChannelAdapter | undefined {
    const [first] = providersFor(this.routing, channel, destination) ?? [];
    return first === undefined ? undefined : this.byProvider.get(first);
  }

  /** How long (ms) a send to this provider that is ready now waits for its slot; 0 for a provider without a rate. */
  reserveSend(provider: string, wallNow: number): number {
    return this.paces.get(provider)?.reserve(wallNow) ?? 0;
  }

  byName(provider: string): ChannelAdapter | undefined {
    return this.byProvider.get(provider);
  }

  all(): ChannelAdapter[] {
    return [...this.byProvider.values()];
  }
}
