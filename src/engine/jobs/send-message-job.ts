import type { ChannelAdapter, SendRequest, SendResult } from '../../channels/channel-adapter.js';
import { addressValue } from '../../core/channel.js';
import type { MessageRecord, SendAttemptRecord } from '../../core/records.js';
import { mergeChanges } from '../../store/merge-changes.js';
import type { ChangeSet } from '../../store/store.js';
import type { EngineContext } from '../engine-context.js';
import { exponentialBackoffMs, handle, type JobHandler } from '../job-engine.js';
import { messageAndWorkflowChange } from '../use-cases/message-reports.js';
import { submissionChange } from '../use-cases/record-receipt.js';
import { providerFollowUp, sendMessage } from './job-kinds.js';

/**
 * Transient provider failures of a plain message are retried for this long, then it is rejected.
 * A dispatch step's message is retried until its workflow gives up on it (the step's window or
 * the ceiling), which marks it rejected and so ends the retries.
 */
const SEND_RETRY_WINDOW_MS = 60 * 60 * 1000;

const UNROUTABLE = { code: 1250, reason: 'Unroutable: no provider is configured for this channel and destination' };

const ALL_CIRCUITS_OPEN = { code: 1331, reason: 'Provider error: not sent, every provider of its route has its circuit open' };

const NO_ANSWER_RECORDED = { code: 1100, reason: 'Communication failed: no try of it was recorded as answered within an hour' };

/** Between tries to a provider that is failing: 1 s doubling, capped at 1 min. */
export const sendBackoffMs = (attempts: number): number => exponentialBackoffMs(attempts, 60_000);

/**
 * Hands a queued message to its provider and records the outcome with the try: `submitted` (with
 * the provider's reference, the receipts it already sent, and its follow-ups), `rejected` for a
 * permanent failure, or a retry with backoff for a transient one. A crash between the provider
 * call and the commit sends the message again on restart: at-least-once, bounded by what was in
 * flight, and the lost try shows in the message's attempts as `unanswered`.
 */
export function sendMessageHandler(ctx: EngineContext): [string, JobHandler] {
  return handle(sendMessage, async ({ messageUuid }, job) => {
    const message = await ctx.store.findMessage(messageUuid);
    if (!message || message.status !== 'queued') return { done: {} };
    // The message as read above, until a conflict says it changed (the version guards tell).
    const reread = async (recomputing: boolean) => (recomputing ? await ctx.store.findMessage(messageUuid) : undefined) ?? message;
    if (message.dispatchUuid === undefined && job.attempts > 1 && ctx.clock.now() - message.createdAt > SEND_RETRY_WINDOW_MS) {
      // Tried, and nothing recorded for an hour (the recording keeps failing): stop sending it.
      const gaveUp = { status: 'rejected' as const, at: ctx.clock.now(), error: NO_ANSWER_RECORDED, fromSend: true };
      return { record: async (recomputing) => messageAndWorkflowChange(ctx, await reread(recomputing), [gaveUp]) };
    }
    const candidates = ctx.providers.candidates(message.channel, addressValue(message.to));
    if (candidates.length === 0) {
      // No route serves it (DESIGN §3): rejected at once, so a Dispatch moves to its next step.
      const unroutable = { status: 'rejected' as const, at: ctx.clock.now(), error: UNROUTABLE, fromSend: true };
      return { record: async (recomputing) => messageAndWorkflowChange(ctx, await reread(recomputing), [unroutable]) };
    }
    // Each claim is a try; every try whose outcome was recorded has an attempt. The others' answers were lost.
    const earlier = job.attempts > 1 ? await ctx.store.listSendAttempts(messageUuid) : [];
    const unanswered = Math.max(0, job.attempts - 1 - earlier.length);
    const chosen = chooseProvider(ctx, candidates, earlier.at(-1));
    if (!chosen.ok) {
      // Every circuit of the route is open: nothing goes to them until one lets a probe through.
      // The claim is recorded as a try that did not go, so it is never taken for a lost one.
      const now = ctx.clock.now();
      const skipped: SendAttemptRecord = { messageUuid, attempt: job.attempts, provider: candidates[0]!.provider, at: now, outcome: 'skipped', error: ALL_CIRCUITS_OPEN };
      const lost = unansweredTries(message, candidates[0]!.provider, job.attempts - unanswered, unanswered, now);
      return { retryAt: chosen.retryAt, error: ALL_CIRCUITS_OPEN.reason, quiet: true, change: { sendAttempts: [...lost, skipped] } };
    }
    const { adapter, index } = chosen;
    const circuit = ctx.providers.circuit(adapter.provider);
    // A provider's rate is never exceeded: the send waits for its slot (its lane share keeps the wait short).
    const pace = () => ctx.providers.paceSend(adapter.provider, () => ctx.clock.wallNow());
    await pace();
    const startedAt = ctx.clock.now();
    const result = await trySend(ctx, adapter, { ...sendRequest(message, job.attempts, unanswered), pace });
    const now = ctx.clock.now();
    const providerFailed = !result.ok && (result.failure.retryable || result.failure.aboutProvider === true);
    const moved = circuit.record(now, providerFailed ? 'failure' : 'success');
    if (moved) ctx.log.warn({ provider: adapter.provider, from: moved.from, to: moved.to }, `the circuit of provider ${adapter.provider} is ${moved.to.replace('_', ' ')}`);
    const tries: ChangeSet = {
      sendAttempts: [...unansweredTries(message, adapter.provider, job.attempts - unanswered, unanswered, now), attemptOf(result, message, adapter.provider, job.attempts, startedAt)],
    };

    if (result.ok) {
      const { providerRef, partRefs, followUps = [] } = result;
      const scheduled: ChangeSet = {
        jobs: followUps.map((followUp) =>
          providerFollowUp.create({ provider: adapter.provider, providerRef, messageUuid, at: now + followUp.afterMs, event: followUp.event }),
        ),
      };
      // Receipts may have come back already (a DLR can beat the submit response): record the
      // submission on the message as it is now, and never send it again for a lost race.
      return {
        record: async (recomputing) => {
          const submitted = await submissionChange(ctx, await reread(recomputing), { provider: adapter.provider, providerRef, partRefs, at: now }, { recomputing });
          return mergeChanges(submitted, scheduled, tries);
        },
      };
    }
    const { failure } = result;
    // The provider failed (not the recipient): the next provider of the route gets the message at once.
    if (providerFailed && index < candidates.length - 1) {
      return { retryAt: now, error: `${failure.error.code} ${failure.error.reason}; trying provider ${candidates[index + 1]!.provider}`, change: tries };
    }
    const retryAt = now + Math.max(failure.retryAfterMs ?? 0, sendBackoffMs(job.attempts));
    if (failure.retryable && (message.dispatchUuid !== undefined || retryAt - message.createdAt <= SEND_RETRY_WINDOW_MS)) {
      return { retryAt, error: `${failure.error.code} ${failure.error.reason}`, change: tries };
    }
    const rejected = { status: 'rejected' as const, at: now, error: failure.error, fromSend: true };
    return { record: async (recomputing) => mergeChanges(await messageAndWorkflowChange(ctx, await reread(recomputing), [rejected]), tries) };
  });
}

