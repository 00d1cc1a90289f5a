import type { Caller } from '../../core/caller.js';
import { OpenDispatchError } from '../../core/errors.js';
import type { OutboundMessage } from '../../core/message.js';
import type { MessageRecord } from '../../core/records.js';
import type { EngineContext } from '../engine-context.js';
import { sendJobOf } from '../send-route.js';
import { newId } from '../ids.js';

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
  const result = await ctx.store.commit({ messages: [record], jobs: [sendJobOf(ctx, record, now)] });
  // Inserts only, guarded on nothing: a conflict would be a bug in the store.
  if (result !== 'committed') throw new OpenDispatchError('OD_INTERNAL', `accepting message ${record.uuid} conflicted`);
  return record.uuid;
}
