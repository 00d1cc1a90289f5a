import { decide } from '../core/dispatch/decide.js';
import type { DispatchEvent, DispatchSettings, DispatchState } from '../core/dispatch/types.js';
import type { PriceTable } from '../core/pricing.js';
import { mergeChanges } from '../store/merge-changes.js';
import type { ChangeSet, Store } from '../store/store.js';
import type { DispatchRecord, MessageRecord } from '../store/records.js';
import { decisionEffects } from './dispatch/decision-effects.js';
import { messageStatusChange, type StatusReport } from './message-status-change.js';

/** A status with where it came from: a permanent error when sending is a `send-failed` event. */
export interface RecordedStatus extends StatusReport {
  fromSend?: boolean;
}

/**
 * The one place a message status turns into effects: the message's own change (event, status,
 * webhook) and, when the message is a dispatch step, the workflow's decision on it, with the
 * dispatch update guarded on the version read. Nothing is committed here: callers commit the
 * change together with their own (a job's completion, a cancelled receipt).
 */
export class StatusRecorder {
  constructor(
    private readonly store: Store,
    private readonly pricing: PriceTable,
    private readonly dispatchSettings: DispatchSettings,
  ) {}

  async change(message: MessageRecord, reports: RecordedStatus[]): Promise<ChangeSet> {
    const dispatch = message.dispatchUuid ? await this.store.findDispatch(message.dispatchUuid) : undefined;
    let current = message;
    let state = dispatch?.state;
    let change: ChangeSet = {};
    for (const report of reports) {
      const own = messageStatusChange(current, report, this.pricing);
      change = mergeChanges(change, own);
      current = { ...current, status: own.messageUpdates?.[0]?.status ?? current.status };
      if (dispatch && state && message.stepIndex !== undefined) {
        const decision = decide(state, dispatchEvent(message.stepIndex, report), report.at, this.dispatchSettings);
        const effects = decisionEffects({ ...dispatch, state }, decision, report.at, this.pricing);
        change = mergeChanges(change, effects.change);
        state = effects.state;
      }
    }
    if (dispatch && state) change = mergeChanges(change, dispatchUpdate(dispatch, state, reports.at(-1)!.at));
    return change;
  }
}

export function dispatchUpdate(dispatch: DispatchRecord, state: DispatchState, now: number): ChangeSet {
  if (JSON.stringify(state) === JSON.stringify(dispatch.state)) return {};
  return { dispatchUpdates: [{ uuid: dispatch.uuid, expectedVersion: dispatch.version, state, updatedAt: now }] };
}

function dispatchEvent(step: number, report: RecordedStatus): DispatchEvent {
  if (report.status === 'submitted') return { type: 'submitted', step };
  if (report.status === 'rejected' && report.fromSend) return { type: 'send-failed', step, error: report.error ?? { code: 1030, reason: 'Internal error' } };
  return { type: 'status', step, status: report.status, ...(report.error && { error: report.error }) };
}
