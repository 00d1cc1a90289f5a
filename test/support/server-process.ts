/**
 * Runs the real `opendispatch` binary (bin/opendispatch.js) as a child process: a server that
 * tests can SIGKILL and restart on the same database, and one-shot CLI commands.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** dist/test/support/server-process.js → the repository root → bin/opendispatch.js */
export const BIN = fileURLToPath(new URL('../../../bin/opendispatch.js', import.meta.url));

/** Settings a developer's shell may carry that would change what the child does. */
const INHERITED_SETTINGS = ['PORT', 'HOST', 'DATABASE_URL', 'OPENDISPATCH_CONFIG', 'OPENDISPATCH_CLOCK', 'OPENDISPATCH_API_KEY', 'OPENDISPATCH_API_SECRET', 'OPENDISPATCH_URL', 'LOG_LEVEL'];

/** The parent's environment without OpenDispatch settings, LOG_LEVEL=warn, then `extra`. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn' };
  for (const name of INHERITED_SETTINGS) if (name !== 'LOG_LEVEL') delete env[name];
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** `node bin/opendispatch.js ...args`, to completion. Rejects only if it outlives `timeoutMs`. */
export function runCli(args: string[], options: CliOptions): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: childEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  const output = collect(child);
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`opendispatch ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${output.stdout}\nstderr: ${output.stderr}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: output.stdout, stderr: output.stderr });
    });
  });
}

export interface ServerProcessOptions {
  /** `sqlite:PATH` (or a postgres URL). */
  database: string;
  cwd: string;
  env?: Record<string, string | undefined>;
  /** More `start` flags, e.g. ['--clock', 'virtual']. */
  args?: string[];
  /** How long start-up may take on a loaded machine (including a build, if one is needed). */
  startTimeoutMs?: number;
}

const BANNER = /OpenDispatch listening on (http:\/\/\S+)/;

/** A running `opendispatch start --port 0`, started by `startServerProcess`. */
export class ServerProcess {
  readonly url: string;
  private readonly output: { stdout: string; stderr: string };
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(
    readonly child: ChildProcess,
    url: string,
    output: { stdout: string; stderr: string },
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  ) {
    this.url = url;
    this.output = output;
    this.exited = exited.then((info) => (this.exitInfo = info));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get stdout(): string {
    return this.output.stdout;
  }

  get stderr(): string {
    return this.output.stderr;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** Resolves with the first match of `pattern` in stdout or stderr (the credentials block), waiting for more output if needed. */
  async waitForOutput(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.output.stdout.match(pattern) ?? this.output.stderr.match(pattern);
      if (match) return match;
      if (!this.running) throw new Error(`server exited before printing ${pattern}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`server did not print ${pattern} within ${timeoutMs} ms\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Sends `signal` and resolves once the process has exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 20_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`server ${this.pid} did not exit within ${timeoutMs} ms of ${signal}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** For `finally` blocks: SIGKILL if still running, never throws. */
  async dispose(): Promise<void> {
    if (!this.running) return;
    await this.kill('SIGKILL').catch(() => undefined);
  }
}

/**
 * Spawns `node bin/opendispatch.js start --port 0 --host 127.0.0.1 --database …` and resolves
 * once the banner line names the real port. The environment is the parent's minus OpenDispatch
 * settings, with LOG_LEVEL=warn, plus `options.env`.
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const args = [BIN, 'start', '--port', '0', '--host', '127.0.0.1', '--database', options.database, ...(options.args ?? [])];
  const child = spawn(process.execPath, args, { cwd: options.cwd, env: childEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  const output = collect(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'close' rather than 'exit': by then stdout and stderr are fully read.
    child.once('close', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let done = false;
  void exited.then(() => (done = true));
  for (;;) {
    const match = output.stdout.match(BANNER);
    if (match) return new ServerProcess(child, match[1]!, output, exited);
    if (done) throw new Error(`opendispatch start exited before listening\nstdout: ${output.stdout}\nstderr: ${output.stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`opendispatch start did not listen within ${timeoutMs} ms\nstdout: ${output.stdout}\nstderr: ${output.stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function collect(child: ChildProcess): { stdout: string; stderr: string } {
  const output = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  return output;
}
