import { randomUUID } from 'node:crypto';
import { decide, initialState } from '../../core/dispatch/decide.js';
import { planOf, type DispatchRequest } from '../../core/dispatch/dispatch-request.js';
import type { DispatchSettings } from '../../core/dispatch/types.js';
import type { PriceTable } from '../../core/pricing.js';
import type { Store } from '../../store/store.js';
import type { DispatchRecord } from '../../store/records.js';
import type { Clock } from '../clock.js';
import { decisionEffects } from './decision-effects.js';

export interface AcceptDispatchDeps {
  store: Store;
  clock: Clock;
  pricing: PriceTable;
  settings: DispatchSettings;
}

export interface DispatchCaller {
  apiKey: string;
  applicationId?: string;
  statusUrl?: string;
}

/** Starts a workflow: the dispatch, its first step's message, send job and timer commit together. */
export async function acceptDispatch(deps: AcceptDispatchDeps, request: DispatchRequest, caller: DispatchCaller): Promise<string> {
  const now = deps.clock.now();
  const dispatch: DispatchRecord = {
    uuid: randomUUID(),
    apiKey: caller.apiKey,
    applicationId: caller.applicationId,
    statusUrl: caller.statusUrl,
    workflow: request.workflow,
    state: initialState(planOf(request)),
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  const decision = decide(dispatch.state, { type: 'start' }, now, deps.settings);
  const { state, change } = decisionEffects(dispatch, decision, now, deps.pricing);
  await deps.store.commit({ ...change, dispatches: [{ ...dispatch, state }] });
  return dispatch.uuid;
}
