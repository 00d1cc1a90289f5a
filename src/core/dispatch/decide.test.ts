import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageError } from '../message-status.js';
import { decide, initialState } from './decide.js';
import type {
  Decision,
  DispatchCommand,
  DispatchEvent,
  DispatchState,
  DispatchStatus,
  StepOutcome,
  StepPlan,
  StepProgress,
  TimerKind,
} from './types.js';

// ---------------------------------------------------------------------------------------------
// Vocabulary. Times in the tables are in seconds; the state machine works in milliseconds.

const CEILING_S = 86_400;
const settings = { ceilingMs: CEILING_S * 1000 };

/** The classic: Messenger, failing over to SMS if not read within 600 s. */
const messengerThenSms: readonly StepPlan[] = [
  { channel: 'messenger', condition: { status: 'read', expirySeconds: 600 } },
  { channel: 'sms' },
];
/** Three steps, the middle one only asking for `delivered`. */
const threeSteps: readonly StepPlan[] = [
  { channel: 'messenger', condition: { status: 'read', expirySeconds: 600 } },
  { channel: 'whatsapp', condition: { status: 'delivered', expirySeconds: 60 } },
  { channel: 'sms' },
];
const smsOnly: readonly StepPlan[] = [{ channel: 'sms' }];

const INVALID: MessageError = { code: 1020, reason: 'Invalid params' };
const NOT_IN_NETWORK: MessageError = { code: 1300, reason: 'Not part of the provider network' };
const BAD_TOKEN: MessageError = { code: 1010, reason: 'Invalid token' };

const start: DispatchEvent = { type: 'start' };
const submitted = (step: number): DispatchEvent => ({ type: 'submitted', step });
const delivered = (step: number): DispatchEvent => ({ type: 'status', step, status: 'delivered' });
const read = (step: number): DispatchEvent => ({ type: 'status', step, status: 'read' });
const rejected = (step: number, error = INVALID): DispatchEvent => ({ type: 'status', step, status: 'rejected', error });
const undeliverable = (step: number, error = NOT_IN_NETWORK): DispatchEvent => ({
  type: 'status',
  step,
  status: 'undeliverable',
  error,
});
const sendFailed = (step: number, error = BAD_TOKEN): DispatchEvent => ({ type: 'send-failed', step, error });
const timer = (step: number, kind: TimerKind): DispatchEvent => ({ type: 'timer', step, timer: kind });

type Timed = readonly [atSeconds: number, event: DispatchEvent];

// ---------------------------------------------------------------------------------------------
// Running a sequence, and describing the result in a line per item.

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Feeds the events in order; every input state is deep-frozen, so a mutation throws. */
function run(plan: readonly StepPlan[], events: readonly Timed[]): { state: DispatchState; decisions: Decision[] } {
  let state = initialState(plan);
  const decisions: Decision[] = [];
  for (const [at, event] of events) {
    const decision = decide(deepFreeze(structuredClone(state)), event, at * 1000, settings);
    decisions.push(decision);
    state = decision.state;
  }
  return { state, decisions };
}

function describeCommand(command: DispatchCommand): string {
  switch (command.type) {
    case 'send':
      return `send ${command.step}`;
    case 'schedule-timer':
      return `timer ${command.step} ${command.timer} @${command.dueAt / 1000}s`;
    case 'cancel-timers':
      return `cancel ${command.step}`;
    case 'final-report':
      return `report ${command.status}`;
  }
}

function describeOutcome(outcome: StepOutcome | undefined): string {
  if (outcome === undefined) return 'pending';
  const status = 'status' in outcome ? `(${outcome.status})` : '';
  const error = 'error' in outcome && outcome.error !== undefined ? `[${outcome.error.code}]` : '';
  return `${outcome.kind}${status}${error}`;
}

/** "<latest message status>, <outcome>", e.g. "read, condition-met(read)" or "queued, pending". */
function describeStep(step: StepProgress): string {
  return `${step.messageStatus}, ${describeOutcome(step.outcome)}`;
}

interface Case {
  name: string;
  plan: readonly StepPlan[];
  events: Timed[];
  status: DispatchStatus;
  current: number;
  /** One line per started step (see describeStep). */
  steps: string[];
  /** The commands of the last event. */
  last: string[];
  /** Whether the last event left the workflow where it was (default false). */
  ignored?: boolean;
  lateReceipts?: number;
}

