import * as initial from './001-initial.js';
import * as dispatches from './002-dispatches.js';
import * as handsetDuplicates from './003-handset-duplicates.js';
import * as receiptIntake from './004-receipt-intake.js';
import * as jobTenants from './005-job-tenants.js';
import * as messageThreads from './006-message-threads.js';
import * as messageParts from './007-message-parts.js';
import * as links from './008-links.js';
import * as jobsByLaneKey from './009-jobs-by-lane-key.js';

/**
 * Numbered, append-only: a released migration is never edited, a new one is added. (001 and 003
 * created the sandbox's tables before the sandbox had migrations of its own; it adopts them in
 * src/channels/sandbox/sqlite-sandbox-state.ts.)
 */
export const migrations: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  { version: 1, name: 'initial', sql: initial.sql },
  { version: 2, name: 'dispatches', sql: dispatches.sql },
  { version: 3, name: 'handset-duplicates', sql: handsetDuplicates.sql },
  { version: 4, name: 'receipt-intake', sql: receiptIntake.sql },
  { version: 5, name: 'job-tenants', sql: jobTenants.sql },
  { version: 6, name: 'message-threads', sql: messageThreads.sql },
  { version: 7, name: 'message-parts', sql: messageParts.sql },
  { version: 8, name: 'links', sql: links.sql },
  { version: 9, name: 'jobs-by-lane-key', sql: jobsByLaneKey.sql },
];
