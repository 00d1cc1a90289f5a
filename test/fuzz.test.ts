/**
 * Property-based fuzzing of every route (hardening): generated methods, paths, headers and
 * bodies, valid-looking and not, with good and bad credentials. Whatever arrives, the server
 * answers below 500, within a few seconds, with a problem+json for every error, never a stack
 * trace or an internal message, and it is alive afterwards. Bounded in runs and time; a failure
 * prints fast-check's seed and the shrunk request, so it can be replayed with FUZZ_SEED.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startTestServer, type TestServer } from './support/test-server.js';

let server: TestServer;
before(async () => {
  server = await startTestServer({ configFile: { auth: { max_failures: 1000 } } });
});
after(() => server.close());

const UUID = '0f6c3a53-0000-4000-8000-000000000000';
const ROUTES: Array<[string, string]> = [
  ['POST', '/v0.1/messages'],
  ['GET', '/v0.1/messages/:id'],
  ['POST', '/v0.1/dispatch'],
  ['GET', '/v0.1/dispatch/:id'],
  ['POST', '/v2/applications'],
  ['GET', '/v2/applications'],
  ['GET', '/v2/applications/:id'],
  ['PUT', '/v2/applications/:id'],
  ['DELETE', '/v2/applications/:id'],
  ['PUT', '/sandbox/recipients/:channel/:id'],
  ['GET', '/sandbox/recipients/:channel/:id'],
  ['GET', '/sandbox/messages'],
  ['POST', '/sandbox/messages/:id/read'],
  ['POST', '/sandbox/inbound'],
  ['GET', '/sandbox/clock'],
  ['POST', '/sandbox/clock/advance'],
  ['GET', '/webhooks/:id'],
  ['POST', '/webhooks/:id'],
  ['GET', '/health'],
];

/** Text that stresses parsers: escapes, unicode, separators, overlong runs. */
const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('%ff', '%00', '..', '%2e%2e', UUID, 'sms', 'messenger', '447700900000', '__proto__', 'constructor', '\u0000', 'a'.repeat(300)),
);

const segment = nasty.map((text) => encodeURIComponent(text));

const query = fc.option(
  fc.dictionary(fc.constantFrom('limit', 'page_size', 'page_index', 'page', 'cursor', 'channel', 'to', 'x', 'api_secret'), nasty, { maxKeys: 3 }),
  { nil: undefined },
);

/** Bodies: JSON shaped like ours, any JSON, or no JSON at all. */
const jsonLike = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.record(
    {
      to: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.record({ type: fc.constantFrom('sms', 'mms', 'whatsapp', 'messenger', 'viber_service_msg', 'x'), number: nasty, id: nasty })),
      from: fc.jsonValue({ maxDepth: 2 }),
      message: fc.jsonValue({ maxDepth: 3 }),
      workflow: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 12 })),
      template: fc.constantFrom('failover', 'x'),
      name: nasty,
      capabilities: fc.jsonValue({ maxDepth: 4 }),
      keys: fc.jsonValue({ maxDepth: 2 }),
      seconds: fc.oneof(fc.double(), fc.integer(), nasty),
    },
    { requiredKeys: [] },
  ),
);
const body = fc.oneof(
  jsonLike.map((value) => JSON.stringify(value)),
  nasty,
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  fc.constant(''),
);

const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/json; charset=ebcdic', undefined);

const request = fc.record({
  route: fc.constantFrom(...ROUTES),
  method: fc.option(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'), { nil: undefined, freq: 3 }),
  params: fc.array(segment, { minLength: 2, maxLength: 2 }),
  query,
  auth: fc.constantFrom('good', 'wrong-secret', 'garbage', 'bearer-garbage', 'none'),
  contentType,
  body: fc.option(body, { nil: undefined }),
});

type Fuzzed = typeof request extends fc.Arbitrary<infer T> ? T : never;

function authorization(kind: Fuzzed['auth']): string | undefined {
  switch (kind) {
    case 'good':
      return server.basicAuth;
    case 'wrong-secret':
      return `Basic ${Buffer.from(`${server.apiKey}:not-the-secret`).toString('base64')}`;
    case 'garbage':
      return 'Basic %%%';
    case 'bearer-garbage':
      return 'Bearer a.b.c';
    case 'none':
      return undefined;
  }
}

/** Marks of an internal error leaking into an answer. */
const LEAKS = [/\bat .+\.(js|ts):\d+/, /node_modules/, /\/work\//, /TypeError|ReferenceError|SyntaxError: /, /SQLITE_/, /FST_ERR/];

test('every route answers generated requests below 500, promptly, as problems, without leaks', async () => {
  const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(request, async (fuzzed) => {
      const [routeMethod, template] = fuzzed.route;
      const [first, second] = fuzzed.params;
      const path = template.replace(':channel', first!).replace(':id', second!);
      const search = fuzzed.query ? `?${new URLSearchParams(fuzzed.query as Record<string, string>).toString()}` : '';
      const method = fuzzed.method ?? routeMethod;
      const headers: Record<string, string> = {};
      const auth = authorization(fuzzed.auth);
      if (auth) headers.authorization = auth;
      if (fuzzed.contentType) headers['content-type'] = fuzzed.contentType;
      const sendsBody = fuzzed.body !== undefined && method !== 'GET' && method !== 'HEAD';
      const response = await fetch(`${server.url}${path}${search}`, {
        method,
        headers,
        ...(sendsBody && { body: fuzzed.body }),
        signal: AbortSignal.timeout(5000),
      });
      const text = await response.text();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      assert.ok(response.status < 500, `${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
      for (const leak of LEAKS) assert.doesNotMatch(text, leak, `${method} ${path} leaks: ${text.slice(0, 300)}`);
      if (response.status >= 400 && method !== 'HEAD') {
        assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/, `${method} ${path}: ${response.status} ${text.slice(0, 200)}`);
        const problem = JSON.parse(text) as Record<string, unknown>;
        assert.equal(typeof problem.type, 'string');
        assert.equal(problem.instance, response.headers.get('x-nexmo-trace-id'));
      }
    }),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 400), seed, interruptAfterTimeLimit: 60_000 },
  );
  assert.equal((await fetch(`${server.url}/health`)).status, 200, 'the server is alive afterwards');
  // The generator reaches past the front door: some requests succeed, most are refused for what they hold.
  const seen = [...statuses.keys()];
  assert.ok(seen.some((status) => status >= 200 && status < 300), `statuses seen: ${JSON.stringify([...statuses])}`);
  for (const status of [400, 401, 404]) assert.ok(statuses.has(status), `no ${status} among ${JSON.stringify([...statuses])}`);
});
