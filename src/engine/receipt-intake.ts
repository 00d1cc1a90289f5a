import type { Logger } from 'pino';
import type { PriceTable } from '../core/pricing.js';
import type { ChangeSet, Store } from '../store/store.js';
import { messageStatusChange, type StatusReport } from './message-status-change.js';

/**
 * Where receipts that do not arrive as jobs enter (provider callbacks, a sandbox handset being
 * read): read the message, compute the change, commit it guarded on the status that was read;
 * on a race with another receipt, read again and retry.
 */
export class ReceiptIntake {
  constructor(
    private readonly store: Store,
    private readonly pricing: PriceTable,
    private readonly log: Logger,
  ) {}

  /** Records `reports` in order, in one transaction, with `extra` effects. */
  async record(messageUuid: string, reports: StatusReport[], extra: ChangeSet = {}): Promise<'recorded' | 'unknown-message'> {
    for (let attempt = 1; ; attempt += 1) {
      const message = await this.store.findMessage(messageUuid);
      if (!message) return 'unknown-message';
      let current = message;
      let change: ChangeSet = {};
      for (const report of reports) {
        const step = messageStatusChange(current, report, this.pricing);
        change = mergeChanges(change, step);
        current = { ...current, status: step.messageUpdates?.[0]?.status ?? current.status };
      }
      if ((await this.store.commit(mergeChanges(change, extra))) === 'committed') return 'recorded';
      if (attempt >= 10) throw new Error(`receipt for ${messageUuid} kept conflicting`);
      this.log.debug({ message: messageUuid, attempt }, 'receipt raced another status change; retrying');
    }
  }
}

/** Concatenates the lists of two change sets; single-valued fields come from `b` when set. */
export function mergeChanges(a: ChangeSet, b: ChangeSet): ChangeSet {
  const merged: ChangeSet = { ...a, ...b };
  for (const key of Object.keys(b) as Array<keyof ChangeSet>) {
    const left = a[key];
    const right = b[key];
    if (Array.isArray(left) && Array.isArray(right)) (merged as Record<string, unknown>)[key] = [...left, ...right];
  }
  return merged;
}
