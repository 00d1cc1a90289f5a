import type { ChannelAdapter } from '../channels/channel-adapter.js';
import { addressValue } from '../core/channel.js';
import type { MessageRecord } from '../core/records.js';
import type { EngineContext } from './engine-context.js';

/** The provider that sends this message, by its channel's routes and its destination; undefined: unroutable (1250). */
export function routeOf(ctx: Pick<EngineContext, 'providers'>, message: Pick<MessageRecord, 'channel' | 'to'>): ChannelAdapter | undefined {
  return ctx.providers.route(message.channel, addressValue(message.to));
}

/** The key its send job is queued under (a provider's share of the sends lane). */
export function sendKeyProvider(ctx: Pick<EngineContext, 'providers'>, message: Pick<MessageRecord, 'channel' | 'to'>): string {
  return routeOf(ctx, message)?.provider ?? UNROUTABLE;
}

/** Not a provider: the share key of sends no route serves (they are rejected at once). */
const UNROUTABLE = '(unroutable)';
