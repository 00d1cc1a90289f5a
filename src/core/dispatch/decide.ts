import { advances, isFailure, type MessageError } from '../message-status.js';
import type {
  ConditionStatus,
  Decision,
  DispatchCommand,
  DispatchEvent,
  DispatchSettings,
  DispatchState,
  StepOutcome,
  StepPlan,
  StepProgress,
  TimerKind,
} from './types.js';

type StatusEvent = Extract<DispatchEvent, { type: 'status' }>;

/**
 * The failover workflow (DESIGN §3 "Step outcome") as a pure function of (state, event, now).
 *
 * Reading guide: `decide` copies the state once into a private `draft`, then hands it to one
 * small handler per event. Handlers change the draft freely and return the commands the change
 * implies; the caller's state is never touched.
 *
 * Decisions worth knowing:
 * - A step is "current" only while the dispatch runs. Anything about another step, or arriving
 *   after the end, never moves the workflow; such events come back with `ignored: true`.
 * - Late statuses (for a step left behind, or any step once the dispatch ended) still update
 *   that step's recorded `messageStatus` (it only moves forward) and each one adds 1 to
 *   `lateReceipts`. Only `status` events count: a late `submitted` is our own send's answer,
 *   not a receipt from the handset, so it is recorded (`submittedAt`) but not counted.
 * - So `ignored: true` means "the workflow did not move"; the state may still carry that
 *   bookkeeping, and the caller should commit it when it differs from what it read.
 * - The expiry clock starts at the first proof that the provider accepted the message: the
 *   `submitted` event, or a receipt that beat it (a DLR can arrive before the submit response).
 * - Leaving a step always cancels its timers, even the one that just fired: one rule, no cases.
 * - A timer is trusted to fire at its due time; it is acted on only if its step is current and
 *   the reason it was set for still holds (a `send-window` after submission is stale).
 */

/** A dispatch that has been accepted but whose first step has not been started yet. */
export function initialState(plan: readonly StepPlan[]): DispatchState {
  if (plan.length === 0) throw new RangeError('a dispatch needs at least one step');
  plan.forEach((step, index) => {
    if (index < plan.length - 1 && step.condition === undefined) {
      throw new RangeError(`step ${index} is not the last one and has no failover condition`);
    }
  });
  return { status: 'running', plan, current: 0, steps: [], lateReceipts: 0 };
}

export function decide(
  state: DispatchState,
  event: DispatchEvent,
  now: number,
  settings: DispatchSettings,
): Decision {
  // One deep copy per event: a plan has at most 10 steps, and the shell may write into the
  // returned steps (messageUuid), so the result must share nothing with the input.
  const draft = structuredClone(state) as DispatchState;
  switch (event.type) {
    case 'start':
      return onStart(draft, now, settings);
    case 'submitted':
      return onSubmitted(draft, event.step, now);
    case 'status':
      return onStatus(draft, event, now, settings);
    case 'send-failed':
      return onSendFailed(draft, event.step, event.error, now, settings);
    case 'timer':
      return onTimer(draft, event.step, event.timer, now, settings);
    default:
      return assertNever(event);
  }
}

// ---------------------------------------------------------------------------------------------
// Event handlers: one per event type.

function onStart(draft: DispatchState, now: number, settings: DispatchSettings): Decision {
  // Step 0 was sent already: a repeated start changes nothing.
  if (draft.steps.length > 0) return ignored(draft);
  return moved(draft, startStep(draft, 0, now, settings));
}

function onSubmitted(draft: DispatchState, step: number, now: number): Decision {
  const progress = runningStep(draft, step);
  if (progress === undefined) return recordLateSubmission(draft, step, now);
  // A duplicate answer, or a receipt already proved submission and started the clock.
  if (progress.submittedAt !== undefined) return ignored(draft);
  return moved(draft, markSubmitted(draft, step, now));
}

