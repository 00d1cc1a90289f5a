import type { WebhookAttemptRecord, WebhookRecord } from '../../core/records.js';
import type { ChangeSet } from '../../store/store.js';
import type { WebhookSender } from '../../webhooks/http-sender.js';
import { isRetryable, retryDelayMs, shouldGiveUp, type AttemptOutcome } from '../../webhooks/retry-policy.js';
import { signWebhook } from '../../webhooks/sign.js';
import type { EngineContext } from '../engine-context.js';
import { handle, type JobHandler } from '../job-engine.js';
import { deliverWebhook } from './job-kinds.js';

type AttemptFacts = Pick<WebhookAttemptRecord, 'durationMs' | 'statusCode' | 'error'>;

/**
 * POSTs one stored webhook, signed for its account, and records the attempt. Retried on
 * network errors, timeouts, 408, 429 and 5xx (5 s doubling to 15 min, then every 15 min,
 * for 24 h); any other answer ends it.
 */
export function deliverWebhookHandler(ctx: EngineContext, sender: WebhookSender): [string, JobHandler] {
  return handle(deliverWebhook, async ({ webhookId }) => {
    const webhook = await ctx.store.findWebhook(webhookId);
    if (!webhook || webhook.state !== 'pending') return { done: {} };
    const account = await ctx.accounts.find(webhook.apiKey);
    if (!account) return { done: recordAttempt(webhook, 'failed', ctx.clock.now(), { durationMs: 0, error: 'account no longer exists' }) };

    // Signed with wall time: the receiver checks `iat` against its own clock.
    const authorization = await signWebhook(webhook.body, account, webhook.applicationId, ctx.clock.wallNow());
    const response = await sender.send({ url: webhook.url, body: webhook.body, authorization });
    const now = ctx.clock.now();
    const facts: AttemptFacts = { durationMs: response.durationMs, ...describe(response.outcome) };

    if (response.outcome.kind === 'delivered') return { done: recordAttempt(webhook, 'delivered', now, facts) };
    const retryAt = now + retryDelayMs(webhook.attempts + 1, response.retryAfterSeconds);
    if (!isRetryable(response.outcome) || shouldGiveUp(webhook.createdAt, retryAt)) {
      return { done: recordAttempt(webhook, 'failed', now, facts) };
    }
    return { retryAt, error: facts.error ?? `HTTP ${facts.statusCode}`, change: recordAttempt(webhook, 'retry', now, facts) };
  });
}

function recordAttempt(webhook: WebhookRecord, outcome: WebhookAttemptRecord['outcome'], now: number, facts: AttemptFacts): ChangeSet {
  const attempts = webhook.attempts + 1;
  const finished = outcome !== 'retry';
  return {
    webhookUpdates: [
      {
        id: webhook.id,
        state: outcome === 'retry' ? 'pending' : outcome,
        attempts,
        lastAttemptAt: now,
        ...(finished && { completedAt: now }),
      },
    ],
    webhookAttempts: [{ webhookId: webhook.id, attempt: attempts, at: now, outcome, ...facts }],
  };
}

function describe(outcome: AttemptOutcome): Pick<AttemptFacts, 'statusCode' | 'error'> {
  switch (outcome.kind) {
    case 'delivered':
    case 'http-error':
      return { statusCode: outcome.statusCode };
    case 'network-error':
    case 'refused':
      return { error: outcome.error };
    case 'timeout':
      return { error: 'timeout' };
  }
}
