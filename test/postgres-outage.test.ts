/**
 * PostgreSQL goes away while a node runs (DESIGN §2 rule 4, issue #10): requests meanwhile get a
 * 503 problem+json at once, not a hang and not a crash; when it is back the node carries on by
 * itself, and nothing accepted before the outage is lost. The outage is a TCP proxy between the
 * node and the database that resets every connection and refuses new ones, as a restart does.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestSchema, TEST_DATABASE_URL, type TestSchema } from './support/postgres-schema.js';
import { startTestServer, type TestServer } from './support/test-server.js';
import { TcpProxy } from './support/tcp-proxy.js';

let schema: TestSchema;
let proxy: TcpProxy;
let server: TestServer;

before(async () => {
  schema = await createTestSchema();
  const direct = new URL(schema.url);
  proxy = new TcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
  await proxy.up();
  direct.port = String(proxy.port);
  server = await startTestServer({
    databaseUrl: direct.toString(),
    // Short timeouts allow a short lease: a job whose outcome could not be recorded runs again soon.
    configFile: { sandbox: { default_delivered_after: 0 }, sends: { timeout_ms: 1000 }, webhooks: { timeout_ms: 1000 }, engine: { lease_ms: 2000, poll_interval_ms: 100 } },
  });
});

after(async () => {
  await server?.close();
  await proxy?.down();
  await schema?.drop();
});

const sms = (n: number) => ({
  to: { type: 'sms', number: `4477009${String(n).padStart(5, '0')}` },
  from: { type: 'sms', number: '447700900001' },
  message: { content: { type: 'text', text: `message ${n}` } },
});

async function send(n: number): Promise<Response> {
  return fetch(`${server.url}/v0.1/messages`, {
    method: 'POST',
    headers: { authorization: server.basicAuth, 'content-type': 'application/json' },
    body: JSON.stringify(sms(n)),
    signal: AbortSignal.timeout(15_000),
  });
}

async function statusOf(uuid: string): Promise<string> {
  const answer = await fetch(`${server.url}/v0.1/messages/${uuid}`, { headers: { authorization: server.basicAuth } });
  return ((await answer.json()) as { status: string }).status;
}

test('requests during an outage get 503 problem+json; afterwards the node carries on and loses nothing accepted', async () => {
  assert.ok(TEST_DATABASE_URL);
  const accepted: string[] = [];
  for (let n = 0; n < 20; n += 1) {
    const answer = await send(n);
    assert.equal(answer.status, 202);
    accepted.push(((await answer.json()) as { message_uuid: string }).message_uuid);
  }

  await proxy.down();
  const started = Date.now();
  for (let n = 100; n < 105; n += 1) {
    const answer = await send(n);
    assert.equal(answer.status, 503, 'not accepted, and said so');
    assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(answer.headers.get('retry-after'), '5');
    const body = (await answer.json()) as { title: string };
    assert.equal(body.title, 'Service Unavailable');
    assert.doesNotMatch(JSON.stringify(body), /ECONNREFUSED|127\.0\.0\.1|postgres/i, 'nothing of the connection is echoed');
  }
  assert.ok(Date.now() - started < 12_000, `answered promptly (${Date.now() - started} ms for 5 requests)`);
  assert.equal((await fetch(`${server.url}/health`)).status, 200, 'the process is alive');

  await proxy.up();
  // The pool opens fresh connections by itself; the first requests may still find a broken one.
  for (let n = 200; n < 220; n += 1) {
    let answer = await send(n);
    for (let tries = 0; answer.status === 503 && tries < 20; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      answer = await send(n);
    }
    assert.equal(answer.status, 202);
    accepted.push(((await answer.json()) as { message_uuid: string }).message_uuid);
  }

  // Every message accepted, before the outage and after, is delivered.
  const deadline = Date.now() + 30_000;
  let pending = accepted;
  while (pending.length > 0 && Date.now() < deadline) {
    const statuses = await Promise.all(pending.map(statusOf));
    pending = pending.filter((_, index) => statuses[index] !== 'delivered');
    if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.deepEqual(pending, [], 'every accepted message was delivered');
});
