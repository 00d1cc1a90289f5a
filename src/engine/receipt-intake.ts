import type { Logger } from 'pino';
import { mergeChanges } from '../store/merge-changes.js';
import type { ChangeSet, Store } from '../store/store.js';
import type { StatusReport } from './message-status-change.js';
import type { StatusRecorder } from './status-recorder.js';

/**
 * Where receipts that do not arrive as jobs enter (provider callbacks, a sandbox handset being
 * read): read the message, compute the change, commit it guarded on the status that was read;
 * on a race with another receipt, read again and retry.
 */
export class ReceiptIntake {
  constructor(
    private readonly store: Store,
    private readonly recorder: StatusRecorder,
    private readonly log: Logger,
  ) {}

  /** Records `reports` in order, in one transaction, with `extra` effects. */
  async record(messageUuid: string, reports: StatusReport[], extra: ChangeSet = {}): Promise<'recorded' | 'unknown-message'> {
    for (let attempt = 1; ; attempt += 1) {
      const message = await this.store.findMessage(messageUuid);
      if (!message) return 'unknown-message';
      const change = await this.recorder.change(message, reports);
      if ((await this.store.commit(mergeChanges(change, extra))) === 'committed') return 'recorded';
      if (attempt >= 10) throw new Error(`receipt for ${messageUuid} kept conflicting`);
      this.log.debug({ message: messageUuid, attempt }, 'receipt raced another status change; retrying');
    }
  }
}
