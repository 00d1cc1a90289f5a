import { timeOrderedUuid } from '../core/time-ordered-uuid.js';

/**
 * The smallest time-ordered id of the instant `before` (ms): every id the engine made before then
 * sorts below it (engine/ids.ts makes UUIDv7s from a record's own time), so "created before" is a
 * range of a primary key, read without an index of its own. Ids of an older scheme (random v4)
 * sort anywhere: the adapters check `created_at` too.
 */
export const idsBefore = (before: number): string => timeOrderedUuid(before, '00000000-0000-4000-8000-000000000000');
