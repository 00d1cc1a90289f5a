import { randomUUID } from 'node:crypto';
import { addressValue } from '../../core/channel.js';
import { finalReportPayload } from '../../core/dispatch/final-report.js';
import type { Decision, DispatchCommand, DispatchState } from '../../core/dispatch/types.js';
import { messagePrice, type PriceTable } from '../../core/pricing.js';
import type { ChangeSet } from '../../store/store.js';
import type { DispatchRecord, MessageRecord, NewJob } from '../../store/records.js';
import { sendMessageJob } from '../jobs/send-message-job.js';

export const DISPATCH_TIMER_JOB = 'dispatch.timer';

/** Every timer of one step carries this key, so leaving the step can drop them together. */
export const dispatchTimerKey = (dispatchUuid: string, step: number): string => `dispatch:${dispatchUuid}:${step}`;

/**
 * Carries out the commands of a decision as effects in one change set: a step's message and its
 * send job, timers as due-time rows, the final report webhook. Returns the new state with each
 * sent step's message uuid filled in, and the change (without the dispatch row itself, which the
 * caller inserts or updates guarded on its version).
 */
export function decisionEffects(dispatch: DispatchRecord, decision: Decision, now: number, pricing: PriceTable): { state: DispatchState; change: ChangeSet } {
  // decide() returns a state of its own (it clones its input), so the message uuids are written into it.
  const { state } = decision;
  const change: Required<Pick<ChangeSet, 'messages' | 'jobs' | 'cancelJobKeys' | 'webhooks'>> = { messages: [], jobs: [], cancelJobKeys: [], webhooks: [] };

  for (const command of decision.commands) {
    switch (command.type) {
      case 'send': {
        const message = stepMessage(dispatch, command.step, now);
        state.steps[command.step]!.messageUuid = message.uuid;
        change.messages.push(message);
        change.jobs.push(sendMessageJob(message.uuid, now));
        break;
      }
      case 'schedule-timer':
        change.jobs.push(timerJob(dispatch.uuid, command));
        break;
      case 'cancel-timers':
        change.cancelJobKeys.push(dispatchTimerKey(dispatch.uuid, command.step));
        break;
      case 'final-report':
        if (dispatch.statusUrl) change.webhooks.push(finalReportWebhook(dispatch, state, command.status, now, pricing));
        break;
    }
  }
  return { state, change };
}

function stepMessage(dispatch: DispatchRecord, step: number, now: number): MessageRecord {
  const { to, from, message } = dispatch.workflow[step]!;
  return {
    uuid: randomUUID(),
    apiKey: dispatch.apiKey,
    applicationId: dispatch.applicationId,
    direction: 'outbound',
    channel: to.type,
    to,
    from,
    message,
    status: 'queued',
    statusUrl: dispatch.statusUrl,
    dispatchUuid: dispatch.uuid,
    stepIndex: step,
    createdAt: now,
    updatedAt: now,
  };
}

function timerJob(dispatchUuid: string, command: Extract<DispatchCommand, { type: 'schedule-timer' }>): NewJob {
  return {
    kind: DISPATCH_TIMER_JOB,
    key: dispatchTimerKey(dispatchUuid, command.step),
    dueAt: command.dueAt,
    // The due time travels along: a retried job's own due time moves, the timer's instant does not.
    payload: { dispatchUuid, step: command.step, timer: command.timer, dueAt: command.dueAt },
  };
}

function finalReportWebhook(dispatch: DispatchRecord, state: DispatchState, status: 'completed' | 'error', now: number, pricing: PriceTable) {
  const messages = state.steps.flatMap((step, index) => {
    if (!step.messageUuid) return [];
    const { to } = dispatch.workflow[index]!;
    const priced = step.messageStatus === 'delivered' || step.messageStatus === 'read';
    return [
      {
        messageUuid: step.messageUuid,
        channel: to.type,
        status: step.messageStatus,
        ...(priced && { usage: messagePrice(pricing, to.type, addressValue(to)) }),
      },
    ];
  });
  const body = finalReportPayload({ dispatchUuid: dispatch.uuid, status, at: now, messages, dispatchFee: pricing.dispatchFee, currency: pricing.currency });
  return {
    id: randomUUID(),
    apiKey: dispatch.apiKey,
    applicationId: dispatch.applicationId,
    kind: 'dispatch-report' as const,
    url: dispatch.statusUrl!,
    body: JSON.stringify(body),
    state: 'pending' as const,
    attempts: 0,
    createdAt: now,
  };
}
