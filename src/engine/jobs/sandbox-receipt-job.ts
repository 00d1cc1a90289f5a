import type { PriceTable } from '../../core/pricing.js';
import type { SandboxReceiptPayload } from '../../channels/sandbox/sandbox-network.js';
import type { Store } from '../../store/store.js';
import type { ClaimedJob } from '../../store/records.js';
import type { Clock } from '../clock.js';
import type { JobHandler } from '../job-engine.js';
import { messageStatusChange } from '../message-status-change.js';

/**
 * A receipt the sandbox network scheduled when the message was sent has come due. Its effects
 * commit with the job's completion, so a crash never records it twice or loses it.
 */
export function createSandboxReceiptHandler(deps: { store: Store; clock: Clock; pricing: PriceTable }): JobHandler {
  return async (job: ClaimedJob) => {
    const receipt = job.payload as SandboxReceiptPayload;
    const message = await deps.store.findMessage(receipt.messageUuid);
    if (!message) return { done: {} };
    const now = deps.clock.now();
    const change = messageStatusChange(message, { status: receipt.status, at: now, error: receipt.error }, deps.pricing);
    if (receipt.status === 'read') change.handsetReads = [{ messageUuid: receipt.messageUuid, readAt: now }];
    return { done: change };
  };
}
