import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { EMPTY_WORKFLOW_REASON, validateDispatchRequest } from '../core/dispatch/dispatch-request.js';
import type { StepOutcome, StepPlan } from '../core/dispatch/types.js';
import { isoTimestamp } from '../core/webhook-payloads.js';
import type { DispatchView } from '../engine/use-cases/index.js';
import type { Authenticator } from './authenticate.js';
import { invalidParams, unknownId } from './problem.js';
import type { Services } from './services.js';

export function registerDispatchRoutes(app: FastifyInstance, services: Services, auth: Authenticator): void {
  const { useCases } = services;
  const authenticate = (request: FastifyRequest) => auth.jwtOrBasic(request);

  /** Dispatch v0.1: validated, then the dispatch and its first send commit before the 202. */
  app.post('/v0.1/dispatch', { onRequest: authenticate, errorHandler: emptyBodyAsEmptyWorkflow }, async (request, reply) => {
    const validation = validateDispatchRequest(request.body);
    if (!validation.ok) throw invalidParams(validation.errors);
    const dispatchUuid = await useCases.acceptDispatch(request.caller, validation.value);
    return reply.code(202).send({ dispatch_uuid: dispatchUuid });
  });

  /** An extension: the workflow's state and a timeline of every step. */
  app.get<{ Params: { uuid: string } }>('/v0.1/dispatch/:uuid', { onRequest: authenticate }, async (request) => {
    const view = await useCases.lookUpDispatch(request.caller, request.params.uuid);
    if (!view) throw unknownId('Dispatch', request.params.uuid);
    return dispatchResource(view);
  });
}

/**
 * A zero-byte JSON body fails in Fastify's parser, before the handler: give it the reason the
 * real Dispatch API gives an empty body (reference §1.6), as `{}` gets. Anything else goes on to
 * the app's error handler.
 */
function emptyBodyAsEmptyWorkflow(error: FastifyError): never {
  if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') throw invalidParams([{ name: 'workflow', reason: EMPTY_WORKFLOW_REASON }]);
  throw error;
}

function dispatchResource({ dispatch, stepEvents: events }: DispatchView) {
  const { state } = dispatch;
  return {
    dispatch_uuid: dispatch.uuid,
    template: 'failover',
    status: state.status,
    timestamp: isoTimestamp(dispatch.createdAt),
    ...(state.endedAt !== undefined && { ended_at: isoTimestamp(state.endedAt) }),
    late_receipts: state.lateReceipts,
    workflow: state.plan.map((plan, index) => {
      const step = state.steps[index];
      const { to, from } = dispatch.workflow[index]!;
      return {
        step: index,
        channel: plan.channel,
        to,
        from,
        ...(plan.condition && { failover: { condition_status: plan.condition.status, expiry_time: plan.condition.expirySeconds } }),
        state: !step ? 'not-started' : step.outcome ? 'ended' : 'in-progress',
        ...(step && {
          message_uuid: step.messageUuid,
          started_at: isoTimestamp(step.startedAt),
          ...(step.submittedAt !== undefined && { submitted_at: isoTimestamp(step.submittedAt) }),
          message_status: step.messageStatus,
          statuses: (events[index] ?? []).map((event) => ({
            status: event.status,
            timestamp: isoTimestamp(event.at),
            ...(event.error && { error: event.error }),
          })),
          ...(step.endedAt !== undefined && { ended_at: isoTimestamp(step.endedAt) }),
          ...(step.outcome && { outcome: { ...step.outcome, description: describeOutcome(step.outcome, plan) } }),
        }),
      };
    }),
    _links: { self: { href: `/v0.1/dispatch/${dispatch.uuid}` } },
  };
}

/** Why the workflow moved on from a step, in words for the timeline. */
function describeOutcome(outcome: StepOutcome, plan: StepPlan): string {
  const expiry = plan.condition?.expirySeconds;
  switch (outcome.kind) {
    case 'condition-met':
      return `condition ${plan.condition?.status} met (${outcome.status}): the workflow completed`;
    case 'delivered':
      return `last step ${outcome.status}: the workflow completed`;
    case 'expired':
      return `condition ${plan.condition?.status} not met within ${expiry} s of submission: moved to the next step`;
    case 'not-submitted':
      return `not accepted by the provider within ${expiry} s: moved to the next step`;
    case 'failed':
      return `${outcome.status}${outcome.error ? ` (${outcome.error.code} ${outcome.error.reason})` : ''}: ${plan.condition ? 'moved to the next step at once' : 'the workflow ended in error'}`;
    case 'send-failed':
      return `send failed (${outcome.error.code} ${outcome.error.reason}): ${plan.condition ? 'moved to the next step at once' : 'the workflow ended in error'}`;
    case 'ceiling':
      return 'no final status within the ceiling: the workflow ended in error';
  }
}
