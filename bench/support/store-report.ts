/** Renders the store counters of a server child: where the event loop's time went inside SQLite. */
import { fmt } from './common.js';
import type { StoreCounters } from './protocol.js';

const READ_PREFIXES = ['find', 'list', 'count', 'nextDueAt'];

const isClaim = (method: string) => method === 'claimJobs' || method === 'claimRows';

export function isRead(method: string): boolean {
  return READ_PREFIXES.some((prefix) => method.startsWith(prefix));
}

/**
 * One line: the share of the wall time spent inside store calls (better-sqlite3 is synchronous,
 * so this is event-loop time), split into commits, claims and reads, with mean and worst calls.
 */
export function renderStoreTime(store: StoreCounters, wallMs: number): string {
  // `countedAs`: the methods whose calls are counted (the others' time only is added).
  const group = (match: (method: string) => boolean, countedAs = match) => {
    const methods = Object.keys(store.calls).filter(match);
    const calls = methods.filter(countedAs).reduce((a, m) => a + (store.calls[m] ?? 0), 0);
    const ms = methods.reduce((a, m) => a + (store.ms[m] ?? 0), 0);
    const max = Math.max(0, ...methods.map((m) => store.maxMs[m] ?? 0));
    return { calls, ms, max };
  };
  const parts: Array<[string, ReturnType<typeof group>]> = [
    ['commit', group((m) => m === 'commit')],
    // SQLite's group commit writes each change set's rows (its `apply`) in a turn of its own, not
    // inside the commit call: counted apart, since it is most of what was once "other".
    ['writing change sets', group((m) => m === 'apply')],
    // A claim on SQLite runs its statement in the group commit too (its `claimRows`).
    ['claimJobs', group(isClaim, (m) => m === 'claimJobs')],
    ['reads', group(isRead)],
    ['other', group((m) => m !== 'commit' && m !== 'apply' && !isClaim(m) && !isRead(m))],
  ];
  const total = parts.reduce((a, [, g]) => a + g.ms, 0);
  const described = parts
    .filter(([, g]) => g.calls > 0)
    .map(([name, g]) => `${name} ${fmt.pct(g.ms / wallMs)} (${fmt.int(g.calls)} calls, mean ${((1000 * g.ms) / g.calls).toFixed(0)} µs, max ${fmt.ms(g.max)})`);
  return `time inside store calls: ${fmt.pct(total / wallMs)} of the run: ${described.join(', ')}`;
}
