import { canSee, type Caller } from '../../core/caller.js';
import type { DispatchRecord, MessageEventRecord, MessageRecord, SendAttemptRecord, WebhookRecord } from '../../core/records.js';
import type { EngineContext } from '../engine-context.js';

/** A message with what happened to it: its statuses, its send attempts, its webhook deliveries. */
export interface MessageView {
  message: MessageRecord;
  events: MessageEventRecord[];
  attempts: SendAttemptRecord[];
  webhooks: WebhookRecord[];
}

/** Undefined for an unknown message and for one the caller may not see alike. */
export async function lookUpMessage(ctx: EngineContext, caller: Caller, uuid: string): Promise<MessageView | undefined> {
  const message = await ctx.store.findMessage(uuid);
  if (!message || !canSee(caller, message)) return undefined;
  const [events, attempts, webhooks] = await Promise.all([
    ctx.store.listMessageEvents(uuid),
    ctx.store.listSendAttempts(uuid),
    ctx.store.listWebhooksForMessage(uuid),
  ]);
  return { message, events, attempts, webhooks };
}

/** A dispatch with the statuses of each started step's message, in step order. */
export interface DispatchView {
  dispatch: DispatchRecord;
  stepEvents: MessageEventRecord[][];
}

export async function lookUpDispatch(ctx: EngineContext, caller: Caller, uuid: string): Promise<DispatchView | undefined> {
  const dispatch = await ctx.store.findDispatch(uuid);
  if (!dispatch || !canSee(caller, dispatch)) return undefined;
  const stepEvents = await Promise.all(dispatch.state.steps.map((step) => (step.messageUuid ? ctx.store.listMessageEvents(step.messageUuid) : [])));
  return { dispatch, stepEvents };
}
