import type { NewJob } from '../core/records.js';
import type { ChangeSet, JobsAdded } from './store.js';

/**
 * What committed change sets tell the job listeners: the earliest due time and the lanes of their
 * new (or rescheduled) jobs; undefined when they have none. Jobs in `runWhereMade` were taken by
 * an engine as they were written (Store.runAddedJobs): nobody need be told of them.
 */
export function jobsAddedBy(changes: readonly ChangeSet[], runWhereMade?: { has(job: NewJob): boolean }): JobsAdded | undefined {
  let earliestDueAt = Infinity;
  const lanes = new Set<string>();
  const jobs: NewJob[] = [];
  let found = false;
  for (const change of changes) {
    if (change.reschedule) {
      found = true;
      earliestDueAt = Math.min(earliestDueAt, change.reschedule.dueAt);
    }
    for (const job of change.jobs ?? []) {
      if (runWhereMade?.has(job)) continue;
      found = true;
      earliestDueAt = Math.min(earliestDueAt, job.dueAt);
      if (job.lane !== undefined) lanes.add(job.lane);
      jobs.push(job);
    }
  }
  // A reschedule's job is not listed: `jobs` then cannot speak for every job, so it is left out.
  return found ? { earliestDueAt, lanes, ...(!changes.some((change) => change.reschedule) && { jobs }) } : undefined;
}
