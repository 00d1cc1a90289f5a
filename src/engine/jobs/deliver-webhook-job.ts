import type { Store } from '../../store/store.js';
import type { ClaimedJob, WebhookAttemptRecord, WebhookRecord } from '../../store/records.js';
import type { WebhookSender } from '../../webhooks/http-sender.js';
import { isRetryable, retryDelayMs, shouldGiveUp, type AttemptOutcome } from '../../webhooks/retry-policy.js';
import { signWebhook } from '../../webhooks/sign.js';
import type { ChangeSet } from '../../store/store.js';
import type { Clock } from '../clock.js';
import type { JobHandler } from '../job-engine.js';

export const DELIVER_WEBHOOK_JOB = 'webhook.deliver';

export interface DeliverWebhookDeps {
  store: Store;
  clock: Clock;
  sender: WebhookSender;
}

type AttemptFacts = Pick<WebhookAttemptRecord, 'durationMs' | 'statusCode' | 'error'>;

/**
 * POSTs one stored webhook, signed for its account, and records the attempt. Retried on
 * network errors, timeouts, 408, 429 and 5xx (5 s doubling to 15 min, then every 15 min,
 * for 24 h); any other answer ends it.
 */
export function createDeliverWebhookHandler(deps: DeliverWebhookDeps): JobHandler {
  return async (job: ClaimedJob) => {
    const webhook = await deps.store.findWebhook(String(job.payload.webhookId));
    if (!webhook || webhook.state !== 'pending') return { done: {} };
    const account = await deps.store.findAccount(webhook.apiKey);
    if (!account) return { done: recordAttempt(webhook, 'failed', deps.clock.now(), { durationMs: 0, error: 'account no longer exists' }) };

    const authorization = await signWebhook(webhook.body, account, webhook.applicationId, Date.now());
    const response = await deps.sender.send({ url: webhook.url, body: webhook.body, authorization });
    const now = deps.clock.now();
    const facts: AttemptFacts = { durationMs: response.durationMs, ...describe(response.outcome) };

    if (response.outcome.kind === 'delivered') return { done: recordAttempt(webhook, 'delivered', now, facts) };
    const retryAt = now + retryDelayMs(webhook.attempts + 1, response.retryAfterSeconds);
    if (!isRetryable(response.outcome) || shouldGiveUp(webhook.createdAt, retryAt)) {
      return { done: recordAttempt(webhook, 'failed', now, facts) };
    }
    return { retryAt, error: facts.error ?? `HTTP ${facts.statusCode}`, change: recordAttempt(webhook, 'retry', now, facts) };
  };
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
      return { error: outcome.error };
    case 'timeout':
      return { error: 'timeout' };
  }
}
