import type { Lease, NewJob } from '../../core/records.js';
import { mergeChanges } from '../merge-changes.js';
import * as rows from '../rows.js';
import type { ChangeSet } from '../store.js';
import type { Operation } from './apply-function.js';

/** One statement of the apply function: an operation, its rows, and the row count it must have (else: a conflict). */
export interface WriteStep {
  op: Operation;
  rows: readonly object[];
  expect?: number;
}

export interface StepContext {
  /** A new job's created_at. */
  now: number;
  /** The wake-up hint for other nodes, when the change sets add jobs (job-notifications.ts). */
  notice?: { channel: string; payload: string };
  /** New jobs an engine of this node has taken (Store.runAddedJobs): written leased to it. */
  leased?: ReadonlyMap<NewJob, LeaseTaken>;
}

/** How a taken job is leased: to `owner` on `node`, for `leaseMs` from `leaseNow` (null: the database's clock). */
export interface LeaseTaken {
  owner: string;
  node: string;
  leaseNow: number | null;
  leaseMs: number;
}

/**
 * The steps that write `changes`, in the order the SQLite adapter applies a change set's
 * statements. Each step carries the rows of all the change sets (a group commit); lists keep
 * their order, so each change set's rows are written in its own order.
 */
export function writeSteps(changes: readonly ChangeSet[], context: StepContext): WriteStep[] {
  const steps: WriteStep[] = [];
  const add = (op: Operation, items: readonly object[], expect?: number) => {
    if (items.length > 0) steps.push(expect === undefined ? { op, rows: items } : { op, rows: items, expect });
  };
  /** Guarded updates: every row must be updated. Updates of one row apply in order, each guarded on what the previous left: a step each then. */
  const update = <T>(op: Operation, items: readonly T[] | undefined, toRow: (item: T) => object, keyOf: (item: T) => string, guarded = true) => {
    if (!items?.length) return;
    const batches = new Set(items.map(keyOf)).size === items.length ? [items] : items.map((item) => [item]);
    for (const batch of batches) add(op, batch.map(toRow), guarded ? batch.length : undefined);
  };
  const leases = (pick: (change: ChangeSet) => Lease | undefined) => changes.flatMap((change) => pick(change) ?? []).map((lease) => ({ id: lease.jobId, owner: lease.owner }));
  const change = mergeChanges(...changes.map(({ complete, reschedule, release, ...rest }) => rest));

  // The receipt guards (inbox, inboxTaken, parts, references) read tables another transaction
  // may be writing: a lock per (provider, reference) first, so two of them never pass side by side.
  add('lock_references', referencesGuarded(change).map((key) => ({ key })));

  // A lease given twice (two change sets finishing one job) matches one row: a conflict.
  const completed = leases((one) => one.complete);
  add('delete_leased_jobs', completed, completed.length);
  const rescheduled = changes.flatMap(({ reschedule }) => (reschedule ? [{ id: reschedule.lease.jobId, owner: reschedule.lease.owner, dueAt: Math.ceil(reschedule.dueAt), error: reschedule.error ?? null }] : []));
  add('reschedule_jobs', rescheduled, rescheduled.length);
  const released = leases((one) => one.release);
  add('release_jobs', released, released.length);

  add('insert_dispatches', (change.dispatches ?? []).map(rows.dispatchParams));
  update('update_dispatches', change.dispatchUpdates, rows.dispatchUpdateParams, (one) => one.uuid);
  update('update_messages', change.messageUpdates, rows.messageUpdateParams, (one) => one.uuid);
  add('insert_messages', (change.messages ?? []).map(rows.messageParams));
  add('insert_events', (change.events ?? []).map(rows.eventParams));
  add('insert_send_attempts', (change.sendAttempts ?? []).map(rows.sendAttemptParams));
  add('delete_jobs_by_keys', (change.cancelJobKeys ?? []).map((key) => ({ key })));
  const jobRow = (job: NewJob) => ({
    kind: job.kind,
    lane: job.lane ?? null,
    key: job.key ?? null,
    tenant: job.tenant ?? null,
    payload: JSON.stringify(job.payload),
    dueAt: Math.ceil(job.dueAt),
    createdAt: context.now,
  });
  const jobs = change.jobs ?? [];
  add('insert_jobs', jobs.filter((job) => !context.leased?.has(job)).map(jobRow));
  add('insert_leased_jobs', jobs.flatMap((job) => {
    const lease = context.leased?.get(job);
    return lease ? [{ ...jobRow(job), ...lease }] : [];
  }));
  add('insert_webhooks', (change.webhooks ?? []).map(rows.webhookParams));
  update('update_webhooks', change.webhookUpdates, rows.webhookUpdateParams, (one) => one.id, false);
  add('insert_webhook_attempts', (change.webhookAttempts ?? []).map(rows.webhookAttemptParams));

  // A part is new only while no message, and no part of one, carries its reference.
  add('taken_references', (change.messageParts ?? []).map((part) => ({ provider: part.provider, ref: part.partRef })), 0);
  add('insert_message_parts', (change.messageParts ?? []).map(rows.partParams));
  update('update_message_parts', change.partUpdates, rows.partUpdateParams, (one) => `${one.provider}\n${one.partRef}`);

  // A receipt is held only while no message, and no part of one, carries its reference.
  add('taken_references', (change.inbox ?? []).map((held) => ({ provider: held.provider, ref: held.providerRef })), 0);
  add('insert_inbox_receipts', (change.inbox ?? []).map(rows.inboxParams));
  // Taken: every one of them still held, and none other held for the pair.
  for (const taken of change.inboxTaken ?? []) {
    add('delete_inbox_receipts', taken.ids.map((id) => ({ id })), taken.ids.length);
    add('held_receipts', [{ provider: taken.provider, ref: taken.providerRef }], 0);
  }
  // Expired: each still held (not taken meanwhile).
  add('delete_inbox_receipts', (change.inboxExpired ?? []).map((id) => ({ id })), change.inboxExpired?.length ?? 0);
  add('add_to_counters', Object.entries(change.counters ?? {}).map(([name, by]) => ({ name, by })));
  if (context.notice) add('notify', [context.notice]);
  return steps;
}

/** The (provider, reference) pairs whose receipt guards the change relies on, sorted (locks taken in one order cannot deadlock). */
function referencesGuarded(change: ChangeSet): string[] {
  const keys = new Set<string>();
  const add = (provider: string | undefined, ref: string | undefined) => {
    if (provider !== undefined && ref !== undefined) keys.add(`ref\n${provider}\n${ref}`);
  };
  for (const held of change.inbox ?? []) add(held.provider, held.providerRef);
  for (const taken of change.inboxTaken ?? []) add(taken.provider, taken.providerRef);
  for (const part of change.messageParts ?? []) add(part.provider, part.partRef);
  for (const update of change.messageUpdates ?? []) add(update.provider, update.providerRef);
  for (const message of change.messages ?? []) add(message.provider, message.providerRef);
  return [...keys].sort();
}
