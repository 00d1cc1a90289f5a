import { isUnavailable } from './postgres-pool.js';
import type { ChangeSet, CommitResult } from '../store.js';

export interface GroupCommitOptions {
  /** Commits change sets together, in one transaction; throws if any fence, guard or statement fails (then nothing of them is written). */
  commitTogether(changes: readonly ChangeSet[]): Promise<void>;
  /** Commits one change set alone, with its own outcome. */
  commitAlone(change: ChangeSet): Promise<CommitResult>;
  /** Batches on the wire at once; the rest wait, and grow the next batch meanwhile. */
  maxInFlight: number;
  /** Change sets in one batch at most: bounds a transaction's locks and its JSON parameters. */
  maxBatch: number;
}

interface Pending {
  change: ChangeSet;
  resolve(result: CommitResult): void;
  reject(error: unknown): void;
}

/**
 * Group commit on PostgreSQL. The change sets committed in one turn of the event loop, and those
 * that come while the batches before them are on the wire, go as one transaction whose statements
 * carry the rows of all of them: a round trip per kind of row for the whole batch, not for each
 * change set, and one COMMIT (one WAL flush) for all.
 *
 * A batch is all or nothing. When any of its fences, guards or statements fails, its change sets
 * are committed again one by one, each with the outcome it would have had alone; so grouping never
 * changes what a commit means, only what it costs. Fences fail on races, which are rare: the cost
 * of the retry is paid seldom.
 */
export class GroupCommit {
  private pending: Pending[] = [];
  private inFlight = 0;
  private flushScheduled = false;

  constructor(private readonly options: GroupCommitOptions) {}

  commit(change: ChangeSet): Promise<CommitResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ change, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    while (this.pending.length > 0 && this.inFlight < this.options.maxInFlight) {
      const batch = this.pending.splice(0, this.options.maxBatch);
      this.inFlight += 1;
      void this.send(batch).finally(() => {
        this.inFlight -= 1;
        this.flush();
      });
    }
  }

  private async send(batch: Pending[]): Promise<void> {
    const changes = batch.map((pending) => pending.change);
    if (batch.length > 1 && cancelsAnothersJobs(changes)) {
      // In order, each after the last has committed: at the same time, on two connections, one's
      // cancel would not see the job the other is adding (READ COMMITTED), and both would stay.
      for (const { change, resolve, reject } of batch) await this.options.commitAlone(change).then(resolve, reject);
      return;
    }
    if (batch.length > 1) {
      try {
        await this.options.commitTogether(changes);
        for (const pending of batch) pending.resolve('committed');
        return;
      } catch (error) {
        // Unreachable: each alone would fail the same way (and a COMMIT whose answer was lost may have landed).
        if (isUnavailable(error)) {
          for (const pending of batch) pending.reject(error);
          return;
        }
      }
    }
    // Alone, or again after failing together: at once, since none cancels another's jobs.
    await Promise.all(batch.map(({ change, resolve, reject }) => this.options.commitAlone(change).then(resolve, reject)));
  }
}

/**
 * Whether a change set cancels job keys another of the batch adds. Together, every cancel runs
 * before every insert, which no order of them one by one would do: such a batch goes one by one.
 */
function cancelsAnothersJobs(changes: readonly ChangeSet[]): boolean {
  const cancellers = new Map<string, Set<number>>();
  changes.forEach((change, index) => change.cancelJobKeys?.forEach((key) => cancellers.set(key, (cancellers.get(key) ?? new Set()).add(index))));
  if (cancellers.size === 0) return false;
  return changes.some((change, index) =>
    change.jobs?.some((job) => {
      const by = job.key === undefined ? undefined : cancellers.get(job.key);
      return by !== undefined && (by.size > 1 || !by.has(index));
    }),
  );
}
