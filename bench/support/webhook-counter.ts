/**
 * The local webhook receiver of the end-to-end benchmark: a plain node:http server on
 * 127.0.0.1 that answers 200 at once and then classifies the body (final report, or a status
 * of which channel), counting duplicates. Waiters are re-checked after every webhook.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface FinalReport {
  status: string;
  messages: Array<{ channel: string; status: string }>;
  at: number;
}

export class WebhookCounter {
  total = 0;
  unparsable = 0;
  duplicates = 0;
  /** `channel:status` → count of first deliveries. */
  readonly statuses = new Map<string, number>();
  /** dispatch uuid → its final report (first delivery). */
  readonly finals = new Map<string, FinalReport>();
  firstAt: number | undefined;
  lastAt: number | undefined;
  /** Called with each status webhook's first delivery and its arrival time (epoch ms). */
  onStatus: ((status: any, arrivedAt: number) => void) | undefined;
  private readonly seen = new Set<string>();
  private readonly waiters = new Set<() => void>();
  private server: Server | undefined;

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        response.writeHead(200, { 'content-length': '0' }).end();
        this.record(Buffer.concat(chunks).toString('utf8'));
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/webhooks`;
  }

  count(channel: string, status: string): number {
    return this.statuses.get(`${channel}:${status}`) ?? 0;
  }

  /** Resolves when `done()` holds; rejects at `deadline` (performance.now() ms) with `describe()`. */
  waitUntil(done: () => boolean, deadline: number, describe: () => string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        finish();
        resolve();
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out: ${describe()}`));
      }, Math.max(0, deadline - performance.now()));
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private record(raw: string): void {
    const now = performance.now();
    this.total += 1;
    this.firstAt ??= now;
    this.lastAt = now;
    let json: any;
    try {
      json = JSON.parse(raw);
    } catch {
      this.unparsable += 1;
      return;
    }
    if (json.template === 'failover' && typeof json.dispatch_uuid === 'string') {
      if (this.finals.has(json.dispatch_uuid)) this.duplicates += 1;
      else {
        const messages = Array.isArray(json._links?.messages) ? json._links.messages : [];
        this.finals.set(json.dispatch_uuid, { status: json.status, messages: messages.map((m: any) => ({ channel: m.channel, status: m.status })), at: now });
      }
    } else if (typeof json.message_uuid === 'string' && typeof json.status === 'string') {
      const key = `${json.message_uuid}:${json.status}`;
      if (this.seen.has(key)) this.duplicates += 1;
      else {
        this.seen.add(key);
        const name = `${json.to?.type ?? '?'}:${json.status}`;
        this.statuses.set(name, (this.statuses.get(name) ?? 0) + 1);
        this.onStatus?.(json, Date.now());
      }
    } else {
      this.unparsable += 1;
    }
    for (const check of this.waiters) check();
  }
}
