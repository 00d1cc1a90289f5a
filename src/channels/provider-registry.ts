import type { Channel } from '../core/channel.js';
import type { ChannelAdapter } from './channel-adapter.js';

/**
 * The provider instances of this server and which one serves each channel. Every channel
 * without a provider of its own is served by the fallback (the sandbox in the laptop default).
 * Routing by destination prefix and provider failover come with the provider configuration.
 */
export class ProviderRegistry {
  private readonly byProvider = new Map<string, ChannelAdapter>();

  constructor(
    adapters: readonly ChannelAdapter[],
    private readonly channelProviders: Partial<Record<Channel, string>>,
    private readonly fallback: string,
  ) {
    for (const adapter of adapters) {
      if (this.byProvider.has(adapter.provider)) throw new RangeError(`two providers are named ${adapter.provider}`);
      this.byProvider.set(adapter.provider, adapter);
    }
    for (const name of [fallback, ...Object.values(channelProviders)]) {
      if (!this.byProvider.has(name)) throw new RangeError(`no provider is named ${name}`);
    }
  }

  /** The provider that sends messages of this channel. */
  forChannel(channel: Channel): ChannelAdapter {
    return this.byProvider.get(this.channelProviders[channel] ?? this.fallback)!;
  }

  byName(provider: string): ChannelAdapter | undefined {
    return this.byProvider.get(provider);
  }

  all(): ChannelAdapter[] {
    return [...this.byProvider.values()];
  }
}