function check(c: Case): void {
  const { state, decisions } = run(c.plan, c.events);
  const lastDecision = decisions.at(-1) as Decision;
  assert.deepEqual(
    {
      status: state.status,
      current: state.current,
      steps: state.steps.map(describeStep),
      last: lastDecision.commands.map(describeCommand),
      ignored: lastDecision.ignored,
      lateReceipts: state.lateReceipts,
    },
    {
      status: c.status,
      current: c.current,
      steps: c.steps,
      last: c.last,
      ignored: c.ignored ?? false,
      lateReceipts: c.lateReceipts ?? 0,
    },
    c.name,
  );
}

function table(title: string, cases: Case[]): void {
  for (const c of cases) test(`${title}: ${c.name}`, () => check(c));
}

// ---------------------------------------------------------------------------------------------
// Tables. Step 0 of the two-step plan starts at 0 s; its send window is 600 s, and once submitted
// at 5 s its expiry is due at 605 s.

table('start', [
  {
    name: 'sends step 0 and bounds it by a send window of expiry_time',
    plan: messengerThenSms,
    events: [[0, start]],
    status: 'running',
    current: 0,
    steps: ['queued, pending'],
    last: ['send 0', 'timer 0 send-window @600s'],
  },
  {
    name: 'a single-step workflow gets the ceiling instead',
    plan: smsOnly,
    events: [[0, start]],
    status: 'running',
    current: 0,
    steps: ['queued, pending'],
    last: ['send 0', `timer 0 ceiling @${CEILING_S}s`],
  },
  {
    name: 'a second start (the start job ran twice) is ignored',
    plan: messengerThenSms,
    events: [[0, start], [1, start]],
    status: 'running',
    current: 0,
    steps: ['queued, pending'],
    last: [],
    ignored: true,
  },
]);

table('submitted', [
  {
    name: 'starts the expiry clock at submission, not at the start of the step',
    plan: messengerThenSms,
    events: [[0, start], [5, submitted(0)]],
    status: 'running',
    current: 0,
    steps: ['submitted, pending'],
    last: ['cancel 0', 'timer 0 expiry @605s'],
  },
  {
    name: 'a late submit response still measures from itself',
    plan: messengerThenSms,
    events: [[0, start], [500, submitted(0)]],
    status: 'running',
    current: 0,
    steps: ['submitted, pending'],
    last: ['cancel 0', 'timer 0 expiry @1100s'],
  },
  {
    name: 'a duplicate submitted schedules nothing more',
    plan: messengerThenSms,
    events: [[0, start], [5, submitted(0)], [7, submitted(0)]],
    status: 'running',
    current: 0,
    steps: ['submitted, pending'],
    last: [],
    ignored: true,
  },
  {
    name: 'on the last step it schedules nothing (the ceiling runs from the start)',
    plan: smsOnly,
    events: [[0, start], [5, submitted(0)]],
    status: 'running',
    current: 0,
    steps: ['submitted, pending'],
    last: [],
  },
  {
    name: 'for a step never started it is ignored',
    plan: messengerThenSms,
    events: [[0, start], [5, submitted(1)]],
    status: 'running',
    current: 0,
    steps: ['queued, pending'],
    last: [],
    ignored: true,
  },
]);

