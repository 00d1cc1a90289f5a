import { randomUUID } from 'node:crypto';
import { timeOrderedUuid } from '../core/time-ordered-uuid.js';

/**
 * A new id for a record of the engine's (message, dispatch, webhook, held receipt), ordered by
 * `atMs`, the record's own time: ids made together sort together, so their index pages stay warm.
 */
export const newId = (atMs: number): string => timeOrderedUuid(atMs, randomUUID());
