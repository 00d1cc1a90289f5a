import type { ChangeSet } from './store.js';

/** One change set doing what all of them do: lists are concatenated in order; single-valued fields come from the last that sets them. */
export function mergeChanges(...changes: ChangeSet[]): ChangeSet {
  const merged: Record<string, unknown> = {};
  for (const change of changes) {
    for (const [key, value] of Object.entries(change)) {
      if (value === undefined) continue;
      const before = merged[key];
      if (Array.isArray(before) && Array.isArray(value)) merged[key] = [...before, ...value];
      else if (key === 'counters' && before) merged[key] = addCounters(before as Record<string, number>, value as Record<string, number>);
      else merged[key] = value;
    }
  }
  return merged as ChangeSet;
}

function addCounters(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const sum = { ...a };
  for (const [name, by] of Object.entries(b)) sum[name] = (sum[name] ?? 0) + by;
  return sum;
}