table('condition', [
  {
    name: 'read meets read: completed, and the SMS is never sent',
    plan: messengerThenSms,
    events: [[0, start], [5, submitted(0)], [10, delivered(0)], [20, read(0)]],
    status: 'completed',
    current: 0,
    steps: ['read, condition-met(read)'],
    last: ['cancel 0', 'report completed'],
  },
  {
    name: 'delivered is not enough for read',
    plan: messengerThenSms,
    events: [[0, start], [5, submitted(0)], [10, delivered(0)]],
    status: 'running',
    current: 0,
    steps: ['delivered, pending'],
    last: [],
  },
  {
    name: 'delivered but not read by the expiry: on to the SMS',
    plan: messengerThenSms,
    events: [[0, start], [5, submitted(0)], [10, delivered(0)], [605, timer(0, 'expiry')]],
    status: 'running',
    current: 1,
    steps: ['delivered, expired', 'queued, pending'],
    last: ['cancel 0', 'send 1', `timer 1 ceiling @${605 + CEILING_S}s`],
  },
  {
    name: 'a duplicate delivered while waiting for read changes nothing',
    plan: messengerThenSms,
    events: [[0, start], [5, submitted(0)], [10, delivered(0)], [11, delivered(0)]],
    status: 'running',
    current: 0,
    steps: ['delivered, pending'],
    last: [],
    ignored: true,
  },
  {
    name: 'read satisfies delivered',
    plan: threeSteps,
    events: [[0, start], [5, submitted(0)], [605, timer(0, 'expiry')], [606, submitted(1)], [610, read(1)]],
    status: 'completed',
    current: 1,
    steps: ['submitted, expired', 'read, condition-met(read)'],
    last: ['cancel 1', 'report completed'],
  },
  {
    name: 'delivered meets delivered',
    plan: threeSteps,
    events: [[0, start], [5, submitted(0)], [605, timer(0, 'expiry')], [606, submitted(1)], [610, delivered(1)]],
    status: 'completed',
    current: 1,
    steps: ['submitted, expired', 'delivered, condition-met(delivered)'],
    last: ['cancel 1', 'report completed'],
  },
  {
    name: 'a read that beats the submit response still meets the condition',
    plan: messengerThenSms,
    events: [[0, start], [3, read(0)]],
    status: 'completed',
    current: 0,
    steps: ['read, condition-met(read)'],
    last: ['cancel 0', 'report completed'],
  },
  {
    name: 'a delivered that beats the submit response starts the expiry clock',
    plan: messengerThenSms,
    events: [[0, start], [3, delivered(0)]],
    status: 'running',
    current: 0,
    steps: ['delivered, pending'],
    last: ['cancel 0', 'timer 0 expiry @603s'],
  },
  {
    name: '… and the submit response that follows schedules no second expiry',
    plan: messengerThenSms,
    events: [[0, start], [3, delivered(0)], [4, submitted(0)]],
    status: 'running',
    current: 0,
    steps: ['delivered, pending'],
    last: [],
    ignored: true,
  },
]);

table('immediate failover', [
  {
    name: 'rejected: the next step is sent at once, without waiting for the expiry',
    plan: messengerThenSms,
    events: [[0, start], [5, submitted(0)], [6, rejected(0)]],
    status: 'running',
    current: 1,
    steps: ['rejected, failed(rejected)[1020]', 'queued, pending'],
    last: ['cancel 0', 'send 1', `timer 1 ceiling @${6 + CEILING_S}s`],
  },
  {
    name: 'undeliverable: the next step is sent at once with its own send window',
    plan: threeSteps,
    events: [[0, start], [5, submitted(0)], [30, undeliverable(0)]],
    status: 'running',
    current: 1,
    steps: ['undeliverable, failed(undeliverable)[1300]', 'queued, pending'],
    last: ['cancel 0', 'send 1', 'timer 1 send-window @90s'],
  },
  {
    name: 'a rejected that beats the submit response fails the step just the same',
    plan: messengerThenSms,
    events: [[0, start], [1, rejected(0)]],
    status: 'running',
    current: 1,
    steps: ['rejected, failed(rejected)[1020]', 'queued, pending'],
    last: ['cancel 0', 'send 1', `timer 1 ceiling @${1 + CEILING_S}s`],
  },
  {
    name: 'a rejected without an error object is still a failure',
    plan: messengerThenSms,
    events: [[0, start], [5, submitted(0)], [6, { type: 'status', step: 0, status: 'rejected' }]],
    status: 'running',
    current: 1,
    steps: ['rejected, failed(rejected)', 'queued, pending'],
    last: ['cancel 0', 'send 1', `timer 1 ceiling @${6 + CEILING_S}s`],
  },
  {
    name: 'a permanent send error: the next step at once',
    plan: messengerThenSms,
    events: [[0, start], [1, sendFailed(0)]],
    status: 'running',
    current: 1,
    steps: ['rejected, send-failed[1010]', 'queued, pending'],
    last: ['cancel 0', 'send 1', `timer 1 ceiling @${1 + CEILING_S}s`],
  },
  {
    name: 'a send error after submission comes from a duplicate attempt and is ignored',
    plan: messengerThenSms,
    events: [[0, start], [5, submitted(0)], [6, sendFailed(0)]],
    status: 'running',
    current: 0,
    steps: ['submitted, pending'],
    last: [],
    ignored: true,
  },
  {
    name: 'failures chain through every step down to the last',
    plan: threeSteps,
    events: [[0, start], [1, rejected(0)], [2, sendFailed(1)]],
    status: 'running',
    current: 2,
    steps: ['rejected, failed(rejected)[1020]', 'rejected, send-failed[1010]', 'queued, pending'],
    last: ['cancel 1', 'send 2', `timer 2 ceiling @${2 + CEILING_S}s`],
  },
]);

