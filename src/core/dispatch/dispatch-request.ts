/**
 * Validation of a Dispatch request `{template: "failover", workflow: [...]}` (reference §1.3,
 * §1.4, §1.9; DESIGN §3). Each step's to/from/message follows exactly the Messages v0.1 rules.
 */
import type { OutboundMessage } from '../message.js';
import { validateMessageParts } from '../message-rules.js';
import { invalid, valid, type InvalidParameter, type Validation } from '../validation.js';
import type { ConditionStatus, StepPlan } from './types.js';

export const MAX_WORKFLOW_STEPS = 10;
export const EXPIRY_SECONDS = { min: 15, max: 86_400 } as const;
/** What the real API answers to an empty body (reference §1.3, observed). */
export const EMPTY_WORKFLOW_REASON = 'The workflow JSON Object cannot be empty';

export interface WorkflowStep extends Omit<OutboundMessage, 'client_ref'> {
  failover?: { expirySeconds: number; conditionStatus: ConditionStatus };
}

export interface DispatchRequest {
  template: 'failover';
  workflow: WorkflowStep[];
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

export function validateDispatchRequest(body: unknown): Validation<DispatchRequest> {
  if (!isObject(body)) return invalid([{ name: 'body', reason: 'must be a JSON object' }]);
  if (Object.keys(body).length === 0) return invalid([{ name: 'workflow', reason: EMPTY_WORKFLOW_REASON }]);

  const errors: InvalidParameter[] = [];
  if (body.template !== 'failover') errors.push({ name: 'template', reason: body.template === undefined ? 'is required and must be failover' : 'must be failover' });

  const workflow = validateWorkflow(body.workflow, errors);
  return errors.length > 0 || !workflow ? invalid(errors) : valid({ template: 'failover', workflow });
}

function validateWorkflow(value: unknown, errors: InvalidParameter[]): WorkflowStep[] | undefined {
  if (!Array.isArray(value)) {
    errors.push({ name: 'workflow', reason: value === undefined ? 'is required' : 'must be an array of steps' });
    return undefined;
  }
  // `null` entries are ignored: the 2018 Node snippet put its callback inside the array,
  // which JSON.stringify turns into null. Names keep the index the client sent.
  const entries = value.map((step, index) => ({ step, index })).filter(({ step }) => step !== null);
  if (entries.length < 1 || entries.length > MAX_WORKFLOW_STEPS) {
    errors.push({ name: 'workflow', reason: `must hold 1 to ${MAX_WORKFLOW_STEPS} steps` });
    return undefined;
  }
  const steps: WorkflowStep[] = [];
  entries.forEach(({ step, index }, position) => {
    const parsed = validateStep(step, `workflow[${index}]`, position === entries.length - 1);
    if (parsed.ok) steps.push(parsed.value);
    else errors.push(...parsed.errors);
  });
  return steps.length === entries.length ? steps : undefined;
}

function validateStep(step: unknown, path: string, isLast: boolean): Validation<WorkflowStep> {
  if (!isObject(step)) return invalid([{ name: path, reason: 'must be an object with to, from and message' }]);
  const parts = validateMessageParts({ to: step.to, from: step.from, message: step.message }, `${path}.`);
  const errors = parts.ok ? [] : [...parts.errors];
  const channel = parts.ok ? parts.value.to.type : undefined;

  let failover: WorkflowStep['failover'];
  if (isLast) {
    if (step.failover !== undefined && step.failover !== null) errors.push({ name: `${path}.failover`, reason: 'must not be set on the last step' });
  } else {
    failover = validateFailover(step.failover, `${path}.failover`, channel, errors);
  }
  if (!parts.ok || errors.length > 0) return invalid(errors);
  return valid({ ...parts.value, ...(failover && { failover }) });
}

function validateFailover(value: unknown, path: string, channel: string | undefined, errors: InvalidParameter[]): WorkflowStep['failover'] {
  if (!isObject(value)) {
    errors.push({ name: path, reason: value === undefined || value === null ? 'is required on every step but the last' : 'must be an object' });
    return undefined;
  }
  const expirySeconds = parseExpiry(value.expiry_time, `${path}.expiry_time`, errors);
  const conditionStatus = parseCondition(value.condition_status, `${path}.condition_status`, channel, errors);
  return expirySeconds !== undefined && conditionStatus !== undefined ? { expirySeconds, conditionStatus } : undefined;
}

/** An integer 15–86400; a numeric string ("600", as a Vonage use-case doc sends) is accepted. */
function parseExpiry(value: unknown, name: string, errors: InvalidParameter[]): number | undefined {
  const number = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value.trim()) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < EXPIRY_SECONDS.min || number > EXPIRY_SECONDS.max) {
    errors.push({ name, reason: value === undefined ? 'is required' : `must be an integer from ${EXPIRY_SECONDS.min} to ${EXPIRY_SECONDS.max} (seconds)` });
    return undefined;
  }
  return number;
}

/** SMS and MMS have no read receipts, so they may only wait for `delivered`. */
function parseCondition(value: unknown, name: string, channel: string | undefined, errors: InvalidParameter[]): ConditionStatus | undefined {
  if (value !== 'delivered' && value !== 'read') {
    errors.push({ name, reason: value === undefined ? 'is required' : 'must be one of: delivered, read' });
    return undefined;
  }
  if (value === 'read' && (channel === 'sms' || channel === 'mms')) {
    errors.push({ name, reason: `must be delivered for channel ${channel} (it has no read receipts)` });
    return undefined;
  }
  return value;
}

/** The pure core's view of a validated workflow. */
export function planOf(request: DispatchRequest): StepPlan[] {
  return request.workflow.map((step) => ({
    channel: step.to.type,
    ...(step.failover && { condition: { status: step.failover.conditionStatus, expirySeconds: step.failover.expirySeconds } }),
  }));
}
