/**
 * Summarises a V8 .cpuprofile (from BENCH_CPU_PROF=DIR, i.e. `node --cpu-prof`): self time by
 * package/area, and the functions with the most self and inclusive time.
 *
 *   node dist/bench/support/profile-summary.js FILE.cpuprofile [--top 25] [--filter TEXT]
 */
import { readFileSync } from 'node:fs';
import { isMain } from './common.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  byArea: Array<[string, number]>;
  topSelf: Array<[string, number]>;
  topInclusive: Array<[string, number]>;
}

export function summariseProfile(profile: Profile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i += 1) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const totalMs = [...self.values()].reduce((a, b) => a + b, 0);
  const areas = new Map<string, number>();
  const selfByFn = new Map<string, number>();
  const inclusiveByFn = new Map<string, number>();
  let idleMs = 0;
  for (const [id, ms] of self) {
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') idleMs += ms;
    add(areas, areaOf(node), ms);
    add(selfByFn, keyOf(node), ms);
    // Inclusive: every distinct function on the stack of this sample gets the time once.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const key = keyOf(byId.get(at)!);
      if (seen.has(key)) continue;
      seen.add(key);
      add(inclusiveByFn, key, ms);
    }
  }
  const sorted = (map: Map<string, number>) => [...map.entries()].sort((a, b) => b[1] - a[1]);
  return {
    totalMs,
    idleMs,
    byArea: sorted(areas),
    topSelf: sorted(selfByFn).slice(0, top),
    topInclusive: sorted(inclusiveByFn)
      .filter(([key]) => !key.startsWith('(root)'))
      .slice(0, top),
  };
}

function add(map: Map<string, number>, key: string, ms: number): void {
  map.set(key, (map.get(key) ?? 0) + ms);
}

function keyOf(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + '/dist/'.length);
  return url.replace(/^file:\/\//, '');
}

/** Coarse buckets: a dependency, a folder of ours, node internals, or V8's own entries. */
function areaOf(node: ProfileNode): string {
  const { functionName, url } = node.callFrame;
  if (!url) {
    if (functionName.startsWith('(')) return functionName; // (garbage collector), (program), (idle)
    return `native: ${functionName}`;
  }
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + '/dist/'.length).split('/').slice(0, 2).join('/');
  return url;
}

export function renderProfileSummary(summary: ProfileSummary): string {
  const pct = (ms: number) => `${((100 * ms) / summary.totalMs).toFixed(1).padStart(5)} %`;
  const lines = [`sampled ${summary.totalMs.toFixed(0)} ms, idle ${pct(summary.idleMs)}`, '', 'self time by area:'];
  for (const [area, ms] of summary.byArea.slice(0, 20)) lines.push(`  ${pct(ms)}  ${area}`);
  lines.push('', 'top self time:');
  for (const [fn, ms] of summary.topSelf) lines.push(`  ${pct(ms)}  ${fn}`);
  lines.push('', 'top inclusive time:');
  for (const [fn, ms] of summary.topInclusive) lines.push(`  ${pct(ms)}  ${fn}`);
  return lines.join('\n');
}

if (isMain(import.meta.url)) {
  const [file, ...rest] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node dist/bench/support/profile-summary.js FILE.cpuprofile [--top N] [--filter TEXT]');
    process.exit(2);
  }
  const topIndex = rest.indexOf('--top');
  const top = topIndex >= 0 ? Number(rest[topIndex + 1]) : 25;
  const filterIndex = rest.indexOf('--filter');
  const filter = filterIndex >= 0 ? rest[filterIndex + 1] : undefined;
  const summary = summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as Profile, filter ? 100_000 : top);
  if (filter) {
    summary.topSelf = summary.topSelf.filter(([key]) => key.includes(filter)).slice(0, top);
    summary.topInclusive = summary.topInclusive.filter(([key]) => key.includes(filter)).slice(0, top);
  }
  console.log(renderProfileSummary(summary));
}
