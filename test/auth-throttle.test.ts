/**
 * Guessing secrets (hardening): failed Basic checks are throttled per api key and per client
 * address with a 429 and Retry-After; a throttled tenant's known-good clients keep working; a
 * burst of guesses cannot take the thread pool from another client's first request. And an
 * account's applications are capped.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { basic, startTestServer, type TestServer } from './support/test-server.js';

let server: TestServer;
before(async () => {
  server = await startTestServer({ configFile: { auth: { max_failures: 5, failure_window_seconds: 60 }, applications: { max_per_account: 3 } } });
});
after(() => server.close());

/** GET /v2/applications from a chosen loopback address (the throttle counts per client address). */
function listApplications(authorization: string, localAddress = '127.0.0.1'): Promise<{ status: number; retryAfter?: string; body: any }> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/v2/applications', localAddress, headers: { authorization } }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, retryAfter: response.headers['retry-after'] as string | undefined, body: JSON.parse(text) }));
    });
    req.on('error', reject).end();
  });
}

test('wrong secrets are answered 401 up to the limit, then 429 with Retry-After; known-good credentials still pass', async () => {
  const victim = await server.createAccount();
  assert.equal((await listApplications(victim.basicAuth, '127.0.0.2')).status, 200, 'the tenant has been using its credentials');
  const guess = basic(victim.apiKey, 'wrong-guess-123');
  for (let i = 0; i < 5; i += 1) assert.equal((await listApplications(guess, '127.0.0.3')).status, 401, `guess ${i + 1}`);
  const throttled = await listApplications(guess, '127.0.0.4');
  assert.equal(throttled.status, 429, 'throttled by the api key, whatever the address');
  assert.ok(Number(throttled.retryAfter) >= 1 && Number(throttled.retryAfter) <= 60, `Retry-After ${throttled.retryAfter}`);
  assert.equal(throttled.body.type, 'https://developer.nexmo.com/api-errors#too-many-attempts');
  assert.equal((await listApplications(victim.basicAuth, '127.0.0.2')).status, 200, "the tenant's own client keeps working");
  assert.equal((await listApplications(guess, '127.0.0.3')).status, 429, 'still throttled');
});

test('guesses from one address at many keys are throttled by the address', async () => {
  for (let i = 0; i < 5; i += 1) assert.equal((await listApplications(basic(`nokey${i}00`, 'x'.repeat(12)), '127.0.0.5')).status, 401);
  assert.equal((await listApplications(basic('nokey900', 'x'.repeat(12)), '127.0.0.5')).status, 429);
  const other = await server.createAccount();
  assert.equal((await listApplications(other.basicAuth, '127.0.0.6')).status, 200, 'other addresses are not affected');
});

test("a burst of 200 concurrent guesses cannot hold up another client's first request", async () => {
  const target = await server.createAccount();
  const fresh = await server.createAccount();
  const guesses = Array.from({ length: 200 }, (_, i) => listApplications(basic(target.apiKey, `burst-guess-${i}`), '127.0.0.7'));
  const started = Date.now();
  const first = await listApplications(fresh.basicAuth, '127.0.0.8');
  const tookMs = Date.now() - started;
  const answers = await Promise.all(guesses);
  assert.equal(first.status, 200);
  assert.ok(tookMs < 1500, `the fresh account's first request took ${tookMs} ms`);
  assert.ok(answers.filter((answer) => answer.status === 401).length <= 5, 'at most the limit of guesses was checked');
  assert.ok(answers.every((answer) => answer.status === 401 || answer.status === 429));
});

test('a client opening many connections at once with credentials not checked yet gets every request through', async () => {
  // A client after our restart: its credentials are verified by none of its requests yet.
  const account = await server.createAccount();
  const answers = await Promise.all(Array.from({ length: 30 }, () => listApplications(account.basicAuth, '127.0.0.9')));
  assert.deepEqual([...new Set(answers.map((answer) => answer.status))], [200], 'no request was counted as a failed guess');
});

test('an account holds at most applications.max_per_account applications', async () => {
  const account = await server.createAccount();
  const create = () =>
    fetch(`${server.url}/v2/applications`, { method: 'POST', headers: { authorization: account.basicAuth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'capped' }) });
  const answers = await Promise.all(Array.from({ length: 5 }, create));
  assert.deepEqual(answers.map((answer) => answer.status).sort(), [201, 201, 201, 409, 409]);
  const refused = (await answers.find((answer) => answer.status === 409)!.json()) as Record<string, string>;
  assert.equal(refused.detail, 'This account has 3 applications, the most it may have; delete one first.');
});
