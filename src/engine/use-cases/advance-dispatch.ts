import { addressValue } from '../../core/channel.js';
import { decide } from '../../core/dispatch/decide.js';
import { finalReportPayload } from '../../core/dispatch/final-report.js';
import type { Decision, DispatchCommand, DispatchEvent, DispatchState } from '../../core/dispatch/types.js';
import { messagePrice } from '../../core/pricing.js';
import type { DispatchRecord, MessageRecord } from '../../core/records.js';
import { mergeChanges } from '../../store/merge-changes.js';
import type { ChangeSet } from '../../store/store.js';
import type { EngineContext } from '../engine-context.js';
import { sendJobOf } from '../send-route.js';
import { newId } from '../ids.js';
import { dispatchTimer, dispatchTimerKey } from '../jobs/job-kinds.js';
import { messageStatusChange } from '../message-status-change.js';
import { webhookDelivery } from '../webhook-delivery.js';

export interface TimedDispatchEvent {
  event: DispatchEvent;
  at: number;
}

export interface DispatchAdvance {
  /** The dispatch as the change leaves it (its new state, and the version the change gives it). */
  dispatch: DispatchRecord;
  /** Everything the events imply, the dispatch row included: commit it whole, or not at all. */
  change: ChangeSet;
}

/** Nexmo's code for a provider that could not be reached. */
const NOT_SUBMITTED_ERROR = { code: 1100, reason: 'Communication failed: not accepted by the provider within the step window' };

/**
 * The one shell around the pure workflow (DESIGN §2 rule 1), used alike when a dispatch is
 * accepted, when a status of one of its messages is recorded and when one of its timers fires:
 * each event goes through `decide`, each command becomes rows (a step's message and its send
 * job, timers, the final report), and the dispatch is written once: inserted when it is new
 * (version 0), otherwise updated guarded on the version that was read. A racing change makes the
 * commit conflict, and the caller decides again on fresh state.
 */
export async function advanceDispatch(ctx: EngineContext, dispatch: DispatchRecord, events: readonly TimedDispatchEvent[]): Promise<DispatchAdvance> {
  let state = dispatch.state;
  const changes: ChangeSet[] = [];
  for (const { event, at } of events) {
    const decision = decide(state, event, at, ctx.dispatch);
    changes.push(commandEffects(ctx, { ...dispatch, state }, decision, at));
    if (event.type === 'timer') changes.push(await abandonedMessages(ctx, state, decision.state, at));
    state = decision.state;
  }
  const at = events.at(-1)?.at ?? dispatch.updatedAt;
  if (dispatch.version === 0) {
    const inserted = { ...dispatch, state, version: 1, updatedAt: at };
    return { dispatch: inserted, change: mergeChanges(...changes, { dispatches: [inserted] }) };
  }
  if (JSON.stringify(state) === JSON.stringify(dispatch.state)) return { dispatch, change: mergeChanges(...changes) };
  const update = { uuid: dispatch.uuid, expectedVersion: dispatch.version, state, updatedAt: at };
  return { dispatch: { ...dispatch, state, version: dispatch.version + 1, updatedAt: at }, change: mergeChanges(...changes, { dispatchUpdates: [update] }) };
}

/**
 * The commands of one decision as rows. `decide` returns a state of its own (it clones its
 * input), so each sent step's message uuid is written into it here.
 */
function commandEffects(ctx: EngineContext, dispatch: DispatchRecord, decision: Decision, at: number): ChangeSet {
  return mergeChanges(...decision.commands.map((command) => commandEffect(ctx, dispatch, decision.state, command, at)));
}

function commandEffect(ctx: EngineContext, dispatch: DispatchRecord, state: DispatchState, command: DispatchCommand, at: number): ChangeSet {
  switch (command.type) {
    case 'send': {
      const message = stepMessage(dispatch, command.step, at);
      state.steps[command.step]!.messageUuid = message.uuid;
      return { messages: [message], jobs: [sendJobOf(ctx, message, at)] };
    }
    case 'schedule-timer':
      return { jobs: [dispatchTimer.create({ dispatchUuid: dispatch.uuid, step: command.step, timer: command.timer, dueAt: command.dueAt })] };
    case 'cancel-timers':
      return { cancelJobKeys: [dispatchTimerKey(dispatch.uuid, command.step)] };
    case 'final-report':
      return dispatch.statusUrl ? finalReport(ctx, dispatch, state, command.status, at) : {};
  }
}

/**
 * A timer that made the workflow give up on a step whose provider never accepted the message
 * (its send window, the last step's ceiling): the message is not sent any more. Its rejection is
 * the message's own news; the workflow has moved on already and is not told again.
 */
async function abandonedMessages(ctx: EngineContext, before: DispatchState, after: DispatchState, at: number): Promise<ChangeSet> {
  const changes: ChangeSet[] = [];
  for (const [index, step] of after.steps.entries()) {
    const gaveUp = step.outcome?.kind === 'not-submitted' || step.outcome?.kind === 'ceiling';
    if (!gaveUp || before.steps[index]?.outcome !== undefined || !step.messageUuid) continue;
    const message = await ctx.store.findMessage(step.messageUuid);
    if (message?.status !== 'queued') continue;
    changes.push(messageStatusChange(message, [{ status: 'rejected', at, error: NOT_SUBMITTED_ERROR }], ctx.pricing).change);
  }
  return mergeChanges(...changes);
}

function stepMessage(dispatch: DispatchRecord, step: number, at: number): MessageRecord {
  const { to, from, message } = dispatch.workflow[step]!;
  return {
    uuid: newId(at),
    apiKey: dispatch.apiKey,
    applicationId: dispatch.applicationId,
    direction: 'outbound',
    channel: to.type,
    to,
    from,
    message,
    status: 'queued',
    reported: [],
    version: 1,
    statusUrl: dispatch.statusUrl,
    dispatchUuid: dispatch.uuid,
    stepIndex: step,
    createdAt: at,
    updatedAt: at,
  };
}

function finalReport(ctx: EngineContext, dispatch: DispatchRecord, state: DispatchState, status: 'completed' | 'error', at: number): ChangeSet {
  const messages = state.steps.flatMap((step, index) => {
    if (!step.messageUuid) return [];
    const { to } = dispatch.workflow[index]!;
    const priced = step.messageStatus === 'delivered' || step.messageStatus === 'read';
    return [{ messageUuid: step.messageUuid, channel: to.type, status: step.messageStatus, ...(priced && { usage: messagePrice(ctx.pricing, to.type, addressValue(to)) }) }];
  });
  const { dispatchFee, currency } = ctx.pricing;
  return webhookDelivery({
    apiKey: dispatch.apiKey,
    applicationId: dispatch.applicationId,
    kind: 'dispatch-report',
    url: dispatch.statusUrl!,
    at,
    payload: finalReportPayload({ dispatchUuid: dispatch.uuid, status, at, messages, dispatchFee, currency }),
  });
}

/** A new dispatch, not stored yet (version 0): `advanceDispatch` with a `start` event inserts it. */
export function newDispatch(fields: Omit<DispatchRecord, 'uuid' | 'version' | 'createdAt' | 'updatedAt'>, at: number): DispatchRecord {
  return { ...fields, uuid: newId(at), version: 0, createdAt: at, updatedAt: at };
}
