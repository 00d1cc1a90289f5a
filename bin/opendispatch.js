#!/usr/bin/env node
// Entry point. Builds the TypeScript sources first when dist/ is missing or older than src/,
// so `npm ci && npm start` works on a fresh clone without a separate build step.
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'src', 'cli', 'main.js');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const sources = join(root, 'src');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
// tsc is incremental: it re-emits only the files that changed (so entry's mtime says little)
// but rewrites its build-info file on every build that changed anything. The last build is the
// newer of the two.
const buildInfo = join(root, 'dist', '.tsbuildinfo');
const builtAt = () => Math.max(statSync(entry).mtimeMs, existsSync(buildInfo) ? statSync(buildInfo).mtimeMs : 0);
if (existsSync(sources) && existsSync(tsc) && (!existsSync(entry) || newestMtime(sources) > builtAt())) {
  process.stderr.write('opendispatch: building (tsc)…\n');
  try {
    execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
  } catch {
    process.stderr.write('opendispatch: the build failed (tsc output above); fix the sources or run `npm run build`\n');
    process.exit(1);
  }
  // A source that was only touched makes tsc write nothing; mark the build so it is not redone.
  const now = new Date();
  if (existsSync(buildInfo)) utimesSync(buildInfo, now, now);
}

const { main } = await import(entry);
await main(process.argv);
