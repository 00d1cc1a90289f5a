/** Messages between the benchmark process and a server child (over the `fork` IPC channel). */

export interface ReadyInfo {
  url: string;
  /** `Authorization` header of an account on that server (OpenDispatch children only). */
  basicAuth?: string;
}

/** Store activity, counted by wrapping the Store port's methods in the child. */
export interface StoreCounters {
  /** Calls per Store method (reads, claims, commits…). */
  calls: Record<string, number>;
  /**
   * Milliseconds spent inside each Store method before it returned its promise: the SQLite
   * adapter is synchronous, so this is time the event loop was blocked in SQLite.
   */
  ms: Record<string, number>;
  /** The longest single call per method, ms. */
  maxMs: Record<string, number>;
  /** `commit` calls: one SQLite transaction each. */
  transactions: number;
  /** Transactions that rolled back on a fence or version check. */
  conflicts: number;
  /** Row-level statements inside committed transactions (inserts, updates, deletes). */
  statements: number;
  /** Jobs handed out by `claimJobs`, per kind. */
  claimedByKind: Record<string, number>;
}

export interface ChildStats {
  /** Wall-clock ms since the mark. */
  elapsedMs: number;
  /** Event-loop utilisation since the mark, 0..1 (1: the main thread never idled). */
  eventLoopUtilization: number;
  /** CPU time used by the whole child (all threads) since the mark, ms. */
  cpuUserMs: number;
  cpuSystemMs: number;
  rssBytes: number;
  /** Of rssBytes (Linux): anonymous memory, and file pages mapped in (SQLite's mmap, reclaimable). */
  rssAnonBytes?: number;
  rssFileBytes?: number;
  /** How late a 10 ms timer fired since the mark (ms): the longest stretches the loop was blocked. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Present for OpenDispatch children. */
  store?: StoreCounters;
  /** Rows left in the jobs table (OpenDispatch children). */
  jobsLeft?: number;
  /** Jobs the engine ran where they were made, without a claim, per kind (OpenDispatch children). */
  ranWhereMadeByKind?: Record<string, number>;
}

export type ParentMessage = { id?: number } & ({ type: 'mark' } | { type: 'stats' } | { type: 'stop' });

export type ChildMessage =
  | { type: 'ready'; info: ReadyInfo; id?: undefined }
  | { type: 'marked'; id: number }
  | { type: 'stats'; id: number; stats: ChildStats }
  | { type: 'error'; id?: number; message: string };
