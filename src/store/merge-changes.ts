import type { ChangeSet } from './store.js';

/** Concatenates the lists of two change sets; single-valued fields come from `b` when set. */
export function mergeChanges(a: ChangeSet, b: ChangeSet): ChangeSet {
  const merged: ChangeSet = { ...a, ...b };
  for (const key of Object.keys(b) as Array<keyof ChangeSet>) {
    const left = a[key];
    const right = b[key];
    if (Array.isArray(left) && Array.isArray(right)) (merged as Record<string, unknown>)[key] = [...left, ...right];
  }
  return merged;
}