function onStatus(
  draft: DispatchState,
  event: StatusEvent,
  now: number,
  settings: DispatchSettings,
): Decision {
  const progress = runningStep(draft, event.step);
  if (progress === undefined) return recordLateStatus(draft, event.step, event.status);
  if (expiredBy(draft, event.step, now)) {
    // The window closed before this receipt happened: the expiry comes first, whichever of the
    // two a worker got to first (after downtime or a backlog both are overdue at once).
    const expired = advance(draft, { kind: 'expired' }, now, settings);
    recordLateStatus(draft, event.step, event.status);
    return expired;
  }
  // Duplicates and out-of-order receipts never move a message backwards.
  if (!advances(progress.messageStatus, event.status)) return ignored(draft);

  const status = event.status;
  progress.messageStatus = status;
  if (isFailure(status)) {
    return failStep(draft, failedOutcome(status, event.error), now, settings);
  }
  if (isLastStep(draft, event.step)) {
    return endDispatch(draft, 'completed', { kind: 'delivered', status }, now);
  }
  if (satisfies(status, conditionOf(draft, event.step).status)) {
    return endDispatch(draft, 'completed', { kind: 'condition-met', status }, now);
  }
  // Progress short of the condition ('delivered' while waiting for 'read'). If it beat the
  // submit response, it is the first proof of submission: start the expiry clock now.
  const commands = progress.submittedAt === undefined ? markSubmitted(draft, event.step, now) : [];
  return moved(draft, commands);
}

function onSendFailed(
  draft: DispatchState,
  step: number,
  error: MessageError,
  now: number,
  settings: DispatchSettings,
): Decision {
  const progress = runningStep(draft, step);
  if (progress === undefined) return ignored(draft);
  // Once the provider accepted the message, a send error can only come from a duplicate send
  // attempt: the accepted message stands and its receipts decide.
  if (progress.messageStatus !== 'queued') return ignored(draft);
  // The message was refused when sent: that is what its status reports, too.
  progress.messageStatus = 'rejected';
  return failStep(draft, { kind: 'send-failed', error }, now, settings);
}

