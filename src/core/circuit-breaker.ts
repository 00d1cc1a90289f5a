/**
 * One provider's circuit (DESIGN §3 "Routing and providers"), on the scheduling clock:
 * - closed: sends go through. It opens after 5 consecutive failures, or when at least half of
 *   the attempts of the last 30 s failed, with at least 20 of them;
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
  private recent: Array<{ at: number; failed: boolean }> = [];
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
    this.recent.push({ at: now, failed });
    this.forgetBefore(now - CIRCUIT.windowMs);
    this.consecutive = failed ? this.consecutive + 1 : 0;
    if (from === 'half_open') {
      this.probing = false;
      this.openUntil = failed ? now + CIRCUIT.openMs : undefined;
      if (!failed) this.recent = [];
    } else if (from === 'closed' && failed && this.tripped()) {
      this.openUntil = now + CIRCUIT.openMs;
    }
    const to = this.state(now);
    return to === from ? undefined : { from, to };
  }

  stats(now: number): CircuitStats {
    this.forgetBefore(now - CIRCUIT.windowMs);
    const failures = this.recent.filter((attempt) => attempt.failed).length;
    return { state: this.state(now), failureRate: this.recent.length === 0 ? 0 : failures / this.recent.length, sent: this.sent, failed: this.failed };
  }

  private tripped(): boolean {
    if (this.consecutive >= CIRCUIT.consecutiveFailures) return true;
    if (this.recent.length < CIRCUIT.minAttemptsInWindow) return false;
    return this.recent.filter((attempt) => attempt.failed).length / this.recent.length >= CIRCUIT.failureShare;
  }

  private forgetBefore(instant: number): void {
    // Oldest first: drop from the front until the window starts.
    let drop = 0;
    while (drop < this.recent.length && this.recent[drop]!.at <= instant) drop += 1;
    if (drop > 0) this.recent = this.recent.slice(drop);
  }
}
