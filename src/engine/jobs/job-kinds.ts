import { z } from 'zod';
import { originKey } from '../../core/url.js';
import type { NewJob } from '../../core/records.js';

/**
 * Every kind of job, in one place: its name, the lane that runs it, the shape of its payload
 * and the one factory that makes it. Emitters call the factory; handlers get the payload parsed
 * against the same schema (payloads come back from the database as JSON: checked, never cast).
 */

/**
 * Lanes are separate worker pools over the one job table, so that what waits on the outside
 * world holds only its own slots: webhook POSTs (a receiver may hang for its timeout), sends
 * (a provider may hang), and the engine's own work (timers, follow-ups, housekeeping). Each is
 * sized by the config section of its name (`engine`, `sends`, `webhooks`).
 */
export type Lane = 'engine' | 'sends' | 'webhooks';

export interface JobKind<Payload, Args extends unknown[]> {
  readonly kind: string;
  readonly lane: Lane;
  readonly payload: z.ZodType<Payload>;
  create(...args: Args): NewJob;
}

/** A kind whose factory takes one object describing the job: `sendMessage.create({ messageUuid, provider, dueAt })`. */
function jobKind<Payload extends Record<string, unknown>, Fields>(
  kind: string,
  lane: Lane,
  payload: z.ZodType<Payload>,
  plan: (fields: Fields) => { payload: Payload; dueAt: number; key?: string; tenant?: string },
): JobKind<Payload, [Fields]> {
  return { kind, lane, payload, create: (fields) => ({ kind, lane, ...plan(fields) }) };
}

/** Sends of one provider share a key, and so a share of the sends lane. */
export const providerKey = (provider: string): string => `provider:${provider}`;

/** A message's follow-ups share a key: a timer of its step waits for those due before it. */
export const followUpsKey = (messageUuid: string): string => `follow-ups:${messageUuid}`;

/** Every timer of one step carries this key, so leaving the step can drop them together. */
export const dispatchTimerKey = (dispatchUuid: string, step: number): string => `dispatch:${dispatchUuid}:${step}`;

/** Hand a queued message to its provider. */
export const sendMessage = jobKind(
  'message.send',
  'sends',
  z.object({ messageUuid: z.string() }),
  ({ messageUuid, provider, dueAt }: { messageUuid: string; provider: string; dueAt: number }) => ({ payload: { messageUuid }, dueAt, key: providerKey(provider) }),
);

/** Something a provider said it would report later (the sandbox's scripted receipts) has come due. */
export const providerFollowUp = jobKind(
  'provider.follow-up',
  'engine',
  z.object({ provider: z.string(), providerRef: z.string(), messageUuid: z.string(), at: z.number(), event: z.unknown() }),
  (followUp: { provider: string; providerRef: string; messageUuid: string; at: number; event: object }) => ({
    payload: followUp,
    dueAt: followUp.at,
    key: followUpsKey(followUp.messageUuid),
  }),
);

const timerKinds = z.enum(['send-window', 'expiry', 'ceiling']);

/** A workflow timer (DESIGN §3 "Step outcome"). */
export const dispatchTimer = jobKind(
  'dispatch.timer',
  'engine',
  // The timer's instant travels along: a retried job's own due time moves, the timer's does not.
  z.object({ dispatchUuid: z.string(), step: z.number().int().min(0), timer: timerKinds, dueAt: z.number() }),
  (timer: { dispatchUuid: string; step: number; timer: z.infer<typeof timerKinds>; dueAt: number }) => ({
    payload: timer,
    dueAt: timer.dueAt,
    key: dispatchTimerKey(timer.dispatchUuid, timer.step),
  }),
);

/**
 * POST one stored webhook. Keyed by the receiver's origin and tenanted by its account: each gets
 * a share of the webhook lane, so neither one receiver nor one account's receivers can fill it.
 */
export const deliverWebhook = jobKind(
  'webhook.deliver',
  'webhooks',
  z.object({ webhookId: z.string() }),
  (webhook: { id: string; apiKey: string; url: string; createdAt: number }) => ({
    payload: { webhookId: webhook.id },
    dueAt: webhook.createdAt,
    key: originKey(webhook.url),
    tenant: webhook.apiKey,
  }),
);

/** The receipts held for one reference share a key: taking them drops their expiry. */
export const inboxKey = (provider: string, providerRef: string): string => `inbox:${provider}:${providerRef}`;

/** A held receipt whose reference never turned up: given up on and counted. */
export const expireInboxReceipt = jobKind(
  'receipt-inbox.expire',
  'engine',
  z.object({ id: z.string() }),
  ({ id, provider, providerRef, dueAt }: { id: string; provider: string; providerRef: string; dueAt: number }) => ({ payload: { id }, dueAt, key: inboxKey(provider, providerRef) }),
);

export const JOB_KINDS = [sendMessage, providerFollowUp, dispatchTimer, deliverWebhook, expireInboxReceipt] as const;

export const LANES: readonly Lane[] = ['engine', 'sends', 'webhooks'];
