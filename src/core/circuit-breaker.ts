/**
 * One provider's circuit (DESIGN §3 "Routing and providers"), on the scheduling clock:
 * - closed: sends go through. It opens after 5 consecutive failures, or when at least half of
 *   the attempts of the last 30 s (whole seconds) failed, with at least 20 of them;
 * - open: nothing goes to the provider for 30 s;
 * - half open: after that, one probe goes through. Its success closes the circuit, its failure
 *   opens it again for another 30 s.
 * A failure is a retryable one (429, 5xx, timeout, connection lost) or a rejection about the
 * provider itself (credentials, expired token); an answer about the recipient or the content is
 * the provider working. Pure: the caller passes the time.
 */

export type CircuitState = 'closed' | 'open' | 'half_open';

export const CIRCUIT = {
  consecutiveFailures: 5,
  windowMs: 30_000,
  minAttemptsInWindow: 20,
  failureShare: 0.5,
  openMs: 30_000,
} as const;

export interface CircuitStats {
  state: CircuitState;
  /** Failures among the attempts of the last 30 s (0 when there were none). */
  failureRate: number;
  sent: number;
  failed: number;
}

export class CircuitBreaker {
  private consecutive = 0;
  /** Attempts and failures per second of the window: constant memory and work, whatever the rate. */
  private readonly buckets = new WindowCounts(CIRCUIT.windowMs / 1000);
  private openUntil: number | undefined;
  private probing = false;
  private sent = 0;
  private failed = 0;

  state(now: number): CircuitState {
    if (this.openUntil === undefined) return 'closed';
    return now < this.openUntil ? 'open' : 'half_open';
  }

  /**
   * Whether a send may go now, taking the probe when half open (only one at a time). A caller
   * that takes a send must `record` its outcome (or `release` it, if it never went).
   */
  tryAcquire(now: number): boolean {
    const state = this.state(now);
    if (state === 'closed') return true;
    if (state === 'open' || this.probing) return false;
    this.probing = true;
    return true;
  }

  /** A send that was acquired but never made (the message turned out to need no send). */
  release(): void {
    this.probing = false;
  }

  /** When the circuit lets a probe through (undefined while closed). */
  reopensAt(): number | undefined {
    return this.openUntil;
  }

  /** The outcome of one send; answers whether this moved the circuit (for the log). */
  record(now: number, outcome: 'success' | 'failure'): { from: CircuitState; to: CircuitState } | undefined {
    const from = this.state(now);
    const failed = outcome === 'failure';
    this.sent += 1;
    if (failed) this.failed += 1;
    this.buckets.add(now, failed);
    this.consecutive = failed ? this.consecutive + 1 : 0;
    if (from === 'half_open') {
      this.probing = false;
      this.openUntil = failed ? now + CIRCUIT.openMs : undefined;
      if (!failed) this.buckets.clear();
    } else if (from === 'closed' && failed && this.tripped(now)) {
      this.openUntil = now + CIRCUIT.openMs;
    }
    const to = this.state(now);
    return to === from ? undefined : { from, to };
  }

  stats(now: number): CircuitStats {
    const { attempts, failures } = this.buckets.total(now);
    return { state: this.state(now), failureRate: attempts === 0 ? 0 : failures / attempts, sent: this.sent, failed: this.failed };
  }

  private tripped(now: number): boolean {
    if (this.consecutive >= CIRCUIT.consecutiveFailures) return true;
    const { attempts, failures } = this.buckets.total(now);
    return attempts >= CIRCUIT.minAttemptsInWindow && failures / attempts >= CIRCUIT.failureShare;
  }
}

/** Counts per whole second over the last `seconds` seconds, in a ring. */
class WindowCounts {
  private readonly attempts: number[];
  private readonly failures: number[];
  private readonly second: number[];

  constructor(private readonly seconds: number) {
    this.attempts = new Array<number>(seconds).fill(0);
    this.failures = new Array<number>(seconds).fill(0);
    this.second = new Array<number>(seconds).fill(-1);
  }

  add(now: number, failed: boolean): void {
    const second = Math.floor(now / 1000);
    const slot = second % this.seconds;
    if (this.second[slot] !== second) {
      this.second[slot] = second;
      this.attempts[slot] = 0;
      this.failures[slot] = 0;
    }
    this.attempts[slot]! += 1;
    if (failed) this.failures[slot]! += 1;
  }

  /** Over the seconds (now - window, now]. */
  total(now: number): { attempts: number; failures: number } {
    const current = Math.floor(now / 1000);
    let attempts = 0;
    let failures = 0;
    for (let slot = 0; slot < this.seconds; slot += 1) {
      if (this.second[slot]! > current - this.seconds && this.second[slot]! <= current) {
        attempts += this.attempts[slot]!;
        failures += this.failures[slot]!;
      }
    }
    return { attempts, failures };
  }

  clear(): void {
    this.second.fill(-1);
  }
}
