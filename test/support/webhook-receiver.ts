import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  /** The exact bytes received, as text. */
  raw: string;
  json: Record<string, any>;
  at: number;
}

const STATUS_ORDER = ['submitted', 'delivered', 'read', 'rejected', 'undeliverable', 'failed'];

/**
 * Webhooks in the order of the events they report: by the step's place in `channels` (a
 * Dispatch's channels in workflow order), then by status. Webhooks are sent side by side, so they
 * may arrive in any order, and a provider's timestamps are often whole seconds, so they cannot
 * order a message's statuses either.
 */
export function inEventOrder(webhooks: readonly ReceivedWebhook[], channels: readonly string[] = []): ReceivedWebhook[] {
  const place = (webhook: ReceivedWebhook) => channels.indexOf(webhook.json.to?.type);
  const rank = (webhook: ReceivedWebhook) => STATUS_ORDER.indexOf(webhook.json.status);
  return [...webhooks].sort((a, b) => place(a) - place(b) || rank(a) - rank(b));
}

/**
 * A real HTTP receiver for webhooks. `respondWith` decides each answer (default 200), so tests
 * can make it fail, then recover, or hang.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  respondWith: (request: ReceivedWebhook) => number | 'hang' | { status: number; afterMs: number } = () => 200;
  private server: Server | undefined;
  private waiters: Array<() => void> = [];

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, any> = {};
        try {
          json = JSON.parse(raw);
        } catch {
          // kept as raw
        }
        const webhook: ReceivedWebhook = { path: request.url ?? '', headers: request.headers, raw, json, at: Date.now() };
        const answer = this.respondWith(webhook);
        if (answer === 'hang') return;
        const respond = (status: number) => {
          this.received.push(webhook);
          response.writeHead(status).end();
          for (const wake of this.waiters.splice(0)) wake();
        };
        if (typeof answer === 'number') respond(answer);
        else setTimeout(() => respond(answer.status), answer.afterMs);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** Received webhooks (answered with any status) for which `match` holds. */
  matching(match: (webhook: ReceivedWebhook) => boolean): ReceivedWebhook[] {
    return this.received.filter(match);
  }

  /** Resolves once `count` received webhooks match, or rejects after `timeoutMs`. */
  async waitFor(match: (webhook: ReceivedWebhook) => boolean, count = 1, timeoutMs = 10_000): Promise<ReceivedWebhook[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.matching(match);
      if (found.length >= count) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${count} webhook(s); received ${this.received.length}: ${this.received.map((w) => w.raw).join('\n')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