table('send window', [
  {
    name: 'fires when the provider never accepted the message',
    plan: messengerThenSms,
    events: [[0, start], [600, timer(0, 'send-window')]],
    status: 'running',
    current: 1,
    steps: ['rejected, not-submitted', 'queued, pending'],
    last: ['cancel 0', 'send 1', `timer 1 ceiling @${600 + CEILING_S}s`],
  },
  {
    name: 'is stale once the message was submitted',
    plan: messengerThenSms,
    events: [[0, start], [5, submitted(0)], [600, timer(0, 'send-window')]],
    status: 'running',
    current: 0,
    steps: ['submitted, pending'],
    last: [],
    ignored: true,
  },
  {
    name: 'is stale once a receipt proved submission',
    plan: messengerThenSms,
    events: [[0, start], [3, delivered(0)], [600, timer(0, 'send-window')]],
    status: 'running',
    current: 0,
    steps: ['delivered, pending'],
    last: [],
    ignored: true,
  },
  {
    name: 'never applies to the last step',
    plan: smsOnly,
    events: [[0, start], [600, timer(0, 'send-window')]],
    status: 'running',
    current: 0,
    steps: ['queued, pending'],
    last: [],
    ignored: true,
  },
]);

table('expiry', [
  {
    name: 'submitted but never delivered: on to the next step',
    plan: threeSteps,
    events: [[0, start], [5, submitted(0)], [605, timer(0, 'expiry')]],
    status: 'running',
    current: 1,
    steps: ['submitted, expired', 'queued, pending'],
    last: ['cancel 0', 'send 1', 'timer 1 send-window @665s'],
  },
  {
    name: 'the next step measures its own expiry from its own submission',
    plan: threeSteps,
    events: [[0, start], [5, submitted(0)], [605, timer(0, 'expiry')], [607, submitted(1)]],
    status: 'running',
    current: 1,
    steps: ['submitted, expired', 'submitted, pending'],
    last: ['cancel 1', 'timer 1 expiry @667s'],
  },
  {
    name: 'two expiries in a row reach the last step',
    plan: threeSteps,
    events: [[0, start], [5, submitted(0)], [605, timer(0, 'expiry')], [607, submitted(1)], [667, timer(1, 'expiry')]],
    status: 'running',
    current: 2,
    steps: ['submitted, expired', 'submitted, expired', 'queued, pending'],
    last: ['cancel 1', 'send 2', `timer 2 ceiling @${667 + CEILING_S}s`],
  },
  {
    name: 'never applies to the last step',
    plan: smsOnly,
    events: [[0, start], [5, submitted(0)], [605, timer(0, 'expiry')]],
    status: 'running',
    current: 0,
    steps: ['submitted, pending'],
    last: [],
    ignored: true,
  },
]);

