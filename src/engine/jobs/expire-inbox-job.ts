import type { EngineContext } from '../engine-context.js';
import { handle, type JobHandler } from '../job-engine.js';
import { expireInboxReceipt } from './job-kinds.js';

/** The counter (table `counters`) of receipts whose reference never turned up; each is also logged. */
export const UNMATCHED_RECEIPTS_COUNTER = 'receipts.unmatched';

/**
 * A held receipt's time is up and no message carries its reference: it is dropped and counted.
 * If the reference was recorded meanwhile the receipt was taken, and the guarded delete
 * conflicts, so the job runs again and finds nothing left to do.
 */
export function expireInboxHandler(ctx: EngineContext): [string, JobHandler] {
  return handle(expireInboxReceipt, async ({ id }) => {
    const held = await ctx.store.findInboxReceipt(id);
    if (!held) return { done: {} };
    ctx.log.warn({ provider: held.provider, providerRef: held.providerRef, status: held.status }, 'a receipt whose reference no message carries was given up on');
    return { done: { inboxExpired: [id], counters: { [UNMATCHED_RECEIPTS_COUNTER]: 1 } } };
  });
}
