import type { WebhookSender } from '../../webhooks/http-sender.js';
import type { EngineContext } from '../engine-context.js';
import type { JobHandler } from '../job-engine.js';
import { deliverWebhookHandler } from './deliver-webhook-job.js';
import { dispatchTimerHandler } from './dispatch-timer-job.js';
import { expireInboxHandler } from './expire-inbox-job.js';
import { followUpHandler } from './follow-up-job.js';
import { JOB_KINDS } from './job-kinds.js';
import { sendMessageHandler } from './send-message-job.js';

/** One handler per job kind of job-kinds.ts; a kind without one is a mistake caught at start. */
export function createJobHandlers(ctx: EngineContext, sender: WebhookSender): Record<string, JobHandler> {
  const handlers = Object.fromEntries([
    sendMessageHandler(ctx),
    followUpHandler(ctx),
    dispatchTimerHandler(ctx),
    deliverWebhookHandler(ctx, sender),
    expireInboxHandler(ctx),
  ]);
  const missing = JOB_KINDS.filter((kind) => !handlers[kind.kind]).map((kind) => kind.kind);
  if (missing.length > 0) throw new Error(`no handler for job kinds ${missing.join(', ')}`);
  return handlers;
}
