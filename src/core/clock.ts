/**
 * The one source of time (DESIGN §2 rule 1), injected wherever time is read.
 *
 * Two readings, because they answer different questions:
 * - `now()` is **scheduling time**: job due times, expiry timers, webhook retries, the instants
 *   in status webhooks. It is virtual in tests and in `--clock virtual`, so a 600 s expiry runs
 *   in milliseconds and every run is deterministic.
 * - `wallNow()` is **wall time**: lease instants, JWT `iat`/`exp` checks, webhook signatures,
 *   bookkeeping such as a job's creation time. A virtual jump must not expire the lease of a job
 *   that is still running, nor make a client's fresh token look stale.
 */
export interface Clock {
  readonly kind: 'real' | 'virtual';
  /** Scheduling time, ms since the epoch. */
  now(): number;
  /** Wall time, ms since the epoch. */
  wallNow(): number;
  /** How long to sleep, in real ms, until `dueAt` on the scheduling clock (Infinity: only an advance gets there). */
  realDelayUntil(dueAt: number): number;
}

/** What needs only wall time (the store's leases, signatures). */
export type WallClock = Pick<Clock, 'wallNow'>;
