import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { createWebhookSender } from './http-sender.js';

interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface TestServer {
  url: string;
  received: Received[];
  connections: number;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 that records each request and then lets `respond` answer. */
async function startServer(respond: RequestListener): Promise<TestServer> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      respond(req, res);
    });
  });
  const state = { connections: 0 };
  server.on('connection', () => (state.connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/hooks/status?x=1`,
    received,
    get connections() {
      return state.connections;
    },
    close: async () => {
      server.closeAllConnections(); // do not wait for the receivers that never answer
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nobody listens on: bound once, then released. */
async function closedPortUrl(): Promise<string> {
  const server = await startServer(() => {});
  await server.close();
  return server.url;
}

const body = JSON.stringify({
  message_uuid: '7a1c9d5e-0000-4000-8000-000000000001',
  status: 'delivered',
  text: 'héllo 👋', // multi-byte characters: bytes and string length differ
});
const authorization = 'Bearer aaa.bbb.ccc';
/** Retry-After dates are read against wall time. */
const clock = { wallNow: () => Date.now() };

describe('createWebhookSender', () => {
  const sender = createWebhookSender({ clock, timeoutMs: 200 });
  const servers: TestServer[] = [];
  after(async () => {
    await sender.close();
    await Promise.all(servers.map((s) => s.close()));
  });
  async function serve(respond: RequestListener): Promise<TestServer> {
    const server = await startServer(respond);
    servers.push(server);
    return server;
  }

  it('POSTs the exact body bytes with the webhook headers', async () => {
    const server = await serve((_req, res) => res.end());
    await sender.send({ url: server.url, body, authorization });

    const [request] = server.received;
    assert.ok(request);
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/hooks/status?x=1');
    assert.deepEqual(request.body, Buffer.from(body, 'utf8'));
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['content-length'], String(Buffer.byteLength(body, 'utf8')));
    assert.equal(request.headers['user-agent'], 'opendispatch');
    assert.equal(request.headers.authorization, authorization);
  });

  it('sends no Authorization header for an unsigned webhook', async () => {
    const server = await serve((_req, res) => res.end());
    await sender.send({ url: server.url, body });
    assert.equal(server.received[0]?.headers.authorization, undefined);
  });

  it('reports 200 as delivered, with its duration', async () => {
    const server = await serve((_req, res) => res.writeHead(200).end('ok'));
    const info = await sender.send({ url: server.url, body, authorization });
    assert.deepEqual(info.outcome, { kind: 'delivered', statusCode: 200 });
    assert.ok(info.durationMs > 0 && info.durationMs < 200, `durationMs ${info.durationMs}`);
    assert.equal(info.retryAfterSeconds, undefined);
  });

  it('reports 500 as an http-error', async () => {
    const server = await serve((_req, res) => res.writeHead(500).end('boom'));
    const info = await sender.send({ url: server.url, body });
    assert.deepEqual(info.outcome, { kind: 'http-error', statusCode: 500 });
  });

  it('reports a redirect as an http-error without following it', async () => {
    const server = await serve((_req, res) => res.writeHead(302, { location: '/elsewhere' }).end());
    const info = await sender.send({ url: server.url, body });
    assert.deepEqual(info.outcome, { kind: 'http-error', statusCode: 302 });
    assert.equal(server.received.length, 1);
  });

  it('passes on Retry-After from a 429', async () => {
    const server = await serve((_req, res) => res.writeHead(429, { 'retry-after': '120' }).end());
    const info = await sender.send({ url: server.url, body });
    assert.deepEqual(info.outcome, { kind: 'http-error', statusCode: 429 });
    assert.equal(info.retryAfterSeconds, 120);
  });

  it('passes on Retry-After from a 503 but not from other statuses', async () => {
    const unavailable = await serve((_req, res) => res.writeHead(503, { 'retry-after': '30' }).end());
    const failing = await serve((_req, res) => res.writeHead(500, { 'retry-after': '30' }).end());
    assert.equal((await sender.send({ url: unavailable.url, body })).retryAfterSeconds, 30);
    assert.equal((await sender.send({ url: failing.url, body })).retryAfterSeconds, undefined);
  });

  it('times out a receiver that accepts the request but never answers', async () => {
    const server = await serve(() => {});
    const info = await sender.send({ url: server.url, body });
    assert.deepEqual(info.outcome, { kind: 'timeout' });
    assert.ok(info.durationMs >= 190 && info.durationMs < 1_000, `durationMs ${info.durationMs}`);
  });

  it('keeps the status of a receiver that answers but never finishes the body', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '100' }).write('partial');
    });
    const info = await sender.send({ url: server.url, body });
    assert.deepEqual(info.outcome, { kind: 'delivered', statusCode: 200 });
    assert.ok(info.durationMs < 1_000, `durationMs ${info.durationMs}`);
  });

  it('stops reading an endless response body long before the timeout', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024, 'x');
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const slowSender = createWebhookSender({ clock, timeoutMs: 5_000 });
    try {
      const info = await slowSender.send({ url: server.url, body });
      assert.deepEqual(info.outcome, { kind: 'delivered', statusCode: 200 });
      assert.ok(info.durationMs < 2_000, `durationMs ${info.durationMs}`);
    } finally {
      await slowSender.close();
    }
  });

  it('keeps connections alive instead of opening one per webhook', async () => {
    const server = await serve((_req, res) => res.end('ok'));
    for (let i = 0; i < 10; i += 1) await sender.send({ url: server.url, body });
    assert.equal(server.received.length, 10);
    // Not exactly 1: a back-to-back send can reach undici's pool a moment before it has
    // marked the previous connection free, and the pool then opens a second one.
    assert.ok(server.connections <= 2, `${server.connections} connections`);
  });

  it('reports a refused connection as a network-error', async () => {
    const info = await sender.send({ url: await closedPortUrl(), body });
    assert.equal(info.outcome.kind, 'network-error');
    assert.match(info.outcome.kind === 'network-error' ? info.outcome.error : '', /ECONNREFUSED/);
  });

  const badUrls: Array<[string, RegExp]> = [
    ['not a url', /invalid webhook URL/],
    ['', /invalid webhook URL/],
    ['/relative/path', /invalid webhook URL/],
    ['ftp://example.com/hook', /unsupported webhook URL scheme: ftp:/],
  ];
  for (const [url, reason] of badUrls) {
    it(`reports the URL ${JSON.stringify(url)} as a network-error instead of throwing`, async () => {
      const info = await sender.send({ url, body });
      assert.equal(info.outcome.kind, 'network-error');
      assert.match(info.outcome.kind === 'network-error' ? info.outcome.error : '', reason);
    });
  }

  it('reports sends after close as network-errors', async () => {
    const closed = createWebhookSender({ clock });
    await closed.close();
    await closed.close(); // a second close is harmless
    const info = await closed.send({ url: 'http://127.0.0.1:9/', body });
    assert.equal(info.outcome.kind, 'network-error');
  });
});
