import type { ChangeSet, JobsAdded } from './store.js';

/** What a committed change set tells the job listeners: the earliest due time and the lanes of its new (or rescheduled) jobs; undefined when it has none. */
export function jobsAddedBy(change: ChangeSet): JobsAdded | undefined {
  const jobs = change.jobs ?? [];
  if (jobs.length === 0 && !change.reschedule) return undefined;
  let earliestDueAt = change.reschedule?.dueAt ?? Infinity;
  const lanes = new Set<string>();
  for (const job of jobs) {
    earliestDueAt = Math.min(earliestDueAt, job.dueAt);
    if (job.lane !== undefined) lanes.add(job.lane);
  }
  return { earliestDueAt, lanes };
}
