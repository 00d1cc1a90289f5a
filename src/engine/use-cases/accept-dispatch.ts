import type { Caller } from '../../core/caller.js';
import { OpenDispatchError } from '../../core/errors.js';
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
  // Inserts only, guarded on nothing: a conflict would be a bug in the store.
  if ((await ctx.store.commit(change)) !== 'committed') throw new OpenDispatchError('OD_INTERNAL', `accepting dispatch ${dispatch.uuid} conflicted`);
  return dispatch.uuid;
}
