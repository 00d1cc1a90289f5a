import type { Caller } from '../../core/caller.js';
import { initialState } from '../../core/dispatch/decide.js';
import { planOf, type DispatchRequest } from '../../core/dispatch/dispatch-request.js';
import type { EngineContext } from '../engine-context.js';
import { advanceDispatch, newDispatch } from './advance-dispatch.js';

/** Starts a workflow: the dispatch, its first step's message, send job and timer commit together. */
export async function acceptDispatch(ctx: EngineContext, caller: Caller, request: DispatchRequest): Promise<string> {
  const at = ctx.clock.now();
  const dispatch = newDispatch(
    { apiKey: caller.apiKey, applicationId: caller.applicationId, statusUrl: caller.targets.statusUrl, workflow: request.workflow, state: initialState(planOf(request)) },
    at,
  );
  const { change } = await advanceDispatch(ctx, dispatch, [{ event: { type: 'start' }, at }]);
  await ctx.store.commit(change);
  return dispatch.uuid;
}
