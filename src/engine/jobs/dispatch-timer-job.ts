import type { EngineContext } from '../engine-context.js';
import { conflictBackoffMs, handle, type JobHandler } from '../job-engine.js';
import { advanceDispatch } from '../use-cases/advance-dispatch.js';
import { dispatchTimer, followUpsKey } from './job-kinds.js';

/**
 * A workflow timer came due. The decision commits with the timer's completion, guarded on the
 * dispatch version: if a receipt changed the dispatch meanwhile, the commit conflicts and the
 * timer runs again on the new state, where it is usually stale. One way only, never both.
 */
export function dispatchTimerHandler(ctx: EngineContext): [string, JobHandler] {
  return handle(dispatchTimer, async ({ dispatchUuid, step, timer, dueAt }, job) => {
    const dispatch = await ctx.store.findDispatch(dispatchUuid);
    if (!dispatch) return { done: {} };
    // A follow-up of this step due no later than the timer happens first: let it be decided first
    // (after downtime, or within one claimed batch, both can be due at once).
    const messageUuid = dispatch.state.steps[step]?.messageUuid;
    // Usually it is running and done within a turn of the event loop; the wait grows if not.
    if (messageUuid && (await ctx.store.hasDueJob(followUpsKey(messageUuid), dueAt))) {
      return { retryAt: ctx.clock.now() + conflictBackoffMs(job.attempts), error: 'waiting for an earlier follow-up of the step', quiet: true };
    }
    // Decided now, not at its due time: after downtime the next step starts when it is sent.
    const { change } = await advanceDispatch(ctx, dispatch, [{ event: { type: 'timer', step, timer }, at: ctx.clock.now() }]);
    return { done: change };
  });
}
