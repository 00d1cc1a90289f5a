/**
 * Child side of the protocol: answers `mark`, `stats` and `stop` from the benchmark process.
 * A child whose parent goes away (the benchmark was killed) stops too, so no server is left.
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { ChildMessage, ChildStats, ParentMessage, ReadyInfo } from './protocol.js';

export interface ChildHooks {
  /** Extra statistics since the mark (store counters, jobs left). */
  extraStats?(): Promise<Partial<ChildStats>>;
  onMark?(): void;
  /** Closes the server; the process exits afterwards. */
  close(): Promise<void>;
}

/**
 * RSS split as Linux counts it: anonymous memory (the heap, SQLite's page cache) and file pages
 * mapped in (SQLite's memory-mapped reads), which the kernel may drop at any time.
 */
function residentParts(): Pick<ChildStats, 'rssAnonBytes' | 'rssFileBytes'> {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rssAnonBytes: kb('RssAnon'), rssFileBytes: kb('RssFile') + kb('RssShmem') };
  } catch {
    return {};
  }
}

export function childArgs<T>(): T {
  const raw = process.argv[2];
  if (!raw) throw new Error('a benchmark child needs its options as JSON in argv[2]');
  return JSON.parse(raw) as T;
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

export function reportStartFailure(error: unknown): never {
  send({ type: 'error', message: String((error as Error)?.stack ?? error) });
  // Let the IPC message flush before leaving.
  setTimeout(() => process.exit(1), 100);
  throw error;
}

export function serveParent(info: ReadyInfo, hooks: ChildHooks): void {
  let markedAt = performance.now();
  let elu: EventLoopUtilization = performance.eventLoopUtilization();
  let cpu = process.cpuUsage();
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let stopping = false;

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await hooks.close();
    } finally {
      process.disconnect?.();
      process.exit(0);
    }
  };

  process.on('message', (message: ParentMessage) => {
    void (async () => {
      try {
        switch (message.type) {
          case 'mark':
            markedAt = performance.now();
            elu = performance.eventLoopUtilization();
            cpu = process.cpuUsage();
            delay.reset();
            hooks.onMark?.();
            send({ type: 'marked', id: message.id! });
            return;
          case 'stats': {
            const used = process.cpuUsage(cpu);
            const stats: ChildStats = {
              elapsedMs: performance.now() - markedAt,
              eventLoopUtilization: performance.eventLoopUtilization(elu).utilization,
              cpuUserMs: used.user / 1000,
              cpuSystemMs: used.system / 1000,
              rssBytes: process.memoryUsage.rss(),
              ...residentParts(),
              // The histogram is in ns and includes the 10 ms resolution itself.
              loopDelayP99Ms: Math.max(0, delay.percentile(99) / 1e6 - 10),
              loopDelayMaxMs: Math.max(0, delay.max / 1e6 - 10),
              ...(await hooks.extraStats?.()),
            };
            send({ type: 'stats', id: message.id!, stats });
            return;
          }
          case 'stop':
            await stop();
            return;
        }
      } catch (error) {
        send({ type: 'error', id: message.id, message: String((error as Error)?.stack ?? error) });
      }
    })();
  });
  process.on('disconnect', () => void stop());
  send({ type: 'ready', info });
}