/**
 * The provider of this try (DESIGN §3): after a provider failed, the next one of the route, and
 * after the last, the first again (a new round, after backoff); otherwise the first. A provider
 * whose circuit is open is passed over; a half-open one takes this send as its probe.
 */
function chooseProvider(
  ctx: EngineContext,
  candidates: readonly ChannelAdapter[],
  previous: SendAttemptRecord | undefined,
): { ok: true; adapter: ChannelAdapter; index: number } | { ok: false; retryAt: number } {
  const now = ctx.clock.now();
  const previousIndex = previous?.outcome === 'failed' || previous?.outcome === 'rejected' ? candidates.findIndex((candidate) => candidate.provider === previous.provider) : -1;
  const start = previousIndex === -1 ? 0 : (previousIndex + 1) % candidates.length;
  for (let step = 0; step < candidates.length; step += 1) {
    const index = (start + step) % candidates.length;
    const adapter = candidates[index]!;
    if (ctx.providers.circuit(adapter.provider).tryAcquire(now)) return { ok: true, adapter, index };
  }
  const reopens = candidates.map((candidate) => ctx.providers.circuit(candidate.provider).reopensAt() ?? now);
  return { ok: false, retryAt: Math.max(now, Math.min(...reopens)) };
}

function sendRequest(message: MessageRecord, attempt: number, unansweredAttempts: number): SendRequest {
  return {
    messageUuid: message.uuid,
    apiKey: message.apiKey,
    channel: message.channel,
    to: message.to,
    from: message.from,
    message: message.message,
    clientRef: message.clientRef,
    attempt,
    unansweredAttempts,
  };
}

/**
 * An adapter must not throw (DESIGN §2 rule 7) nor hang; if one does, it is a retryable failure.
 * The timeout (sends.timeout_ms) stays well inside the job's lease, so a slow provider is never
 * given the same message twice at once by a second claim of the job.
 */
async function trySend(ctx: EngineContext, adapter: ChannelAdapter, request: SendRequest): Promise<SendResult> {
  const failure = (reason: string): SendResult => ({ ok: false, failure: { retryable: true, error: { code: 1100, reason: `Communication failed: ${reason}` } } });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<SendResult>((resolve) => {
    timer = setTimeout(() => resolve(failure(`the ${adapter.type} provider did not answer within ${ctx.sends.timeoutMs / 1000} s`)), ctx.sends.timeoutMs);
  });
  // A synchronous throw becomes a rejection too.
  const answered = Promise.resolve().then(() => adapter.send(request)).catch((error: unknown) => {
    // What the error says stays in the server log, stripped of URL queries (tokens travel there).
    ctx.log.warn({ provider: adapter.provider, message: request.messageUuid, error: describeError(error) }, 'the provider adapter threw; the send will be retried');
    return failure(`the ${adapter.type} adapter failed`);
  });
  try {
    return await Promise.race([answered, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.replace(/(https?:\/\/[^\s?#]*)[?#]\S*/g, '$1?…').slice(0, 300);
}

/** Dated when the try began. */
function attemptOf(result: SendResult, message: MessageRecord, provider: string, attempt: number, at: number): SendAttemptRecord {
  const base = { messageUuid: message.uuid, attempt, provider, at };
  if (result.ok) return { ...base, outcome: 'submitted', providerRef: result.providerRef };
  return { ...base, outcome: result.failure.retryable ? 'failed' : 'rejected', error: result.failure.error };
}

/** Tries `first` … `first + count - 1` began and were never answered; when exactly is not known, so they are dated now. */
function unansweredTries(message: MessageRecord, provider: string, first: number, count: number, at: number): SendAttemptRecord[] {
  return Array.from({ length: Math.max(0, count) }, (_, index) => ({ messageUuid: message.uuid, attempt: first + index, provider, at, outcome: 'unanswered' as const }));
}