table('last step', [
  {
    name: 'delivered: completed',
    plan: messengerThenSms,
    events: [[0, start], [5, submitted(0)], [605, timer(0, 'expiry')], [606, submitted(1)], [610, delivered(1)]],
    status: 'completed',
    current: 1,
    steps: ['submitted, expired', 'delivered, delivered(delivered)'],
    last: ['cancel 1', 'report completed'],
  },
  {
    name: 'read: completed',
    plan: smsOnly,
    events: [[0, start], [1, submitted(0)], [2, read(0)]],
    status: 'completed',
    current: 0,
    steps: ['read, delivered(read)'],
    last: ['cancel 0', 'report completed'],
  },
  {
    name: 'delivered before the submit response: completed',
    plan: smsOnly,
    events: [[0, start], [1, delivered(0)]],
    status: 'completed',
    current: 0,
    steps: ['delivered, delivered(delivered)'],
    last: ['cancel 0', 'report completed'],
  },
  {
    name: 'undeliverable: error',
    plan: messengerThenSms,
    events: [[0, start], [1, rejected(0)], [2, submitted(1)], [9, undeliverable(1)]],
    status: 'error',
    current: 1,
    steps: ['rejected, failed(rejected)[1020]', 'undeliverable, failed(undeliverable)[1300]'],
    last: ['cancel 1', 'report error'],
  },
  {
    name: 'rejected: error',
    plan: smsOnly,
    events: [[0, start], [1, submitted(0)], [2, rejected(0)]],
    status: 'error',
    current: 0,
    steps: ['rejected, failed(rejected)[1020]'],
    last: ['cancel 0', 'report error'],
  },
  {
    name: 'permanent send error: error',
    plan: smsOnly,
    events: [[0, start], [1, sendFailed(0)]],
    status: 'error',
    current: 0,
    steps: ['rejected, send-failed[1010]'],
    last: ['cancel 0', 'report error'],
  },
  {
    name: 'no final status within the ceiling: error',
    plan: smsOnly,
    events: [[0, start], [1, submitted(0)], [CEILING_S, timer(0, 'ceiling')]],
    status: 'error',
    current: 0,
    steps: ['submitted, ceiling'],
    last: ['cancel 0', 'report error'],
  },
  {
    name: 'the ceiling also ends a step that was never submitted',
    plan: messengerThenSms,
    events: [[0, start], [600, timer(0, 'send-window')], [600 + CEILING_S, timer(1, 'ceiling')]],
    status: 'error',
    current: 1,
    steps: ['rejected, not-submitted', 'rejected, ceiling'],
    last: ['cancel 1', 'report error'],
  },
  {
    name: 'a ceiling timer for a non-last step is ignored',
    plan: messengerThenSms,
    events: [[0, start], [5, submitted(0)], [9, timer(0, 'ceiling')]],
    status: 'running',
    current: 0,
    steps: ['submitted, pending'],
    last: [],
    ignored: true,
  },
]);

table('stale timers', [
  {
    name: 'expiry after completion',
    plan: messengerThenSms,
    events: [[0, start], [5, submitted(0)], [20, read(0)], [605, timer(0, 'expiry')]],
    status: 'completed',
    current: 0,
    steps: ['read, condition-met(read)'],
    last: [],
    ignored: true,
  },
  {
    name: 'send window of a step already left',
    plan: messengerThenSms,
    events: [[0, start], [1, rejected(0)], [600, timer(0, 'send-window')]],
    status: 'running',
    current: 1,
    steps: ['rejected, failed(rejected)[1020]', 'queued, pending'],
    last: [],
    ignored: true,
  },
  {
    name: 'expiry of a step already left',
    plan: threeSteps,
    events: [[0, start], [5, submitted(0)], [6, rejected(0)], [7, submitted(1)], [605, timer(0, 'expiry')]],
    status: 'running',
    current: 1,
    steps: ['rejected, failed(rejected)[1020]', 'submitted, pending'],
    last: [],
    ignored: true,
  },
  {
    name: 'ceiling after an error',
    plan: smsOnly,
    events: [[0, start], [1, rejected(0)], [CEILING_S, timer(0, 'ceiling')]],
    status: 'error',
    current: 0,
    steps: ['rejected, failed(rejected)[1020]'],
    last: [],
    ignored: true,
  },
  {
    name: 'a timer for a step never started',
    plan: messengerThenSms,
    events: [[0, start], [CEILING_S, timer(1, 'ceiling')]],
    status: 'running',
    current: 0,
    steps: ['queued, pending'],
    last: [],
    ignored: true,
  },
  {
    name: 'a timer before the start',
    plan: messengerThenSms,
    events: [[600, timer(0, 'send-window')]],
    status: 'running',
    current: 0,
    steps: [],
    last: [],
    ignored: true,
  },
]);

