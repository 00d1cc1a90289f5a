import type { ChannelAdapter } from '../channels/channel-adapter.js';
import { addressValue } from '../core/channel.js';
import type { MessageRecord, NewJob } from '../core/records.js';
import type { EngineContext } from './engine-context.js';
import { sendMessage } from './jobs/job-kinds.js';

/** The provider that sends this message, by its channel's routes and its destination; undefined: unroutable (1250). */
export function routeOf(ctx: Pick<EngineContext, 'providers'>, message: Pick<MessageRecord, 'channel' | 'to'>): ChannelAdapter | undefined {
  return ctx.providers.route(message.channel, addressValue(message.to));
}

/** The job that sends a queued message, keyed by its provider (that provider's share of the sends lane). */
export function sendJobOf(ctx: Pick<EngineContext, 'providers'>, message: Pick<MessageRecord, 'uuid' | 'channel' | 'to'>, dueAt: number): NewJob {
  return sendMessage.create({ messageUuid: message.uuid, provider: routeOf(ctx, message)?.provider ?? UNROUTABLE, dueAt });
}

/** Not a provider: the share key of sends no route serves (they are rejected at once). */
const UNROUTABLE = '(unroutable)';
