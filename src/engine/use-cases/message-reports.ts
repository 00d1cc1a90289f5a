import type { DispatchEvent } from '../../core/dispatch/types.js';
import type { MessageRecord } from '../../core/records.js';
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
 * The one place statuses of a message turn into effects: the message's own change (events,
 * status, webhooks) and, when it is a dispatch step, what its workflow decides on the statuses
 * that were new. Nothing is committed here: callers commit the change with their own (a job's
 * completion, held receipts taken from the inbox).
 */
export async function reportsChange(ctx: EngineContext, message: MessageRecord, reports: readonly RecordedStatus[]): Promise<ChangeSet> {
  const own = messageStatusChange(message, reports, ctx.pricing);
  if (own.fresh.length === 0 || message.dispatchUuid === undefined || message.stepIndex === undefined) return own.change;
  const dispatch = await ctx.store.findDispatch(message.dispatchUuid);
  if (!dispatch) return own.change;
  const step = message.stepIndex;
  const advance = await advanceDispatch(ctx, dispatch, own.fresh.map((report) => ({ event: dispatchEvent(step, report), at: report.at })));
  return mergeChanges(own.change, advance.change);
}

function dispatchEvent(step: number, report: RecordedStatus): DispatchEvent {
  if (report.status === 'submitted') return { type: 'submitted', step };
  if (report.status === 'rejected' && report.fromSend) return { type: 'send-failed', step, error: report.error ?? { code: 1030, reason: 'Internal error' } };
  return { type: 'status', step, status: report.status, ...(report.error && { error: report.error }) };
}
