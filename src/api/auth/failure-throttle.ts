/**
 * Counts failed credential checks per subject (an api key, a client address) in fixed windows:
 * after `maxFailures` in one window the subject is throttled until the window ends. Guessing a
 * secret then runs at `maxFailures` per window instead of as fast as scrypt allows, and a
 * throttled request is answered before any scrypt runs (the shared thread pool stays free).
 * Memory is bounded: past `maxSubjects` the oldest windows are forgotten first.
 *
 * A caller counts a check as failed before running it and forgives it if it succeeds, so a
 * burst of concurrent guesses is cut at `maxFailures` too, not only guesses one after another.
 */
export interface FailureThrottleOptions {
  maxFailures: number;
  windowMs: number;
  /** Wall time. */
  nowMs: () => number;
  maxSubjects?: number;
}

interface Window {
  startedAt: number;
  failures: number;
}

export class FailureThrottle {
  private readonly windows = new Map<string, Window>();
  private readonly maxSubjects: number;

  constructor(private readonly options: FailureThrottleOptions) {
    this.maxSubjects = options.maxSubjects ?? 100_000;
  }

  /** Seconds until the first of `subjects` that is throttled may try again; undefined if none is. */
  retryAfterSeconds(subjects: readonly string[]): number | undefined {
    const now = this.options.nowMs();
    let longest: number | undefined;
    for (const subject of subjects) {
      const window = this.current(subject, now);
      if (window === undefined || window.failures < this.options.maxFailures) continue;
      const seconds = Math.max(1, Math.ceil((window.startedAt + this.options.windowMs - now) / 1000));
      longest = Math.max(longest ?? 0, seconds);
    }
    return longest;
  }

  failed(subjects: readonly string[]): void {
    const now = this.options.nowMs();
    for (const subject of subjects) {
      const window = this.current(subject, now) ?? { startedAt: now, failures: 0 };
      window.failures += 1;
      // Re-inserted, so the map's order stays the order windows started in (oldest first).
      this.windows.delete(subject);
      this.windows.set(subject, window);
    }
    while (this.windows.size > this.maxSubjects) this.windows.delete(this.windows.keys().next().value!);
  }

  /** Takes back one failure of each subject (a check counted as failed in advance succeeded). */
  forgive(subjects: readonly string[]): void {
    const now = this.options.nowMs();
    for (const subject of subjects) {
      const window = this.current(subject, now);
      if (window !== undefined) window.failures = Math.max(0, window.failures - 1);
    }
  }

  private current(subject: string, now: number): Window | undefined {
    const window = this.windows.get(subject);
    if (window === undefined) return undefined;
    if (now - window.startedAt < this.options.windowMs) return window;
    this.windows.delete(subject);
    return undefined;
  }
}
