/**
 * Parent side of a benchmark server child: `fork`s one of the entry scripts in this folder
 * (so the server has its own event loop and, on this 2-core machine, its own core while the
 * load generator runs in the parent), waits for its `ready` message, asks it for statistics,
 * and stops it. Every child is stopped by its own pid; nothing else is touched.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildStats, ParentMessage, ChildMessage, ReadyInfo } from './protocol.js';

export interface ChildOptions {
  /** File name of the entry script in dist/bench/support/, e.g. 'bare-server.js'. */
  entry: string;
  /** Passed to the child as JSON in argv[2]. */
  args: unknown;
  /** Extra node flags, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/x']. */
  execArgv?: string[];
  startTimeoutMs?: number;
}

export interface BenchChild {
  readonly pid: number;
  readonly ready: ReadyInfo;
  /** Starts a measurement window in the child: event-loop use, CPU and store counters from now. */
  mark(): Promise<void>;
  /** What happened in the child since the last mark. */
  stats(): Promise<ChildStats>;
  /** Graceful stop (closes the server so a CPU profile is written), SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
  /** Last lines the child printed, for error messages. */
  output(): string;
}

const OUTPUT_KEEP = 8 * 1024;

export async function startChild(options: ChildOptions): Promise<BenchChild> {
  const script = fileURLToPath(new URL(`./${options.entry}`, import.meta.url));
  const child = fork(script, [JSON.stringify(options.args)], {
    execArgv: options.execArgv ?? [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEEP);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let nextId = 1;
  const pending = new Map<number, { resolve: (message: ChildMessage) => void; reject: (error: Error) => void }>();
  child.on('message', (message: ChildMessage) => {
    if ('id' in message && message.id !== undefined) {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      waiter?.resolve(message);
    }
  });
  void exited.then(() => {
    for (const waiter of pending.values()) waiter.reject(new Error(`benchmark child ${options.entry} exited\n${output}`));
    pending.clear();
  });

  const ask = (message: Omit<ParentMessage, 'id'>, timeoutMs = 30_000): Promise<ChildMessage> => {
    const id = nextId++;
    return new Promise<ChildMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`benchmark child ${options.entry} did not answer ${message.type} within ${timeoutMs} ms\n${output}`));
      }, timeoutMs);
      pending.set(id, {
        resolve: (answer) => {
          clearTimeout(timer);
          if (answer.type === 'error') reject(new Error(`benchmark child: ${answer.message}`));
          else resolve(answer);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      child.send({ ...message, id } as ParentMessage);
    });
  };

  const ready = await waitForReady(child, exited, options.startTimeoutMs ?? 60_000, () => output).catch(async (error) => {
    child.kill('SIGKILL');
    await exited;
    throw error;
  });

  let stopping: Promise<void> | undefined;
  return {
    pid: child.pid!,
    ready,
    async mark() {
      await ask({ type: 'mark' });
    },
    async stats() {
      const answer = await ask({ type: 'stats' }, 60_000);
      if (answer.type !== 'stats') throw new Error(`unexpected answer ${answer.type}`);
      return answer.stats;
    },
    stop(timeoutMs = 30_000) {
      return (stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        if (child.connected) child.send({ type: 'stop' } satisfies ParentMessage);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
        clearTimeout(timer);
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await exited;
        }
      })());
    },
    output: () => output,
  };
}

function waitForReady(child: ChildProcess, exited: Promise<void>, timeoutMs: number, output: () => string): Promise<ReadyInfo> {
  return new Promise<ReadyInfo>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`benchmark child did not start within ${timeoutMs} ms\n${output()}`)), timeoutMs);
    const onMessage = (message: ChildMessage) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(message.info);
      } else if (message.type === 'error') {
        clearTimeout(timer);
        reject(new Error(`benchmark child failed to start: ${message.message}\n${output()}`));
      }
    };
    child.on('message', onMessage);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`benchmark child exited before it was ready\n${output()}`));
    });
  });
}
