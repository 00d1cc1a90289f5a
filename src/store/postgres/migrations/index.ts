import type { PostgresMigration } from '../migrate.js';
import * as initial from './001-initial.js';
import * as nodes from './002-nodes.js';
import * as jobsByLaneKey from './003-jobs-by-lane-key.js';

/** Numbered, append-only, like SQLite's (their numbers are the PostgreSQL adapter's own). */
export const migrations: readonly PostgresMigration[] = [
  { version: 1, name: 'initial', sql: initial.sql },
  { version: 2, name: 'nodes', sql: nodes.sql },
  { version: 3, name: 'jobs-by-lane-key', sql: jobsByLaneKey.sql },
];
