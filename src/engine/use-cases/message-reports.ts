import type { DispatchEvent } from '../../core/dispatch/types.js';
import type { DispatchRecord, MessageRecord } from '../../core/records.js';
import { mergeChanges } from '../../store/merge-changes.js';
import type { ChangeSet } from '../../store/store.js';
import type { EngineContext } from '../engine-context.js';
import { messageStatusChange, type StatusReport } from '../message-status-change.js';
import { advanceDispatch } from './advance-dispatch.js';

/** A status with where it came from: a permanent error when sending is a `send-failed` event. */
export interface RecordedStatus extends StatusReport {
  fromSend?: boolean;
}

/**
 * The dispatches as the change being built leaves them, by uuid: when one change records
 * statuses of two messages of one dispatch (a provider's callback batching both), the second
 * decides on what the first decided, and its update is guarded on the version the first leaves.
 */
export type DispatchesInChange = Map<string, DispatchRecord>;

/**
 * The one place statuses of a message turn into effects: the message's own change (events,
 * status, webhooks) and, when it is a dispatch step, what its workflow decides on the statuses
 * that were new. Nothing is committed here: callers commit the change with their own (a job's
 * completion, held receipts taken from the inbox).
 */
export async function messageAndWorkflowChange(
  ctx: EngineContext,
  message: MessageRecord,
  reports: readonly RecordedStatus[],
  dispatches: DispatchesInChange = new Map(),
): Promise<ChangeSet> {
  const own = messageStatusChange(message, reports, ctx.pricing);
  if (own.fresh.length === 0 || message.dispatchUuid === undefined || message.stepIndex === undefined) return own.change;
  const dispatch = dispatches.get(message.dispatchUuid) ?? (await ctx.store.findDispatch(message.dispatchUuid));
  if (!dispatch) return own.change;
  const step = message.stepIndex;
  const advance = await advanceDispatch(ctx, dispatch, own.fresh.map((report) => ({ event: dispatchEvent(step, report), at: decisionTime(ctx, message, report) })));
  dispatches.set(dispatch.uuid, advance.dispatch);
  return mergeChanges(own.change, advance.change);
}

/**
 * A provider's clock is not ours: its time stays in the history and the webhook, but the workflow
 * decides at that time only within [the message's creation, now], so a report stamped in the
 * future cannot expire a step early, nor one from the past set timers that are due already.
 */
function decisionTime(ctx: EngineContext, message: MessageRecord, report: StatusReport): number {
  return Math.min(ctx.clock.now(), Math.max(message.createdAt, report.at));
}

function dispatchEvent(step: number, report: RecordedStatus): DispatchEvent {
  if (report.status === 'submitted') return { type: 'submitted', step };
  if (report.status === 'rejected' && report.fromSend) return { type: 'send-failed', step, error: report.error ?? { code: 1030, reason: 'Internal error' } };
  return { type: 'status', step, status: report.status, ...(report.error && { error: report.error }) };
}
