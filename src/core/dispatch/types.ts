import type { Channel } from '../channel.js';
import type { MessageError } from '../message-status.js';

/**
 * The Dispatch `failover` workflow as a pure state machine. The shell (src/engine/dispatch/)
 * loads the state, feeds one event to `decide`, and commits the new state with the effects of
 * the commands in one transaction, guarded on the version it read.
 */

export type ConditionStatus = 'delivered' | 'read';

/** One step as planned from the request; every step but the last has a condition. */
export interface StepPlan {
  channel: Channel;
  condition?: { status: ConditionStatus; expirySeconds: number };
}

/** What a step's message has reported so far (the highest status, failures being final). */
export type StepMessageStatus = 'queued' | 'submitted' | 'delivered' | 'read' | 'rejected' | 'undeliverable';

/** Why the workflow left a step, or how the last step ended. */
export type StepOutcome =
  | { kind: 'condition-met'; status: ConditionStatus }
  | { kind: 'delivered'; status: 'delivered' | 'read' } // last step succeeded
  | { kind: 'expired' } // condition not reached within expiry_time after submission
  | { kind: 'not-submitted' } // the provider never accepted it within the window
  | { kind: 'failed'; status: 'rejected' | 'undeliverable'; error?: MessageError }
  | { kind: 'send-failed'; error: MessageError } // permanent error when sending
  | { kind: 'ceiling' }; // last step: no final status within the ceiling

export interface StepProgress {
  /** Set by the shell when it carries out the `send` command. */
  messageUuid?: string;
  startedAt: number;
  submittedAt?: number;
  messageStatus: StepMessageStatus;
  outcome?: StepOutcome;
  /** When the workflow moved past this step (or ended on it). */
  endedAt?: number;
}

export type DispatchStatus = 'running' | 'completed' | 'error';

export interface DispatchState {
  status: DispatchStatus;
  plan: readonly StepPlan[];
  /** Index of the step in progress; after the end, the step it ended on. */
  current: number;
  /** One entry per started step, in order. */
  steps: StepProgress[];
  /** Receipts for steps already left behind: recorded and reported, never reviving a step. */
  lateReceipts: number;
  endedAt?: number;
}

export type TimerKind =
  /** A non-last step not submitted within expiry_time of starting (transient send errors). */
  | 'send-window'
  /** A non-last step's condition not reached expiry_time after submission. */
  | 'expiry'
  /** The last step has no final status this long after it started (default 24 h). */
  | 'ceiling';

export type DispatchEvent =
  | { type: 'start' }
  | { type: 'submitted'; step: number }
  | { type: 'status'; step: number; status: 'delivered' | 'read' | 'rejected' | 'undeliverable'; error?: MessageError }
  | { type: 'send-failed'; step: number; error: MessageError }
  | { type: 'timer'; step: number; timer: TimerKind };

export type DispatchCommand =
  /** Create the step's message and its send job (the shell records the uuid in steps[step]). */
  | { type: 'send'; step: number }
  | { type: 'schedule-timer'; step: number; timer: TimerKind; dueAt: number }
  /** Drop the pending timers of a step that was left (an optimisation: stale timers are ignored). */
  | { type: 'cancel-timers'; step: number }
  /** The final report webhook, with the status the dispatch ended in. */
  | { type: 'final-report'; status: 'completed' | 'error' };

export interface Decision {
  state: DispatchState;
  commands: DispatchCommand[];
  /** True when the event changed nothing but a counter (late receipt) or nothing at all. */
  ignored: boolean;
}

export interface DispatchSettings {
  /** Ceiling for the last step, in ms (default 24 h). */
  ceilingMs: number;
}
