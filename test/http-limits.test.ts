/**
 * What one client connection may hold (config `http`): a client that trickles its headers or
 * its body is cut off with a 408, connections beyond the limit are refused, and the server
 * keeps answering everyone else meanwhile. One server per SQLite file.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../src/config/config.js';
import { startServer } from '../src/server.js';
import { startTestServer, TEST_DATABASE_KIND, type TestServer } from './support/test-server.js';

let server: TestServer;
before(async () => {
  server = await startTestServer({ configFile: { http: { headers_timeout_ms: 400, request_timeout_ms: 800, keep_alive_timeout_ms: 500, max_connections: 20 } } });
});
after(() => server.close());

function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.on('error', reject);
  });
}

/** Writes one byte every `everyMs` until the server closes the socket; resolves with what it answered and when. */
function trickle(socket: Socket, head: string, everyMs: number): Promise<{ answer: string; afterMs: number }> {
  const started = Date.now();
  let answer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (answer += chunk));
  socket.write(head);
  const timer = setInterval(() => socket.writable && socket.write('x'), everyMs);
  return new Promise((resolve) => {
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answer, afterMs: Date.now() - started });
    });
  });
}

test('a client trickling its headers is cut off with a 408 problem, and others are answered meanwhile', async () => {
  const slow = trickle(await open(server.url), 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ', 50);
  for (let i = 0; i < 5; i += 1) assert.equal((await fetch(`${server.url}/health`)).status, 200);
  const { answer, afterMs } = await slow;
  assert.match(answer, /^HTTP\/1\.1 408 /);
  assert.match(answer, /application\/problem\+json/);
  assert.ok(afterMs < 3000, `cut off after ${afterMs} ms`);
});

test('a client trickling its body is cut off after the request timeout', async () => {
  const head = `POST /v0.1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${server.basicAuth}\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{`;
  const { answer, afterMs } = await trickle(await open(server.url), head, 50);
  assert.match(answer, /^HTTP\/1\.1 408 /);
  assert.ok(afterMs < 4000, `cut off after ${afterMs} ms`);
});

test('connections beyond max_connections are refused, and the server answers again once slow ones are cut', async () => {
  const idle = await Promise.all(Array.from({ length: 20 }, () => open(server.url)));
  const closedAt = idle.map((socket) => new Promise<void>((resolve) => socket.on('close', () => resolve())));
  // Read what the server says, or a socket it ended never reports its close.
  for (const socket of idle) socket.on('error', () => undefined).resume();
  const extra = (await open(server.url)).resume();
  const refused = await new Promise<boolean>((resolve) => {
    extra.on('error', () => resolve(true));
    extra.on('close', () => resolve(true));
    setTimeout(() => resolve(false), 2000).unref();
  });
  assert.ok(refused, 'the 21st connection is closed at once');
  await Promise.all(closedAt);
  assert.equal((await fetch(`${server.url}/health`)).status, 200);
});

// A SQLite rule (one server per file); nodes share a PostgreSQL database by design (test/postgres-nodes.test.ts).
test('a second server on the same SQLite file refuses to start with one clear line; the first keeps running', { skip: TEST_DATABASE_KIND !== 'sqlite' }, async () => {
  const config = loadConfig({ port: 0, host: '127.0.0.1', database: `sqlite:${join(server.dataDir, 'test.db')}` }, {});
  await assert.rejects(startServer(config, { log: pino({ level: 'silent' }) }), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'OD_DATABASE_IN_USE');
    assert.match(error.message, /^another OpenDispatch server is using .*test\.db; stop it first/);
    assert.ok(!error.message.includes('\n'));
    return true;
  });
  assert.equal((await fetch(`${server.url}/health`)).status, 200);
});

test('after a 413, an endless body is read and discarded for at most the request timeout', async () => {
  const socket = await open(server.url);
  const head = `POST /v0.1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${server.basicAuth}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`;
  const chunk = `${(64 * 1024).toString(16)}\r\n${' '.repeat(64 * 1024)}\r\n`;
  const started = Date.now();
  let answer = '';
  socket.setEncoding('utf8').on('data', (text: string) => (answer += text));
  socket.on('error', () => undefined);
  socket.write(head);
  const pump = setInterval(() => socket.writable && socket.write(chunk), 5);
  await new Promise<void>((resolve) => socket.on('close', () => resolve()));
  clearInterval(pump);
  assert.match(answer, /^HTTP\/1\.1 413 /);
  assert.ok(Date.now() - started < 4000, `closed after ${Date.now() - started} ms`);
});
