import * as initial from './001-initial.js';
import * as dispatches from './002-dispatches.js';
import * as handsetDuplicates from './003-handset-duplicates.js';

/** Numbered, append-only: a released migration is never edited, a new one is added. */
export const migrations: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  { version: 1, name: 'initial', sql: initial.sql },
  { version: 2, name: 'dispatches', sql: dispatches.sql },
  { version: 3, name: 'handset-duplicates', sql: handsetDuplicates.sql },
];
