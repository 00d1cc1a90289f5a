/**
 * The architecture as a test (DESIGN §2): reads every module of src/ and fails when one crosses
 * the table of who may import whom, reads the environment outside src/config/, or reads the
 * system time outside the clock. Unit tests (*.test.ts) are exempt: they wire real parts together.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** dist/src/architecture.test.js → the repository's src/ (the sources, not the build). */
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

/**
 * Which top-level folders of src/ each may import from (besides itself). Where only part of a
 * folder may be imported, the allowed paths are listed. `*`: anything (the composition roots).
 */
const MAY_IMPORT: Record<string, readonly string[] | '*'> = {
  core: [],
  store: ['core'],
  // Adapters are made from their settings as the config schema types them.
  // The sandbox keeps its PostgreSQL tables with the store's migration runner and error mapping.
  channels: ['core', 'config/provider-schema.ts', 'store/postgres/migrate.ts', 'store/postgres/postgres-pool.ts'],
  webhooks: ['core'],
  // The engine knows the adapter port and the registry, never a provider's own modules.
  engine: ['core', 'store', 'channels/channel-adapter.ts', 'channels/provider-registry.ts', 'webhooks'],
  // The API calls use cases only; it drives the sandbox's console and providers' webhook parsers.
  api: ['core', 'channels', 'engine/use-cases/'],
  config: ['core'],
  cli: '*',
  'server.ts': '*',
};

/** Packages and Node built-ins the pure core may use: none. Everything else there is I/O or a dependency. */
const CORE_MAY_USE: readonly string[] = [];

/** The only places that may read these. */
const ENVIRONMENT_READERS = ['config/'];
const CLOCK_READERS = ['engine/clock.ts'];

interface Violation {
  file: string;
  problem: string;
}

/** Checks one module's source text; `file` is its path relative to src/, with forward slashes. */
export function checkModule(file: string, sourceText: string): Violation[] {
  const violations: Violation[] = [];
  const layer = layerOf(file);
  const allowed = MAY_IMPORT[layer];
  if (allowed === undefined) violations.push({ file, problem: `is in a folder the architecture table does not know (${layer})` });

  for (const { fileName: specifier } of ts.preProcessFile(sourceText, true, true).importedFiles) {
    if (specifier.startsWith('.')) {
      const target = relative(SRC, resolve(SRC, dirname(file), specifier)).split(sep).join('/').replace(/\.js$/, '.ts');
      if (target.startsWith('..')) {
        violations.push({ file, problem: `imports ${specifier}, outside src/` });
        continue;
      }
      const targetLayer = layerOf(target);
      if (targetLayer === layer || allowed === '*' || allowed === undefined) continue;
      if (!allowed.some((entry) => entry === targetLayer || (entry.includes('/') && target.startsWith(entry)))) {
        violations.push({ file, problem: `imports ${target}: ${layer} may import ${allowed.length > 0 ? allowed.join(', ') : 'nothing outside itself'}` });
      }
    } else if (layer === 'core' && !CORE_MAY_USE.includes(specifier)) {
      violations.push({ file, problem: `imports ${specifier}: the core is pure (no I/O, no dependencies)` });
    }
  }

  const source = ts.createSourceFile(file, sourceText, ts.ScriptTarget.Latest, true);
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression)) {
      const access = `${node.expression.text}.${node.name.text}`;
      if (access === 'process.env' && !ENVIRONMENT_READERS.some((reader) => file.startsWith(reader))) {
        violations.push({ file, problem: 'reads process.env: configuration comes from src/config/, compiled once' });
      }
      if (access === 'Date.now' && !CLOCK_READERS.includes(file)) {
        violations.push({ file, problem: 'reads Date.now(): time comes from the injected Clock' });
      }
    }
    const readsDate = (ts.isNewExpression(node) || ts.isCallExpression(node)) && ts.isIdentifier(node.expression) && node.expression.text === 'Date';
    if (readsDate && (node.arguments?.length ?? 0) === 0 && !CLOCK_READERS.includes(file)) {
      violations.push({ file, problem: 'reads the time with Date(): time comes from the injected Clock' });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return violations;
}

