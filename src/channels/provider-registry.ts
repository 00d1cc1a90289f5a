import { setTimeout as sleep } from 'node:timers/promises';
import { CHANNELS, type Channel } from '../core/channel.js';
import { CircuitBreaker } from '../core/circuit-breaker.js';
import { providersFor, type RoutingTable } from '../core/routing.js';
import { SendPace } from '../core/send-pace.js';
import type { ChannelAdapter } from './channel-adapter.js';

/**
 * The provider instances of this server, the routes that choose among them (core/routing.ts),
 * each one's circuit (core/circuit-breaker.ts) and its `rate_per_second` pace. The circuits and
 * paces are this node's own, in memory: a pace runs at this node's share of the rate (the rate
 * divided among the live nodes, so the shares add up to it), and a circuit learns from this
 * node's own sends (docs/operations.md says why).
 */
export class ProviderRegistry {
  private readonly byProvider = new Map<string, ChannelAdapter>();
  private paces: Map<string, SendPace>;
  private readonly circuits = new Map<string, CircuitBreaker>();

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

  /** The providers that may send a message of this channel to this destination, in the route's order; empty: no route serves it (1250). */
  candidates(channel: Channel, destination: string): ChannelAdapter[] {
    return (providersFor(this.routing, channel, destination) ?? []).map((name) => this.byProvider.get(name)!);
  }

  /** The first of them: the provider a message is keyed to in the sends lane. */
  route(channel: Channel, destination: string): ChannelAdapter | undefined {
    return this.candidates(channel, destination)[0];
  }

  circuit(provider: string): CircuitBreaker {
    let circuit = this.circuits.get(provider);
    if (!circuit) this.circuits.set(provider, (circuit = new CircuitBreaker()));
    return circuit;
  }

  /** The channels whose routes name each provider (the unrouted ones for the sandbox when it serves them). */
  channelsOf(provider: string): Channel[] {
    const named = (Object.entries(this.routing.routes) as Array<[Channel, readonly { via: readonly string[] }[]]>)
      .filter(([, routes]) => routes.some((route) => route.via.includes(provider)))
      .map(([channel]) => channel);
    if (this.routing.unrouted !== provider) return named;
    // The unrouted provider also serves every channel with a destination no route takes (no route without a prefix).
    return CHANNELS.filter((channel) => named.includes(channel) || !(this.routing.routes[channel] ?? []).some((route) => route.prefixes.length === 0));
  }

  /** Paces each rate at its share among `nodes` live nodes (several nodes on PostgreSQL). */
  shareRatesAmong(nodes: number): void {
    const share = Math.max(1, nodes);
    this.paces = new Map([...this.rates].map(([provider, rate]) => [provider, new SendPace(rate / share)]));
  }

  /** How long (ms) a send to this provider that is ready now waits for its slot; 0 for a provider without a rate. */
  reserveSend(provider: string, wallNow: number): number {
    return this.paces.get(provider)?.reserve(wallNow) ?? 0;
  }

  /**
   * Resolves when a send to this provider may start: its slot has come, and, should its timer
   * have fired late behind sends that came on time, the last second has room (core/send-pace.ts).
   */
  async paceSend(provider: string, wallNow: () => number): Promise<void> {
    const pace = this.paces.get(provider);
    if (!pace) return;
    const slot = pace.reserve(wallNow());
    if (slot > 0) await sleep(slot);
    for (let late = pace.admit(wallNow()); late > 0; late = pace.admit(wallNow())) await sleep(late);
  }

  byName(provider: string): ChannelAdapter | undefined {
    return this.byProvider.get(provider);
  }

  all(): ChannelAdapter[] {
    return [...this.byProvider.values()];
  }
}
