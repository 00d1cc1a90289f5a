import type { ChannelAdapter } from '../../channels/channel-adapter.js';
import type { Channel } from '../../core/channel.js';
import type { Store } from '../../store/store.js';
import type { ClaimedJob, NewJob } from '../../store/records.js';
import type { Clock } from '../clock.js';
import { exponentialBackoffMs, type JobHandler } from '../job-engine.js';
import type { StatusRecorder } from '../status-recorder.js';

export const SEND_MESSAGE_JOB = 'message.send';

export const sendMessageJob = (messageUuid: string, dueAt: number): NewJob => ({
  kind: SEND_MESSAGE_JOB,
  payload: { messageUuid },
  dueAt,
});

/**
 * Transient provider failures of a plain message are retried for this long, then it is rejected.
 * A dispatch step's message is retried until its workflow gives up on it (the step's window or
 * the ceiling), which marks it rejected and so ends the retries.
 */
const SEND_RETRY_WINDOW_MS = 60 * 60 * 1000;

export interface SendMessageDeps {
  store: Store;
  clock: Clock;
  recorder: StatusRecorder;
  adapterFor(channel: Channel): ChannelAdapter;
}

/**
 * Hands a queued message to its channel's adapter and records the outcome: `submitted`,
 * `rejected` (permanent failure), or a retry with backoff for a transient one. A crash between
 * the provider call and the commit sends the message again on restart: at-least-once, bounded
 * by what was in flight.
 */
export function createSendMessageHandler(deps: SendMessageDeps): JobHandler {
  return async (job: ClaimedJob) => {
    const message = await deps.store.findMessage(String(job.payload.messageUuid));
    if (!message || message.status !== 'queued') return { done: {} };

    const result = await deps.adapterFor(message.channel).send({
      messageUuid: message.uuid,
      apiKey: message.apiKey,
      channel: message.channel,
      to: message.to,
      from: message.from,
      message: message.message,
      clientRef: message.clientRef,
    });
    const now = deps.clock.now();
    if (result.ok) {
      // Receipts may already have come back (a DLR can beat the submit response): record the
      // submission on the message as it is now, and never send it again for a lost race.
      const submitted = { status: 'submitted' as const, at: now, providerRef: result.providerRef };
      return { record: async () => deps.recorder.change((await deps.store.findMessage(message.uuid)) ?? message, [submitted]) };
    }
    const { failure } = result;
    const retryAt = now + Math.max(failure.retryAfterMs ?? 0, sendBackoffMs(job.attempts));
    if (failure.retryable && (message.dispatchUuid !== undefined || retryAt - message.createdAt <= SEND_RETRY_WINDOW_MS)) {
      return { retryAt, error: `${failure.error.code} ${failure.error.reason}` };
    }
    const rejected = { status: 'rejected' as const, at: now, error: failure.error, fromSend: true };
    return { record: async () => deps.recorder.change((await deps.store.findMessage(message.uuid)) ?? message, [rejected]) };
  };
}

/** Between tries to a provider that is failing: capped at 1 min. */
export const sendBackoffMs = (attempts: number): number => exponentialBackoffMs(attempts, 60_000);
