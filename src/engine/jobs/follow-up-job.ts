import type { EngineContext } from '../engine-context.js';
import { handle, type JobHandler } from '../job-engine.js';
import { providerEventsChange } from '../use-cases/record-receipt.js';
import { providerFollowUp } from './job-kinds.js';

/**
 * A follow-up a provider asked for when it accepted a message has come due: the adapter says
 * what its provider reports now, and that enters the receipt intake in the job's own
 * transaction, so a crash never records it twice or loses it.
 */
export function followUpHandler(ctx: EngineContext): [string, JobHandler] {
  return handle(providerFollowUp, async ({ provider, providerRef, at, event }) => {
    const adapter = ctx.providers.byName(provider);
    if (!adapter?.followUp) {
      ctx.log.warn({ provider, providerRef }, 'a follow-up of a provider that is no longer configured was dropped');
      return { done: {} };
    }
    // It happens when the provider said it would, not when a (virtual) clock jump or a retry let
    // a worker run it: "read at 2 s" is read 2 s after submission even after a 600 s advance.
    // (A timer, by contrast, is decided when it runs: see dispatch-timer-job.ts.)
    const events = await adapter.followUp({ providerRef, event, at: Math.min(at, ctx.clock.now()) });
    return { record: () => providerEventsChange(ctx, provider, events) };
  });
}