table('races resolve one way only', [
  {
    name: 'read, then the expiry at the same instant: completed',
    plan: messengerThenSms,
    events: [[0, start], [5, submitted(0)], [605, read(0)], [605, timer(0, 'expiry')]],
    status: 'completed',
    current: 0,
    steps: ['read, condition-met(read)'],
    last: [],
    ignored: true,
  },
  {
    name: 'the expiry, then the read at the same instant: failed over, the read is late',
    plan: messengerThenSms,
    events: [[0, start], [5, submitted(0)], [605, timer(0, 'expiry')], [605, read(0)]],
    status: 'running',
    current: 1,
    steps: ['read, expired', 'queued, pending'],
    last: [],
    ignored: true,
    lateReceipts: 1,
  },
  {
    name: 'a read that happened after the window, decided before the overdue expiry: failed over, the read is late',
    plan: messengerThenSms,
    events: [[0, start], [5, submitted(0)], [606, read(0)]],
    status: 'running',
    current: 1,
    steps: ['read, expired', 'queued, pending'],
    last: ['cancel 0', 'send 1', `timer 1 ceiling @${606 + CEILING_S}s`],
    lateReceipts: 1,
  },
  {
    name: '…and the overdue expiry that follows it is stale',
    plan: messengerThenSms,
    events: [[0, start], [5, submitted(0)], [606, read(0)], [606, timer(0, 'expiry')]],
    status: 'running',
    current: 1,
    steps: ['read, expired', 'queued, pending'],
    last: [],
    ignored: true,
    lateReceipts: 1,
  },
  {
    name: 'rejected, then the send window: failed over once',
    plan: messengerThenSms,
    events: [[0, start], [600, rejected(0)], [600, timer(0, 'send-window')]],
    status: 'running',
    current: 1,
    steps: ['rejected, failed(rejected)[1020]', 'queued, pending'],
    last: [],
    ignored: true,
  },
  {
    name: 'the send window, then rejected: failed over once, the rejection is late',
    plan: messengerThenSms,
    events: [[0, start], [600, timer(0, 'send-window')], [600, rejected(0)]],
    status: 'running',
    current: 1,
    steps: ['rejected, not-submitted', 'queued, pending'],
    last: [],
    ignored: true,
    lateReceipts: 1,
  },
  {
    name: 'last step delivered, then the ceiling: completed',
    plan: smsOnly,
    events: [[0, start], [CEILING_S, delivered(0)], [CEILING_S, timer(0, 'ceiling')]],
    status: 'completed',
    current: 0,
    steps: ['delivered, delivered(delivered)'],
    last: [],
    ignored: true,
  },
  {
    name: 'the ceiling, then the last step delivered: error, the delivery is late',
    plan: smsOnly,
    events: [[0, start], [CEILING_S, timer(0, 'ceiling')], [CEILING_S, delivered(0)]],
    status: 'error',
    current: 0,
    steps: ['rejected, ceiling'],
    last: [],
    ignored: true,
    lateReceipts: 1,
  },
]);

table('late receipts', [
  {
    name: 'a late delivered for a left step is counted and recorded, and completes nothing',
    plan: threeSteps,
    events: [
      [0, start],
      [5, submitted(0)],
      [605, timer(0, 'expiry')],
      [606, submitted(1)],
      [666, timer(1, 'expiry')],
      [700, delivered(1)],
    ],
    status: 'running',
    current: 2,
    steps: ['submitted, expired', 'delivered, expired', 'queued, pending'],
    last: [],
    ignored: true,
    lateReceipts: 1,
  },
  {
    name: 'a late read for step 0 after moving to step 1 does not complete',
    plan: messengerThenSms,
    events: [[0, start], [5, submitted(0)], [605, timer(0, 'expiry')], [700, delivered(0)], [800, read(0)]],
    status: 'running',
    current: 1,
    steps: ['read, expired', 'queued, pending'],
    last: [],
    ignored: true,
    lateReceipts: 2,
  },
  {
    name: 'a late status never moves the recorded status backwards, but still counts',
    plan: messengerThenSms,
    events: [[0, start], [5, submitted(0)], [605, timer(0, 'expiry')], [700, read(0)], [701, delivered(0)]],
    status: 'running',
    current: 1,
    steps: ['read, expired', 'queued, pending'],
    last: [],
    ignored: true,
    lateReceipts: 2,
  },
  {
    name: 'a status after the dispatch ended is late, even for the step it ended on',
    plan: messengerThenSms,
    events: [[0, start], [5, read(0)], [6, delivered(0)], [7, submitted(0)]],
    status: 'completed',
    current: 0,
    steps: ['read, condition-met(read)'],
    last: [],
    ignored: true,
    lateReceipts: 1,
  },
  {
    name: 'a status for a step never started is not a late receipt',
    plan: messengerThenSms,
    events: [[0, start], [5, delivered(1)], [6, read(7)], [7, rejected(-1)]],
    status: 'running',
    current: 0,
    steps: ['queued, pending'],
    last: [],
    ignored: true,
  },
  {
    name: 'a status before the start is ignored',
    plan: messengerThenSms,
    events: [[0, delivered(0)]],
    status: 'running',
    current: 0,
    steps: [],
    last: [],
    ignored: true,
  },
  {
    name: 'a late submitted is recorded but not counted (it is not a receipt)',
    plan: messengerThenSms,
    events: [[0, start], [600, timer(0, 'send-window')], [601, submitted(0)]],
    status: 'running',
    current: 1,
    steps: ['rejected, not-submitted', 'queued, pending'],
    last: [],
    ignored: true,
  },
  {
    name: 'a send error for a left step is ignored',
    plan: messengerThenSms,
    events: [[0, start], [600, timer(0, 'send-window')], [601, sendFailed(0)]],
    status: 'running',
    current: 1,
    steps: ['rejected, not-submitted', 'queued, pending'],
    last: [],
    ignored: true,
  },
]);

