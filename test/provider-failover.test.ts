/**
 * Provider failover inside a route (DESIGN §3): a route `[flaky, steady]` of two Messenger
 * providers, each on its own fake Graph API. A retryable failure goes to the next provider at
 * once; a rejection about the recipient does not; a provider fault (an expired token) does; the
 * flaky provider's circuit opens after 5 consecutive failures, nothing goes to it while open,
 * and its probe after 30 s (virtual clock) closes it. GET /v0.1/providers shows it all.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeGraphApi } from './peers/fake-graph-api.js';
import { advanceClock, getJson, postJson, waitForMessage } from './support/api-client.js';
import { startTestServer, type TestServer } from './support/test-server.js';

const PAGE = '107083064136738';

describe('failover between the providers of a route', () => {
  let flaky: FakeGraphApi;
  let steady: FakeGraphApi;
  let server: TestServer;
  let seq = 0;
  const newUser = () => String(7300000000000000 + ++seq);

  before(async () => {
    let now: () => number = Date.now;
    flaky = await FakeGraphApi.start({ appSecret: 'flaky-secret', pages: { [PAGE]: 'flaky-token' }, now: () => now() });
    steady = await FakeGraphApi.start({ appSecret: 'steady-secret', pages: { [PAGE]: 'steady-token' }, now: () => now() });
    const page = (token: string) => ({ [PAGE]: { access_token: token } });
    server = await startTestServer({
      clock: 'virtual',
      configFile: {
        providers: {
          flaky: { type: 'messenger', app_secret: 'flaky-secret', verify_token: 'v', pages: page('flaky-token'), base_url: flaky.baseUrl },
          steady: { type: 'messenger', app_secret: 'steady-secret', verify_token: 'v', pages: page('steady-token'), base_url: steady.baseUrl },
        },
        channels: { messenger: [{ via: ['flaky', 'steady'] }] },
      },
    });
    const clock = server.clock!;
    now = () => clock.now();
  });
  after(async () => {
    await server.close();
    await flaky.close();
    await steady.close();
  });

  const send = async (user: string) => {
    const { status, json } = await postJson(`${server.url}/v0.1/messages`, server.basicAuth, { to: { type: 'messenger', id: user }, from: { type: 'messenger', id: PAGE }, message: { content: { type: 'text', text: 'hi' } } });
    assert.equal(status, 202);
    return json.message_uuid as string;
  };
  const providers = async () => (await getJson(`${server.url}/v0.1/providers`, server.basicAuth)).json.providers as Array<Record<string, unknown>>;
  const circuitOf = async (name: string) => (await providers()).find((provider) => provider.name === name)?.circuit;
  const outcomes = (message: any) => message.attempts.map((attempt: any) => [attempt.provider, attempt.outcome]);

  test('a 503 from the first provider sends the message through the next one at once', async () => {
    flaky.failNext({ httpStatus: 503, code: 2 });
    const found = await waitForMessage(server, await send(newUser()), ['submitted']);
    assert.deepEqual(outcomes(found), [['flaky', 'failed'], ['steady', 'submitted']]);
  });

  test('a rejection about the recipient is final: the next provider is not tried', async () => {
    flaky.failNext({ httpStatus: 400, code: 10, subcode: 2018278 });
    const before = steady.requests;
    const found = await waitForMessage(server, await send(newUser()), ['rejected']);
    assert.deepEqual([found.error.code, outcomes(found)], [1340, [['flaky', 'rejected']]]);
    assert.equal(steady.requests, before);
  });

  test('a fault of the provider itself (an expired token) moves the message to the next provider', async () => {
    flaky.failNext({ httpStatus: 400, code: 190 });
    const found = await waitForMessage(server, await send(newUser()), ['submitted']);
    assert.deepEqual(outcomes(found), [['flaky', 'rejected'], ['steady', 'submitted']]);
  });

  test('after 5 consecutive failures the circuit opens: nothing goes to it; after 30 s one probe closes it', async () => {
    // A success first, so that the count starts from nothing (the expired token above was a failure).
    assert.deepEqual(outcomes(await waitForMessage(server, await send(newUser()), ['submitted'])), [['flaky', 'submitted']]);
    flaky.failNext({ httpStatus: 500, code: 1200 }, 4);
    for (let i = 0; i < 4; i += 1) await waitForMessage(server, await send(newUser()), ['submitted']);
    assert.equal(await circuitOf('flaky'), 'closed', 'four in a row');
    flaky.failNext({ httpStatus: 500, code: 1200 });
    await waitForMessage(server, await send(newUser()), ['submitted']);
    assert.equal(await circuitOf('flaky'), 'open', 'the fifth');
    const flakyRequests = flaky.requests;
    const whileOpen = await waitForMessage(server, await send(newUser()), ['submitted']);
    assert.deepEqual(outcomes(whileOpen), [['steady', 'submitted']], 'passed over while open');
    assert.equal(flaky.requests, flakyRequests);

    await advanceClock(server.url, server.basicAuth, 30);
    assert.equal(await circuitOf('flaky'), 'half_open');
    const probe = await waitForMessage(server, await send(newUser()), ['submitted']);
    assert.deepEqual(outcomes(probe), [['flaky', 'submitted']], 'the probe');
    assert.equal(await circuitOf('flaky'), 'closed');
    const [flakyView] = (await providers()).filter((provider) => provider.name === 'flaky');
    assert.deepEqual({ type: flakyView!.type, channels: flakyView!.channels }, { type: 'messenger', channels: ['messenger'] });
    assert.deepEqual([flakyView!.sent, flakyView!.failed], [10, 7], 'every send to flaky so far, and its failures');
  });

  test('a failed probe opens the circuit again', async () => {
    flaky.failNext({ httpStatus: 500, code: 1200 }, 5);
    for (let i = 0; i < 5; i += 1) await waitForMessage(server, await send(newUser()), ['submitted']);
    await advanceClock(server.url, server.basicAuth, 30);
    flaky.failNext({ httpStatus: 500, code: 1200 });
    const probe = await waitForMessage(server, await send(newUser()), ['submitted']);
    assert.deepEqual(outcomes(probe), [['flaky', 'failed'], ['steady', 'submitted']]);
    assert.equal(await circuitOf('flaky'), 'open');
    await advanceClock(server.url, server.basicAuth, 30);
    await waitForMessage(server, await send(newUser()), ['submitted']);
    assert.equal(await circuitOf('flaky'), 'closed');
  });

  test('GET /v0.1/providers needs the account’s Basic auth', async () => {
    const response = await fetch(`${server.url}/v0.1/providers`);
    assert.equal(response.status, 401);
    const names = (await providers()).map((provider) => provider.name).sort();
    assert.deepEqual(names, ['flaky', 'sandbox', 'steady']);
  });
});

describe('a sandbox provider scripted to fail: failover on a laptop', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      clock: 'virtual',
      configFile: {
        providers: { 'sim-a': { type: 'sandbox', default_delivered_after: 0 }, 'sim-b': { type: 'sandbox', default_delivered_after: 0 } },
        channels: { sms: [{ via: ['sim-a', 'sim-b'] }] },
      },
    });
  });
  after(() => server.close());

  const sms = async (basicAuth: string, to: string) => {
    const { json } = await postJson(`${server.url}/v0.1/messages`, basicAuth, { to: { type: 'sms', number: to }, from: { type: 'sms', number: '447700900000' }, message: { content: { type: 'text', text: 'hi' } } });
    return waitForMessage({ url: server.url, basicAuth }, json.message_uuid, ['delivered']);
  };
  const script = (basicAuth: string, provider: string, body: unknown) =>
    fetch(`${server.url}/sandbox/providers/${provider}`, { method: 'PUT', headers: { authorization: basicAuth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const path = (message: any) => message.attempts.map((attempt: any) => `${attempt.provider}:${attempt.outcome}`).join(' ');

  test('its messages go to the next provider while it fails, and to it again once lifted and probed; another account never notices', async () => {
    assert.equal(path(await sms(server.basicAuth, '447700900801')), 'sim-a:submitted');
    const scripted = await script(server.basicAuth, 'sim-a', { failing: true });
    assert.equal(scripted.status, 200);
    assert.deepEqual(await scripted.json(), { provider: 'sim-a', failing: true });

    assert.equal(path(await sms(server.basicAuth, '447700900802')), 'sim-a:failed sim-b:submitted');
    const other = await server.createAccount();
    assert.equal(path(await sms(other.basicAuth, '447700900803')), 'sim-a:submitted', 'the outage is this account’s only');
    // The other account's success reset the count (a circuit is the provider's, whoever sends): five more.
    for (let i = 0; i < 5; i += 1) await sms(server.basicAuth, `44770090081${i}`);
    assert.equal(path(await sms(server.basicAuth, '447700900820')), 'sim-b:submitted', 'five failures in a row: the circuit is open');

    assert.equal((await script(server.basicAuth, 'sim-a', { failing: false })).status, 200);
    await advanceClock(server.url, server.basicAuth, 30);
    assert.equal(path(await sms(server.basicAuth, '447700900821')), 'sim-a:submitted', 'the probe closes it');
  });

  test('only a sandbox provider can be scripted, with a body it understands', async () => {
    assert.equal((await script(server.basicAuth, 'nobody', { failing: true })).status, 404);
    const bad = await script(server.basicAuth, 'sim-b', { failing: 'yes' });
    assert.equal(bad.status, 400);
    assert.deepEqual(((await bad.json()) as any).invalid_parameters.map((parameter: any) => parameter.name), ['failing']);
    assert.equal((await fetch(`${server.url}/sandbox/providers/sim-b`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"failing": true}' })).status, 401);
  });
});
