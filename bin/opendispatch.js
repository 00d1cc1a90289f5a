#!/usr/bin/env node
// Entry point. Builds the TypeScript sources first when dist/ is missing or older than src/,
// so `npm ci && npm start` works on a fresh clone without a separate build step.
import { existsSync, readdirSync, statSync } from 'node:fs';
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
if (existsSync(sources) && existsSync(tsc) && (!existsSync(entry) || newestMtime(sources) > statSync(entry).mtimeMs)) {
  process.stderr.write('opendispatch: building (tsc)…\n');
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
}

const { main } = await import(entry);
await main(process.argv);
