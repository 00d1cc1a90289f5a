#!/usr/bin/env node
// The integration suite again, every server of it on PostgreSQL (a fresh schema each): the
// second half of `npm test`. Files whose database does not depend on the choice (they pick
// SQLite or PostgreSQL themselves) ran in the first half already and are left out.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';

const RAN_ALREADY = new Set([
  'store-conformance.test.js',
  'store-conformance-postgres.test.js',
  'sandbox-state-conformance.test.js',
  'postgres-nodes.test.js',
  'postgres-outage.test.js',
  'postgres-shares.test.js',
  'cluster-kill.test.js',
  'upgrade.test.js',
  'bench-smoke.test.js',
]);

process.env.OPENDISPATCH_TEST_DATABASE = 'postgres';
const dir = join('dist', 'test');
const files = readdirSync(dir).filter((name) => name.endsWith('.test.js') && !RAN_ALREADY.has(name)).map((name) => join(dir, name));
const stream = run({ files, concurrency: 2 });
stream.on('test:fail', () => (process.exitCode = 1));
stream.compose(spec).pipe(process.stdout);