// ---------------------------------------------------------------------------------------------
// Whole runs: every command, in order.

test('trace: Messenger not read within 600 s, so the SMS goes out and is delivered', () => {
  const { decisions, state } = run(messengerThenSms, [
    [0, start],
    [2, submitted(0)],
    [4, delivered(0)],
    [602, timer(0, 'expiry')],
    [603, submitted(1)],
    [605, delivered(1)],
    [900, read(0)],
  ]);
  assert.deepEqual(decisions.map((d) => d.commands.map(describeCommand)), [
    ['send 0', 'timer 0 send-window @600s'],
    ['cancel 0', 'timer 0 expiry @602s'],
    [],
    ['cancel 0', 'send 1', `timer 1 ceiling @${602 + CEILING_S}s`],
    [],
    ['cancel 1', 'report completed'],
    [],
  ]);
  assert.deepEqual(decisions.map((d) => d.ignored), [false, false, false, false, false, false, true]);
  assert.deepEqual(state, {
    status: 'completed',
    plan: messengerThenSms,
    current: 1,
    steps: [
      { startedAt: 0, submittedAt: 2_000, messageStatus: 'read', outcome: { kind: 'expired' }, endedAt: 602_000 },
      {
        startedAt: 602_000,
        submittedAt: 603_000,
        messageStatus: 'delivered',
        outcome: { kind: 'delivered', status: 'delivered' },
        endedAt: 605_000,
      },
    ],
    lateReceipts: 1,
    endedAt: 605_000,
  });
});

test('trace: Messenger read in time, the SMS is never sent', () => {
  const { decisions, state } = run(messengerThenSms, [
    [0, start],
    [1, submitted(0)],
    [30, read(0)],
    [601, timer(0, 'expiry')],
    [602, timer(0, 'send-window')],
  ]);
  const all = decisions.flatMap((d) => d.commands.map(describeCommand));
  assert.deepEqual(all, ['send 0', 'timer 0 send-window @600s', 'cancel 0', 'timer 0 expiry @601s', 'cancel 0', 'report completed']);
  assert.equal(state.steps.length, 1);
  assert.deepEqual(state.steps[0], {
    startedAt: 0,
    submittedAt: 1_000,
    messageStatus: 'read',
    outcome: { kind: 'condition-met', status: 'read' },
    endedAt: 30_000,
  });
});

// ---------------------------------------------------------------------------------------------
// Purity.

test('initialState: running, nothing started yet', () => {
  assert.deepEqual(initialState(messengerThenSms), {
    status: 'running',
    plan: messengerThenSms,
    current: 0,
    steps: [],
    lateReceipts: 0,
  });
});

test('initialState refuses plans the validator should never let through', () => {
  assert.throws(() => initialState([]), RangeError);
  assert.throws(() => initialState([{ channel: 'messenger' }, { channel: 'sms' }]), RangeError);
});

test('decide never changes its input and shares nothing with its output', () => {
  const before = run(messengerThenSms, [[0, start], [5, submitted(0)]]).state;
  const input = deepFreeze(structuredClone(before));
  const events: DispatchEvent[] = [read(0), rejected(0), timer(0, 'expiry'), submitted(0), delivered(1), start];
  for (const event of events) {
    const { state } = decide(input, event, 9_000, settings);
    assert.deepEqual(input, before);
    assert.notEqual(state, input);
    assert.notEqual(state.steps, input.steps);
    assert.notEqual(state.steps[0], input.steps[0]);
  }
});

// ---------------------------------------------------------------------------------------------
// Property: random event sequences, with a seeded PRNG so a failure is reproducible.

