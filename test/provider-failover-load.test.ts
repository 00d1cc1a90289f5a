/**
 * Provider failover under load (issue #9): 1 000 SMS over a route `[flaky, steady]` of two
 * Twilio accounts, each a fake Twilio over a socket. A proxy in front of the first fails every
 * other request with a 503, and halfway through it goes down altogether (connection refused).
 * Every message is delivered exactly once, through one of the two, none is lost, and the share
 * each provider carried is reported (GET /v0.1/providers and the messages' attempts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeTwilio } from './peers/fake-twilio.js';
import { advanceClock, getJson, postJson, waitForMessage } from './support/api-client.js';
import { startTestServer, type TestServer } from './support/test-server.js';

const MESSAGES = 1000;
const SID = 'AC00000000000000000000000000000001';

let flaky: FakeTwilio;
let steady: FakeTwilio;
let proxy: Server;
let server: TestServer;
let proxied = 0;

before(async () => {
  flaky = await FakeTwilio.start({ accountSid: SID, authToken: 'flaky-token' });
  steady = await FakeTwilio.start({ accountSid: SID, authToken: 'steady-token' });
  // Every other request to the flaky provider is a 503; the others reach it.
  proxy = createServer((request, response) => {
    proxied += 1;
    if (proxied % 2 === 1) {
      request.resume();
      response.writeHead(503, { 'content-type': 'application/json' }).end('{"code":20500,"message":"Service Unavailable"}');
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const answer = await fetch(`${flaky.baseUrl}${request.url}`, { method: request.method, headers: { authorization: request.headers.authorization ?? '', 'content-type': request.headers['content-type'] ?? '' }, body: Buffer.concat(chunks) });
      response.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text());
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  server = await startTestServer({
    clock: 'virtual',
    publicUrl: true,
    configFile: {
      providers: {
        flaky: { type: 'twilio', account_sid: SID, auth_token: 'flaky-token', base_url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` },
        steady: { type: 'twilio', account_sid: SID, auth_token: 'steady-token', base_url: steady.baseUrl },
      },
      channels: { sms: [{ via: ['flaky', 'steady'] }] },
    },
  });
});
after(async () => {
  await server.close();
  proxy.closeAllConnections();
  await new Promise<void>((resolve) => proxy.close(() => resolve()));
  await flaky.close();
  await steady.close();
});

test(`${MESSAGES} SMS over a route whose first provider fails half its requests and then goes down: each delivered exactly once`, { timeout: 120_000 }, async () => {
  const send = async (index: number) => {
    const { status, json } = await postJson(`${server.url}/v0.1/messages`, server.basicAuth, { to: { type: 'sms', number: String(14155600000 + index) }, from: { type: 'sms', number: '14155550000' }, message: { content: { type: 'text', text: `load ${index}` } } });
    assert.equal(status, 202);
    return json.message_uuid as string;
  };
  const uuids: string[] = [];
  for (let batch = 0; batch < MESSAGES / 50; batch += 1) {
    uuids.push(...(await Promise.all(Array.from({ length: 50 }, (_, i) => send(batch * 50 + i)))));
    // Halfway: the flaky provider goes down, and its open circuit comes to a probe, which finds it down.
    if (batch === MESSAGES / 100 - 1) {
      proxy.closeAllConnections();
      proxy.close();
      await Promise.all(uuids.map((uuid) => waitForMessage(server, uuid, ['submitted'])));
      await advanceClock(server.url, server.basicAuth, 30);
    }
  }
  const submitted = await Promise.all(uuids.map((uuid) => waitForMessage(server, uuid, ['submitted'])));

  // Each message was accepted by exactly one provider, once.
  const byProvider = new Map<string, number>();
  for (const message of submitted) {
    const accepted = message.attempts.filter((attempt: any) => attempt.outcome === 'submitted');
    assert.equal(accepted.length, 1, JSON.stringify(message.attempts));
    byProvider.set(accepted[0].provider, (byProvider.get(accepted[0].provider) ?? 0) + 1);
  }
  const sends = [...flaky.sends, ...steady.sends];
  assert.equal(sends.length, MESSAGES, 'no message reached a provider twice');
  assert.equal(new Set(sends.map((sent) => sent.to)).size, MESSAGES);
  assert.equal((byProvider.get('flaky') ?? 0) + (byProvider.get('steady') ?? 0), MESSAGES);
  assert.equal(byProvider.get('flaky') ?? 0, flaky.sends.length);

  // Their receipts deliver every one.
  for (const sent of flaky.sends) assert.equal(await flaky.status(sent.sid, 'delivered'), 200);
  for (const sent of steady.sends) assert.equal(await steady.status(sent.sid, 'delivered'), 200);
  const delivered = await Promise.all(uuids.map((uuid) => waitForMessage(server, uuid, ['delivered'])));
  assert.equal(delivered.length, MESSAGES);

  const { json } = await getJson(`${server.url}/v0.1/providers`, server.basicAuth);
  const shares = Object.fromEntries((json.providers as any[]).filter((provider) => provider.name !== 'sandbox').map((provider) => [provider.name, { sent: provider.sent, failed: provider.failed, circuit: provider.circuit }]));
  assert.equal(shares.flaky.circuit, 'open', 'half its requests failing opened its circuit, and the probe found it down');
  assert.ok(submitted.some((message) => message.attempts.some((attempt: any) => attempt.provider === 'flaky' && /connection failed/.test(attempt.error?.reason ?? ''))), 'a probe met the provider down');
  assert.equal(shares.steady.failed, 0);
  // The share each carried, for the record of the run.
  console.log(`# shares: flaky ${byProvider.get('flaky') ?? 0}, steady ${byProvider.get('steady') ?? 0}; tries: ${JSON.stringify(shares)}`);
});
