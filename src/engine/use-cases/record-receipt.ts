import type { ProviderEvent, ProviderReport, ProviderSink } from '../../channels/channel-adapter.js';
import { OpenDispatchError } from '../../core/errors.js';
import type { InboxReceiptRecord, MessageRecord } from '../../core/records.js';
import { mergeChanges } from '../../store/merge-changes.js';
import type { ChangeSet } from '../../store/store.js';
import type { EngineContext } from '../engine-context.js';
import { newId } from '../ids.js';
import { expireInboxReceipt, inboxKey } from '../jobs/job-kinds.js';
import { inboundChange } from './accept-inbound.js';
import { messageAndWorkflowChange, type DispatchesInChange } from './message-reports.js';

/**
 * The one receipt intake (DESIGN §2 rule 6). Every status report, whatever brought it (a
 * provider webhook, an SMPP deliver_sm, a sandbox follow-up, a manual read), is keyed by
 * `(provider, provider_ref)`. A report for a reference no message carries yet (it beat the
 * submit response) is held in the inbox and applied in the transaction that records the
 * reference; one that never matches is given up on after `receipts.unmatched_ttl_seconds`.
 */

export interface ProviderReceipt {
  provider: string;
  providerRef: string;
  report: ProviderReport;
}

/** Commits a conflicting change again on fresh state at most this often; more means something keeps racing it. */
const MAX_TRIES = 20;

/** The entry for one status report of one provider, by that provider's reference for the message. */
export function recordReceipt(ctx: EngineContext, provider: string, providerRef: string, report: ProviderReport): Promise<void> {
  return recordProviderEvents(ctx, provider, [{ type: 'receipt', providerRef, report }]);
}

/** What a provider said outside a send (receipts and inbound messages), recorded in one transaction, retried on conflicts. */
export async function recordProviderEvents(ctx: EngineContext, provider: string, events: readonly ProviderEvent[]): Promise<void> {
  for (let attempt = 1; attempt <= MAX_TRIES; attempt += 1) {
    if ((await ctx.store.commit(await providerEventsChange(ctx, provider, events))) === 'committed') return;
    ctx.log.debug({ provider, attempt }, 'a provider report raced another change of its message; recording it again');
  }
  throw new OpenDispatchError('OD_RECEIPT_CONFLICT', `reports of provider ${provider} conflicted ${MAX_TRIES} times in a row`);
}

/** The change that records provider events on the state as it is now (for a job to commit with its completion). */
export async function providerEventsChange(ctx: EngineContext, provider: string, events: readonly ProviderEvent[]): Promise<ChangeSet> {
  const receipts = events.flatMap((event) => (event.type === 'receipt' ? [{ provider, providerRef: event.providerRef, report: event.report }] : []));
  const inbound = await Promise.all(events.flatMap((event) => (event.type === 'inbound' ? [inboundChange(ctx, provider, event.inbound)] : [])));
  for (const { outcome } of inbound) {
    if (!outcome.accepted) ctx.log.warn({ provider, reason: outcome.reason }, 'an inbound message had nowhere to go and was dropped');
  }
  return mergeChanges(await receiptsByReferenceChange(ctx, receipts), ...inbound.map((accepted) => accepted.change));
}

/** Where an adapter's long-lived connections report: the receipt intake and the inbound routing, for that provider. */
export function providerSink(ctx: EngineContext, provider: string): ProviderSink {
  return {
    receipt: (providerRef, report) => recordReceipt(ctx, provider, providerRef, report),
    inbound: (inbound) => recordProviderEvents(ctx, provider, [{ type: 'inbound', inbound }]),
  };
}

/** Each reference's receipts go to its message, or are held; one change for all of them. */
async function receiptsByReferenceChange(ctx: EngineContext, receipts: readonly ProviderReceipt[]): Promise<ChangeSet> {
  const changes: ChangeSet[] = [];
  const dispatches: DispatchesInChange = new Map();
  for (const [, group] of groupByReference(receipts)) {
    const { provider, providerRef } = group[0]!;
    const message = await ctx.store.findMessageByProviderRef(provider, providerRef);
    const reports = group.map((receipt) => receipt.report);
    changes.push(message ? await messageAndWorkflowChange(ctx, message, reports, dispatches) : hold(ctx, provider, providerRef, reports));
  }
  return mergeChanges(...changes);
}

/** Receipts that wait for their reference; the store refuses them (a conflict) if a message carries it by now. */
function hold(ctx: EngineContext, provider: string, providerRef: string, reports: readonly ProviderReport[]): ChangeSet {
  const receivedAt = ctx.clock.now();
  const held: InboxReceiptRecord[] = reports.map((report) => ({ id: newId(receivedAt), provider, providerRef, ...report, receivedAt }));
  ctx.log.info({ provider, providerRef, statuses: reports.map((report) => report.status) }, 'holding receipts for a reference no message carries yet');
  return { inbox: held, jobs: held.map((receipt) => expireInboxReceipt.create({ ...receipt, dueAt: receivedAt + ctx.receipts.unmatchedTtlMs })) };
}

/**
 * A provider accepted a message: `submitted` with its reference, and the receipts already held
 * for that reference, in one change. It takes the held receipts guarded on being all there are,
 * so one held meanwhile makes the commit conflict and be recomputed with it: no receipt can slip
 * between the holding and the taking.
 *
 * The first computation (`recomputing: false`) assumes the usual case, nothing held and the
 * reference free, without reading either: if that is wrong the guards make the commit conflict,
 * and the caller computes it again with `recomputing: true`, which looks. (Two reads fewer per send: about 7 % of
 * accept throughput, npm run bench.)
 */
export async function submissionChange(
  ctx: EngineContext,
  message: MessageRecord,
  submission: { provider: string; providerRef: string; at: number },
  { recomputing }: { recomputing: boolean },
): Promise<ChangeSet> {
  const { provider, providerRef, at } = submission;
  if (!recomputing) {
    const reports = [{ status: 'submitted' as const, at, provider, providerRef }];
    return mergeChanges(await messageAndWorkflowChange(ctx, message, reports), { inboxTaken: [{ provider, providerRef, ids: [] }] });
  }
  const holder = await ctx.store.findMessageByProviderRef(provider, providerRef);
  if (holder && holder.uuid !== message.uuid) {
    // A provider bug: receipts for this reference can only ever reach one message, the first.
    ctx.log.error({ provider, providerRef, message: message.uuid, holder: holder.uuid, code: 'OD_PROVIDER_REF_REUSED' }, 'the provider answered with a reference another message carries');
    return messageAndWorkflowChange(ctx, message, [{ status: 'submitted', at, provider }]);
  }
  const held = await ctx.store.listInboxReceipts(provider, providerRef);
  const reports = [{ status: 'submitted' as const, at, provider, providerRef }, ...held.map(({ status, at: heldAt, error }) => ({ status, at: heldAt, error }))];
  const taken: ChangeSet = {
    inboxTaken: [{ provider, providerRef, ids: held.map((receipt) => receipt.id) }],
    ...(held.length > 0 && { cancelJobKeys: [inboxKey(provider, providerRef)] }),
  };
  return mergeChanges(await messageAndWorkflowChange(ctx, message, reports), taken);
}

function groupByReference(receipts: readonly ProviderReceipt[]): Map<string, ProviderReceipt[]> {
  const groups = new Map<string, ProviderReceipt[]>();
  for (const receipt of receipts) {
    const key = `${receipt.provider}\u0000${receipt.providerRef}`;
    const group = groups.get(key);
    if (group) group.push(receipt);
    else groups.set(key, [receipt]);
  }
  return groups;
}