/** mulberry32: tiny, fast, good enough for test data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomPlan(random: () => number): StepPlan[] {
  const length = 1 + Math.floor(random() * 4);
  return Array.from({ length }, (_, i): StepPlan => {
    if (i === length - 1) return { channel: 'sms' };
    const status = random() < 0.5 ? 'read' : 'delivered';
    return { channel: 'messenger', condition: { status, expirySeconds: 15 + Math.floor(random() * 600) } };
  });
}

function randomEvent(random: () => number, planLength: number): DispatchEvent {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const step = Math.floor(random() * (planLength + 1)) - (random() < 0.05 ? 1 : 0); // some out of range
  return pick([
    start,
    submitted(step),
    delivered(step),
    read(step),
    rejected(step),
    undeliverable(step),
    sendFailed(step),
    timer(step, 'send-window'),
    timer(step, 'expiry'),
    timer(step, 'ceiling'),
  ]);
}

/** The invariants of one step of a run; `sends` and the report count are checked over the run. */
function checkTransition(plan: readonly StepPlan[], before: DispatchState, after: DispatchState, commands: DispatchCommand[]): void {
  for (const command of commands) {
    if (command.type === 'final-report') assert.equal(command.status, after.status);
    if (command.type === 'schedule-timer' && command.timer === 'expiry') {
      const expiry = plan[command.step]?.condition?.expirySeconds ?? NaN;
      assert.equal(command.dueAt, (after.steps[command.step]?.submittedAt ?? NaN) + expiry * 1000, 'expiry from submission');
    }
  }
  assert.ok(after.current >= before.current, 'current never decreases');
  assert.ok(after.lateReceipts >= before.lateReceipts, 'lateReceipts never decreases');
  if (before.status !== 'running') {
    assert.equal(after.status, before.status, 'an ended dispatch keeps its status');
    assert.deepEqual(commands, [], 'an ended dispatch commands nothing');
  }
  // Every step before the current one was left with a reason; the current one only once ended.
  after.steps.forEach((step, i) => {
    assert.equal(step.outcome !== undefined, i < after.current || after.status !== 'running', `outcome of step ${i}`);
  });
  if (after.steps.length > 0) assert.equal(after.steps.length, after.current + 1, 'one entry per started step');
}

test('property: random runs keep the invariants', () => {
  const random = prng(20240607);
  const endings = { completed: 0, error: 0, lateReceipts: 0 };
  for (let run = 0; run < 2_000; run++) {
    const plan = randomPlan(random);
    let state = initialState(plan);
    let now = 0;
    const sends = new Map<number, number>();
    let reports = 0;
    const apply = (event: DispatchEvent): void => {
      const before = state;
      const { state: after, commands } = decide(deepFreeze(structuredClone(before)), event, now, settings);
      try {
        checkTransition(plan, before, after, commands);
      } catch (cause) {
        // Stringified only on failure: doing it for every event would dominate the run time.
        throw new Error(`run ${run}: ${JSON.stringify(event)} at ${now} on ${JSON.stringify(before)}`, { cause });
      }
      for (const command of commands) {
        if (command.type === 'send') sends.set(command.step, (sends.get(command.step) ?? 0) + 1);
        if (command.type === 'final-report') reports += 1;
      }
      state = after;
    };

    const length = Math.floor(random() * 25);
    for (let i = 0; i < length; i++) {
      now += Math.floor(random() * 3) * 1000; // the same instant now and then, to race
      apply(randomEvent(random, plan.length));
    }
    // Drain: start if needed, then fire the current step's timers until the dispatch ends.
    apply(start);
    for (let guard = 0; state.status === 'running' && guard < plan.length; guard++) {
      now += settings.ceilingMs;
      for (const kind of ['send-window', 'expiry', 'ceiling'] as const) apply(timer(state.current, kind));
    }

    if (state.status === 'running') assert.fail(`run ${run} did not end`);
    assert.equal(reports, 1, `run ${run}: exactly one final report`);
    for (let i = 0; i < plan.length; i++) {
      assert.equal(sends.get(i) ?? 0, i < state.steps.length ? 1 : 0, `run ${run}: sends of step ${i}`);
    }
    endings[state.status] += 1;
    endings.lateReceipts += state.lateReceipts;
  }
  // The generator must reach every kind of ending, or the invariants above prove little.
  assert.ok(endings.completed > 200 && endings.error > 200 && endings.lateReceipts > 200, JSON.stringify(endings));
});
