import { addressValue } from '../core/channel.js';
import type { MessageRecord, NewJob } from '../core/records.js';
import type { EngineContext } from './engine-context.js';
import { providerKey, sendMessage } from './jobs/job-kinds.js';
import { pacedConcurrency } from '../core/send-pace.js';

/** The job that sends a queued message, keyed by its provider (that provider's share of the sends lane). */
export function sendJobOf(ctx: Pick<EngineContext, 'providers'>, message: Pick<MessageRecord, 'uuid' | 'channel' | 'to'>, dueAt: number): NewJob {
  return sendMessage.create({ messageUuid: message.uuid, provider: ctx.providers.route(message.channel, addressValue(message.to))?.provider ?? UNROUTABLE, dueAt });
}

/** Not a provider: the share key of sends no route serves (they are rejected at once). */
const UNROUTABLE = '(unroutable)';

/**
 * The sends lane's own limit for each paced provider, keyed as its send jobs are: more of its
 * sends in flight would only wait longer for their slots (core/send-pace.ts).
 */
export function pacedSendLimits(rates: ReadonlyMap<string, number>, concurrencyPerProvider: number): Map<string, number> {
  return new Map([...rates].map(([provider, rate]) => [providerKey(provider), pacedConcurrency(rate, concurrencyPerProvider)]));
}
