import { isFailure, type MessageError, type MessageStatus } from './message-status.js';

/**
 * A message a provider carries as several parts, each with its own reference and receipts (a
 * concatenated SMS). It is one message with one status (DESIGN §4): delivered when every part
 * is, failed as soon as any part fails. Parts only ever move forward, as messages do.
 */

export type PartStatus = 'submitted' | 'delivered' | 'rejected' | 'undeliverable';

export interface MessagePart {
  provider: string;
  /** The provider's reference for this part: its receipts name it. */
  partRef: string;
  messageUuid: string;
  /** 0-based. */
  index: number;
  status: PartStatus;
  at: number;
  error?: MessageError;
}

export interface PartReport {
  status: MessageStatus;
  at: number;
  error?: MessageError;
}

const RANK: Record<PartStatus, number> = { submitted: 0, delivered: 1, rejected: 2, undeliverable: 2 };

/** A `read` of a part means delivered: parts of an SMS have no read. */
function partStatusOf(status: MessageStatus): PartStatus {
  return status === 'read' ? 'delivered' : status;
}

/** The parts after these reports (by part reference), and which of them changed. */
export function applyPartReports(parts: readonly MessagePart[], reports: ReadonlyMap<string, readonly PartReport[]>): { parts: MessagePart[]; changed: MessagePart[] } {
  const changed: MessagePart[] = [];
  const after = parts.map((part) => {
    let next = part;
    for (const report of reports.get(part.partRef) ?? []) {
      const status = partStatusOf(report.status);
      if (isFailure(next.status) || RANK[status] <= RANK[next.status]) continue;
      next = { ...next, status, at: report.at, ...(report.error && { error: report.error }) };
    }
    if (next !== part) changed.push(next);
    return next;
  });
  return { parts: after, changed };
}

/** What the parts say about the whole message: the first failure, or delivered once all are; nothing while any is on its way. */
export function wholeMessageReport(parts: readonly MessagePart[]): PartReport | undefined {
  const failed = parts.filter((part) => isFailure(part.status)).sort((a, b) => a.at - b.at)[0];
  if (failed) {
    return { status: failed.status, at: failed.at, error: failed.error ?? { code: 1330, reason: `Unknown: part ${failed.index + 1} of ${parts.length} was not delivered` } };
  }
  if (parts.length > 0 && parts.every((part) => part.status === 'delivered')) return { status: 'delivered', at: Math.max(...parts.map((part) => part.at)) };
  return undefined;
}

/** The reference a multi-part message carries itself: its first part's, marked so no receipt (which names a part) matches it. */
export function wholeMessageRef(partRefs: readonly string[]): string {
  return `${partRefs[0]}+${partRefs.length - 1}`;
}
