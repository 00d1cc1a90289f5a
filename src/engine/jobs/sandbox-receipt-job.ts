import type { SandboxReceiptPayload } from '../../channels/sandbox/sandbox-network.js';
import type { Store } from '../../store/store.js';
import type { ClaimedJob } from '../../store/records.js';
import type { Clock } from '../clock.js';
import type { JobHandler } from '../job-engine.js';
import type { StatusRecorder } from '../status-recorder.js';

/**
 * A receipt the sandbox network scheduled when the message was sent has come due. Its effects
 * commit with the job's completion, so a crash never records it twice or loses it.
 */
export function createSandboxReceiptHandler(deps: { store: Store; clock: Clock; recorder: StatusRecorder }): JobHandler {
  return async (job: ClaimedJob) => {
    const receipt = job.payload as SandboxReceiptPayload;
    const message = await deps.store.findMessage(receipt.messageUuid);
    if (!message) return { done: {} };
    // The receipt happens when it was scripted, not when a (virtual) clock jump or a retry let a
    // worker run it: "read at 2 s" is read 2 s after submission even after a 600 s advance.
    const now = Math.min(receipt.at ?? job.dueAt, deps.clock.now());
    const change = await deps.recorder.change(message, [{ status: receipt.status, at: now, error: receipt.error }]);
    if (receipt.status === 'read') change.handsetReads = [...(change.handsetReads ?? []), { messageUuid: receipt.messageUuid, readAt: now }];
    return { done: change };
  };
}
