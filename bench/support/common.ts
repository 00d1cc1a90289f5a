/** Small shared pieces of the benchmarks: settings from env, temp dirs, HTTP set-up calls, printing. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { request } from 'undici';
import type { OpenDispatchChildArgs } from './opendispatch-server.js';
import type { ChildStats } from './protocol.js';

/** A positive number from env, or the default; anything else is an error, not a silent default. */
export function envNumber(name: string, fallback: number, { min = 0, integer = false } = {}): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new Error(`${name} must be ${integer ? 'an integer' : 'a number'} >= ${min} (got "${raw}")`);
  }
  return value;
}

export function envChoice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(choices as readonly string[]).includes(raw)) throw new Error(`${name} must be one of ${choices.join(', ')} (got "${raw}")`);
  return raw as T;
}

/** True when this module is the script node was started with (`node dist/bench/accept.js`). */
export function isMain(importMetaUrl: string): boolean {
  return process.argv[1] !== undefined && importMetaUrl === pathToFileURL(process.argv[1]).href;
}

/** A temp dir that `cleanup` removes (also on exit, should a benchmark throw). */
export function tempDir(prefix: string): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  const cleanup = () => {
    rmSync(path, { recursive: true, force: true });
    process.off('exit', cleanup);
  };
  process.on('exit', cleanup);
  exitOnSignals();
  return { path, cleanup };
}

let signalsHandled = false;

/** Ctrl-C or SIGTERM end the benchmark through process.exit, so the 'exit' clean-ups run (children stop when their IPC channel closes). */
function exitOnSignals(): void {
  if (signalsHandled) return;
  signalsHandled = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
}

/** Extra node flags for server children: `BENCH_CPU_PROF=DIR` writes a .cpuprofile per child there. */
export function childExecArgv(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

export async function callJson(method: 'GET' | 'PUT' | 'POST', url: string, authorization: string, body?: unknown, timeoutMs = 60_000): Promise<{ status: number; json: any }> {
  const response = await request(url, {
    method,
    headers: { authorization, 'content-type': 'application/json', accept: 'application/json' },
    ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const text = await response.body.text();
  return { status: response.statusCode, json: text ? JSON.parse(text) : undefined };
}

export async function expectStatus(expected: number, method: 'GET' | 'PUT' | 'POST', url: string, authorization: string, body?: unknown, timeoutMs?: number): Promise<any> {
  const { status, json } = await callJson(method, url, authorization, body, timeoutMs);
  if (status !== expected) throw new Error(`${method} ${url} answered ${status}, expected ${expected}: ${JSON.stringify(json)}`);
  return json;
}

export function machineLine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `machine: ${availableParallelism()} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${process.platform}`;
}

/** Fixed-width table; numbers are right-aligned. */
export function table(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (i > 0 && /^[-\d.,]+( ?[%a-zA-Z/]+)?$/.test(cell) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export const fmt = {
  int: (n: number) => Math.round(n).toLocaleString('en-US'),
  ms: (n: number) => `${n < 10 ? n.toFixed(2) : n.toFixed(1)} ms`,
  pct: (n: number) => `${(100 * n).toFixed(0)} %`,
  perSec: (n: number) => `${Math.round(n).toLocaleString('en-US')}/s`,
  mb: (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`,
};

/** The Dispatch tutorial's curl body (reference §6.1), variables spliced unquoted: ids are JSON numbers. */
export function tutorialDispatchBody(ids: { fbSender: string; fbRecipient: string; fromNumber: string; toNumber: string }, expirySeconds = 600): string {
  return `{
  "template": "failover",
  "workflow": [
    {
      "from": {"type": "messenger", "id": ${ids.fbSender}},
      "to": {"type": "messenger", "id": ${ids.fbRecipient}},
      "message": {"content": {"type": "text", "text": "This is a Facebook Messenger Message sent via the Dispatch API"}},
      "failover": {"expiry_time": ${expirySeconds}, "condition_status": "read"}
    },
    {
      "from": {"type": "sms", "number": ${ids.fromNumber}},
      "to": {"type": "sms", "number": ${ids.toNumber}},
      "message": {"content": {"type": "text", "text": "This is an SMS sent via the Dispatch API"}}
    }
  ]
}`;
}

/** A Messages v0.1 Messenger send, as the Messages tutorial's curl puts it. */
export function messengerMessageBody(ids: { fbSender: string; fbRecipient: string }): string {
  return `{
  "from": {"type": "messenger", "id": "${ids.fbSender}"},
  "to": {"type": "messenger", "id": "${ids.fbRecipient}"},
  "message": {"content": {"type": "text", "text": "This is a Facebook Messenger Message sent from the Messages API"}}
}`;
}

export const TUTORIAL_IDS = { fbSender: '1234567890', fbRecipient: '9000000001', fromNumber: '447700900000', toNumber: '447700900001' };

/** CPU time the whole machine spent busy (all processes, all cores), from /proc/stat; undefined off Linux. */
export function machineBusyMs(): number | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …; USER_HZ is 100 on Linux.
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return (user + nice + system + irq + softirq + steal) * 10;
  } catch {
    return undefined;
  }
}

/**
 * CPU time all PostgreSQL processes on this machine have used (its backends, writers and
 * postmaster, with the children the postmaster has reaped), from /proc; undefined off Linux.
 * The benchmarks' database shares the cores with the server: what it takes is part of the cost.
 */
function databaseCpuMs(): number | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // "pid (comm) state ppid …": comm may hold spaces, so split after its closing parenthesis.
      const close = stat.lastIndexOf(')');
      if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
      const fields = stat.slice(close + 2).split(' ');
      // Fields 14–17 of proc(5): utime, stime, cutime, cstime; here from field 3, so 11–14.
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    } catch {
      // The process ended while we looked: the postmaster's cutime counts it from now on.
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

/** Starts measuring PostgreSQL's CPU: the function answers the ms it used since (undefined off Linux). */
export function databaseCpuMeter(): () => number | undefined {
  const before = databaseCpuMs();
  return () => {
    const after = databaseCpuMs();
    return before === undefined || after === undefined ? undefined : after - before;
  };
}

/** CPU time (user + system) of server children, from their statistics. */
export function cpuMsOf(stats: ReadonlyArray<Pick<ChildStats, 'cpuUserMs' | 'cpuSystemMs'>>): number {
  return stats.reduce((sum, child) => sum + child.cpuUserMs + child.cpuSystemMs, 0);
}

/**
 * How much of the machine's CPU went to processes other than the benchmark's own during a run
 * (tests of other engineers, editors…), as a share of all cores: a noisy run says so.
 */
export function otherLoadShare(busyBefore: number | undefined, busyAfter: number | undefined, ownCpuMs: number, wallMs: number): number | undefined {
  if (busyBefore === undefined || busyAfter === undefined || wallMs <= 0) return undefined;
  return Math.max(0, busyAfter - busyBefore - ownCpuMs) / (wallMs * availableParallelism());
}

/** An OpenDispatch child's start: the benchmark's own fields, with the seeded account every benchmark uses and the job engine on unless said. */
export function serverChildArgs(args: Omit<OpenDispatchChildArgs, 'apiKey' | 'apiSecret' | 'engine'> & Partial<Pick<OpenDispatchChildArgs, 'engine'>>): OpenDispatchChildArgs {
  return { apiKey: 'bench001', apiSecret: 'BenchSecret00001', engine: 'on', ...args };
}