function layerOf(file: string): string {
  const [first] = file.split('/');
  return file.includes('/') ? first! : file;
}

function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return modules(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

test('every module of src/ keeps to the architecture of DESIGN §2', () => {
  const files = modules(SRC);
  assert.ok(files.length > 50, `found only ${files.length} modules in ${SRC}`);
  const violations = files.flatMap((path) => checkModule(relative(SRC, path).split(sep).join('/'), readFileSync(path, 'utf8')));
  assert.deepEqual(violations.map(({ file, problem }) => `${file} ${problem}`), []);
});

test('the check finds each kind of crossing (it can fail)', () => {
  const problems = (file: string, text: string) => checkModule(file, text).map((violation) => violation.problem);
  assert.deepEqual(problems('core/x.ts', "import { readFileSync } from 'node:fs';"), ['imports node:fs: the core is pure (no I/O, no dependencies)']);
  assert.deepEqual(problems('core/x.ts', "import type { Store } from '../store/store.js';"), ['imports store/store.ts: core may import nothing outside itself']);
  assert.deepEqual(problems('channels/sandbox/x.ts', "import { JobEngine } from '../../engine/job-engine.js';"), ['imports engine/job-engine.ts: channels may import core, config/provider-schema.ts, store/postgres/migrate.ts, store/postgres/postgres-pool.ts']);
  assert.deepEqual(problems('channels/x.ts', "export { SqliteStore } from '../store/sqlite/sqlite-store.js';"), ['imports store/sqlite/sqlite-store.ts: channels may import core, config/provider-schema.ts, store/postgres/migrate.ts, store/postgres/postgres-pool.ts']);
  assert.deepEqual(problems('channels/x.ts', "import type { Config } from '../config/config.js';"), ['imports config/config.ts: channels may import core, config/provider-schema.ts, store/postgres/migrate.ts, store/postgres/postgres-pool.ts']);
  assert.deepEqual(problems('channels/x.ts', "import type { ProviderSettings } from '../config/provider-schema.js';"), []);
  assert.deepEqual(problems('api/x.ts', "import { openStore } from '../store/open-store.js';"), ['imports store/open-store.ts: api may import core, channels, engine/use-cases/']);
  assert.deepEqual(problems('api/x.ts', "import { JobEngine } from '../engine/job-engine.js';"), ['imports engine/job-engine.ts: api may import core, channels, engine/use-cases/']);
  assert.deepEqual(problems('engine/x.ts', "import { SandboxNetwork } from '../channels/sandbox/sandbox-network.js';"), [
    'imports channels/sandbox/sandbox-network.ts: engine may import core, store, channels/channel-adapter.ts, channels/provider-registry.ts, webhooks',
  ]);
  assert.deepEqual(problems('engine/x.ts', "import type { ChannelAdapter } from '../channels/channel-adapter.js';"), []);
  assert.deepEqual(problems('api/x.ts', "import { acceptMessage } from '../engine/use-cases/accept-message.js';"), []);
  assert.deepEqual(problems('engine/x.ts', "const level = process.env.LOG_LEVEL;"), ['reads process.env: configuration comes from src/config/, compiled once']);
  assert.deepEqual(problems('store/x.ts', 'const at = Date.now();'), ['reads Date.now(): time comes from the injected Clock']);
  assert.deepEqual(problems('webhooks/x.ts', 'const at = new Date().getTime();'), ['reads the time with Date(): time comes from the injected Clock']);
  assert.deepEqual(problems('webhooks/x.ts', 'const at = Date();'), ['reads the time with Date(): time comes from the injected Clock']);
  assert.deepEqual(problems('webhooks/x.ts', 'const at = new Date(0).toISOString(); // Date.now() in a comment is no read'), []);
  assert.deepEqual(problems('config/x.ts', 'const port = process.env.PORT;'), []);
  assert.deepEqual(problems('engine/clock.ts', 'const now = Date.now();'), []);
  assert.deepEqual(problems('cli/x.ts', "import { SqliteStore } from '../store/sqlite/sqlite-store.js';"), []);
  assert.deepEqual(problems('metrics/x.ts', ''), ['is in a folder the architecture table does not know (metrics)']);
});
