import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './support/test-server.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

test('a known path with the wrong method is a 405 problem naming the allowed methods', async () => {
  const cases: Array<[string, string, string]> = [
    ['PATCH', '/v2/applications/0f6c3a53-0000-4000-8000-000000000000', 'GET, PUT, DELETE'],
    ['DELETE', '/v2/applications', 'GET, POST'],
    ['GET', '/v0.1/dispatch', 'POST'],
    ['GET', '/v0.1/messages/', 'POST'],
    ['PUT', '/v0.1/messages', 'POST'],
  ];
  for (const [method, path, allow] of cases) {
    const response = await fetch(`${server.url}${path}`, { method, headers: { authorization: server.basicAuth } });
    assert.equal(response.status, 405, `${method} ${path}`);
    assert.equal(response.headers.get('allow'), allow, `${method} ${path}`);
    assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const body = (await response.json()) as Record<string, string>;
    assert.equal(body.type, 'https://developer.nexmo.com/api-errors#wrong-verb');
    assert.equal(body.title, 'Request method not allowed');
    assert.equal(body.instance, response.headers.get('x-nexmo-trace-id'));
  }
});

test('an unknown path is a 404 problem', async () => {
  const response = await fetch(`${server.url}/v3/nothing`, { headers: { authorization: server.basicAuth } });
  assert.equal(response.status, 404);
  const body = (await response.json()) as Record<string, string>;
  assert.equal(body.title, 'Not Found');
  assert.equal(body.detail, 'No route GET /v3/nothing');
});
