import { pendingReceiptsKey } from '../../channels/channel-adapter.js';
import { decide } from '../../core/dispatch/decide.js';
import type { DispatchSettings, TimerKind } from '../../core/dispatch/types.js';
import type { PriceTable } from '../../core/pricing.js';
import { mergeChanges } from '../../store/merge-changes.js';
import type { Store } from '../../store/store.js';
import type { ClaimedJob } from '../../store/records.js';
import type { Clock } from '../clock.js';
import { decisionEffects } from '../dispatch/decision-effects.js';
import type { JobHandler } from '../job-engine.js';
import { messageStatusChange } from '../message-status-change.js';
import { dispatchUpdate } from '../status-recorder.js';

/** Nexmo's code for a provider that could not be reached. */
const NOT_SUBMITTED_ERROR = { code: 1100, reason: 'Communication failed: not accepted by the provider within the step window' };

export interface DispatchTimerDeps {
  store: Store;
  clock: Clock;
  pricing: PriceTable;
  settings: DispatchSettings;
}

/**
 * A workflow timer came due. The decision commits with the timer's completion, guarded on the
 * dispatch version: if a receipt changed the dispatch meanwhile, the commit conflicts and the
 * timer runs again on the new state, where it is usually stale. One way only, never both.
 */
export function createDispatchTimerHandler(deps: DispatchTimerDeps): JobHandler {
  return async (job: ClaimedJob) => {
    const { dispatchUuid, step, timer, dueAt = job.dueAt } = job.payload as { dispatchUuid: string; step: number; timer: TimerKind; dueAt?: number };
    const dispatch = await deps.store.findDispatch(dispatchUuid);
    if (!dispatch) return { done: {} };
    // A receipt of this step due no later than the timer happened first: let it be decided first
    // (after downtime, or within one batch, both can be due at once).
    const messageUuid = dispatch.state.steps[step]?.messageUuid;
    if (messageUuid && (await deps.store.hasDueJob(pendingReceiptsKey(messageUuid), dueAt))) {
      return { retryAt: deps.clock.now(), error: 'waiting for an earlier receipt of the step' };
    }
    const now = deps.clock.now();
    const decision = decide(dispatch.state, { type: 'timer', step, timer }, now, deps.settings);
    if (decision.ignored) return { done: {} };

    const effects = decisionEffects(dispatch, decision, now, deps.pricing);
    let change = mergeChanges(effects.change, dispatchUpdate(dispatch, effects.state, now));
    // A step that ended before its provider accepted the message: it is not sent any more.
    const left = effects.state.steps[step];
    const message = left?.outcome && left.messageUuid ? await deps.store.findMessage(left.messageUuid) : undefined;
    if (message?.status === 'queued') {
      change = mergeChanges(change, messageStatusChange(message, { status: 'rejected', at: now, error: NOT_SUBMITTED_ERROR }, deps.pricing));
    }
    return { done: change };
  };
}
