import type { Caller } from '../../core/caller.js';
import type { OutboundMessage } from '../../core/message.js';
import type { MessageRecord } from '../../core/records.js';
import type { EngineContext } from '../engine-context.js';
import { newId } from '../ids.js';
import { sendMessage } from '../jobs/job-kinds.js';

/** Messages v0.1 send: the message and its send job commit together; only then is it accepted. */
export async function acceptMessage(ctx: EngineContext, caller: Caller, outbound: OutboundMessage): Promise<string> {
  const now = ctx.clock.now();
  const record: MessageRecord = {
    uuid: newId(now),
    apiKey: caller.apiKey,
    applicationId: caller.applicationId,
    direction: 'outbound',
    channel: outbound.to.type,
    to: outbound.to,
    from: outbound.from,
    message: outbound.message,
    clientRef: outbound.client_ref,
    status: 'queued',
    reported: [],
    version: 1,
    statusUrl: caller.targets.statusUrl,
    createdAt: now,
    updatedAt: now,
  };
  const provider = ctx.providers.forChannel(record.channel).provider;
  await ctx.store.commit({ messages: [record], jobs: [sendMessage.create(record.uuid, provider, now)] });
  return record.uuid;
}