function onTimer(
  draft: DispatchState,
  step: number,
  timer: TimerKind,
  now: number,
  settings: DispatchSettings,
): Decision {
  const progress = runningStep(draft, step);
  // Stale: its step was left, or the dispatch ended (cancel-timers is only an optimisation).
  if (progress === undefined) return ignored(draft);
  const last = isLastStep(draft, step);
  switch (timer) {
    case 'send-window':
      // Only meaningful while the provider has not accepted the message.
      if (last || progress.messageStatus !== 'queued') return ignored(draft);
      // The shell stops sending it: the message ends rejected.
      progress.messageStatus = 'rejected';
      return advance(draft, { kind: 'not-submitted' }, now, settings);
    case 'expiry':
      // Still running on this step means the condition was not met (meeting it ends the dispatch).
      if (last) return ignored(draft);
      return advance(draft, { kind: 'expired' }, now, settings);
    case 'ceiling':
      if (!last) return ignored(draft);
      if (progress.messageStatus === 'queued') progress.messageStatus = 'rejected';
      return endDispatch(draft, 'error', { kind: 'ceiling' }, now);
    default:
      return assertNever(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Late events: recorded for the timeline and the final report, never reviving a step.

/** Whether a non-last step's condition window (from submission, expiry_time long) closed before `now`. */
function expiredBy(draft: DispatchState, step: number, now: number): boolean {
  const submittedAt = draft.steps[step]?.submittedAt;
  return !isLastStep(draft, step) && submittedAt !== undefined && now > submittedAt + expiryMs(draft, step);
}

function recordLateStatus(draft: DispatchState, step: number, status: StatusEvent['status']): Decision {
  const progress = leftBehind(draft, step);
  if (progress === undefined) return ignored(draft); // a step never started
  draft.lateReceipts += 1;
  if (advances(progress.messageStatus, status)) progress.messageStatus = status;
  return ignored(draft);
}

function recordLateSubmission(draft: DispatchState, step: number, now: number): Decision {
  const progress = leftBehind(draft, step);
  if (progress !== undefined && progress.submittedAt === undefined) {
    progress.submittedAt = now;
    if (progress.messageStatus === 'queued') progress.messageStatus = 'submitted';
  }
  return ignored(draft);
}

// ---------------------------------------------------------------------------------------------
// Transitions.

/** Start a step: send its message and set the one timer that bounds it before submission. */
function startStep(draft: DispatchState, step: number, now: number, settings: DispatchSettings): DispatchCommand[] {
  draft.current = step;
  draft.steps[step] = { startedAt: now, messageStatus: 'queued' };
  // The last step has no expiry, only the ceiling, which runs from its start. Any other step
  // gets expiry_time to be accepted by the provider (transient errors are retried meanwhile).
  const timer: DispatchCommand = isLastStep(draft, step)
    ? { type: 'schedule-timer', step, timer: 'ceiling', dueAt: now + settings.ceilingMs }
    : { type: 'schedule-timer', step, timer: 'send-window', dueAt: now + expiryMs(draft, step) };
  return [{ type: 'send', step }, timer];
}

/** The provider accepted the step's message: a non-last step's expiry clock starts now. */
function markSubmitted(draft: DispatchState, step: number, now: number): DispatchCommand[] {
  const progress = draft.steps[step] as StepProgress;
  progress.submittedAt = now;
  if (progress.messageStatus === 'queued') progress.messageStatus = 'submitted';
  if (isLastStep(draft, step)) return [];
  // The send window has served its purpose; dropping it saves a stale timer firing later.
  return [
    { type: 'cancel-timers', step },
    { type: 'schedule-timer', step, timer: 'expiry', dueAt: now + expiryMs(draft, step) },
  ];
}

/** A failure moves to the next step at once; on the last step it ends the dispatch. */
function failStep(draft: DispatchState, outcome: StepOutcome, now: number, settings: DispatchSettings): Decision {
  if (isLastStep(draft, draft.current)) return endDispatch(draft, 'error', outcome, now);
  return advance(draft, outcome, now, settings);
}

/** Leave the current (never the last) step and start the next one. */
function advance(draft: DispatchState, outcome: StepOutcome, now: number, settings: DispatchSettings): Decision {
  const left = leaveCurrentStep(draft, outcome, now);
  return moved(draft, [...left, ...startStep(draft, draft.current + 1, now, settings)]);
}

function endDispatch(
  draft: DispatchState,
  status: 'completed' | 'error',
  outcome: StepOutcome,
  now: number,
): Decision {
  const left = leaveCurrentStep(draft, outcome, now);
  draft.status = status;
  draft.endedAt = now;
  return moved(draft, [...left, { type: 'final-report', status }]);
}

function leaveCurrentStep(draft: DispatchState, outcome: StepOutcome, now: number): DispatchCommand[] {
  const progress = draft.steps[draft.current] as StepProgress;
  progress.outcome = outcome;
  progress.endedAt = now;
  return [{ type: 'cancel-timers', step: draft.current }];
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

/** The step's progress if it is the one the running dispatch waits on, else undefined. */
function runningStep(draft: DispatchState, step: number): StepProgress | undefined {
  if (draft.status !== 'running' || step !== draft.current) return undefined;
  return draft.steps[step]; // undefined before `start`
}

/** The step's progress if the workflow is done with it: moved past it, or ended on or after it. */
function leftBehind(draft: DispatchState, step: number): StepProgress | undefined {
  const left = step < draft.current || (draft.status !== 'running' && step === draft.current);
  return left ? draft.steps[step] : undefined;
}

/** `read` implies `delivered`; `delivered` does not imply `read`. */
function satisfies(status: 'delivered' | 'read', condition: ConditionStatus): boolean {
  return status === 'read' || condition === 'delivered';
}

function isLastStep(draft: DispatchState, step: number): boolean {
  return step === draft.plan.length - 1;
}

function conditionOf(draft: DispatchState, step: number): NonNullable<StepPlan['condition']> {
  const condition = draft.plan[step]?.condition;
  if (condition === undefined) throw new Error(`step ${step} has no failover condition`);
  return condition;
}

function expiryMs(draft: DispatchState, step: number): number {
  return conditionOf(draft, step).expirySeconds * 1000;
}

function failedOutcome(status: 'rejected' | 'undeliverable', error: MessageError | undefined): StepOutcome {
  // No `error: undefined` key: the state is stored as JSON and compared in tests.
  return error === undefined ? { kind: 'failed', status } : { kind: 'failed', status, error };
}

function moved(state: DispatchState, commands: DispatchCommand[]): Decision {
  return { state, commands, ignored: false };
}

function ignored(state: DispatchState): Decision {
  return { state, commands: [], ignored: true };
}

function assertNever(value: never): never {
  throw new Error(`unexpected ${JSON.stringify(value)}`);
}
