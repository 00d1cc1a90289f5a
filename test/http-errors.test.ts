import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
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
  assert.equal(body.detail, 'No route matches this method and path.');
});


const SECURITY = ['x-xss-protection', 'strict-transport-security', 'x-content-type-options', 'x-frame-options'];

/** Sends raw bytes and reads the whole answer: what Node's parser refuses never reaches fetch's rules. */
function rawRequest(url: string, bytes: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
  });
}

function assertCatalogueProblem(answer: { status: number; headers: Record<string, string>; body: string }, status: number, leaked: string[]): void {
  assert.equal(answer.status, status);
  assert.match(answer.headers['content-type'] ?? '', /^application\/problem\+json/);
  for (const header of SECURITY) assert.ok(answer.headers[header], `${header} is set`);
  const body = JSON.parse(answer.body) as Record<string, string>;
  assert.match(body.type ?? '', /^https:\/\/developer\.nexmo\.com\/api-errors#/);
  assert.equal(body.instance, answer.headers['x-nexmo-trace-id']);
  assert.match(body.instance ?? '', /^[0-9a-f]{32}$/);
  for (const text of leaked) assert.ok(!answer.body.includes(text), `the answer echoes ${text}`);
}

test("errors Fastify and Node's parser raise are problems from the catalogue, echoing nothing", async () => {
  const host = `Host: 127.0.0.1\r\nAuthorization: ${server.basicAuth}\r\n`;
  assertCatalogueProblem(await rawRequest(server.url, `GET /v0.1/messages/%ff HTTP/1.1\r\n${host}Connection: close\r\n\r\n`), 400, ['%ff']);
  const long = 'a'.repeat(150);
  assertCatalogueProblem(await rawRequest(server.url, `GET /v0.1/messages/${long} HTTP/1.1\r\n${host}Connection: close\r\n\r\n`), 404, [long]);
  const bigHeader = 'x'.repeat(20_000);
  assertCatalogueProblem(await rawRequest(server.url, `GET /health HTTP/1.1\r\n${host}X-Big: ${bigHeader}\r\n\r\n`), 431, [bigHeader.slice(0, 100)]);
  assertCatalogueProblem(await rawRequest(server.url, `FOO /health HTTP/1.1\r\n${host}\r\n`), 400, ['FOO']);
  assertCatalogueProblem(await rawRequest(server.url, `GET /nowhere/secret-path HTTP/1.1\r\n${host}Connection: close\r\n\r\n`), 404, ['secret-path']);
});

test('routes without a body accept an empty one sent as application/json; others still ask for one', async () => {
  const created = await fetch(`${server.url}/v2/applications`, {
    method: 'POST',
    headers: { authorization: server.basicAuth, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'to delete' }),
  });
  const { id } = (await created.json()) as { id: string };
  const deleted = await fetch(`${server.url}/v2/applications/${id}`, { method: 'DELETE', headers: { authorization: server.basicAuth, 'content-type': 'application/json' } });
  assert.equal(deleted.status, 204);

  const read = await fetch(`${server.url}/sandbox/messages/0f6c3a53-0000-4000-8000-000000000000/read`, {
    method: 'POST',
    headers: { authorization: server.basicAuth, 'content-type': 'application/json' },
  });
  assert.equal(read.status, 404, 'read as an unknown message, not refused as an empty body');

  const send = await fetch(`${server.url}/v0.1/messages`, { method: 'POST', headers: { authorization: server.basicAuth, 'content-type': 'application/json' } });
  assert.equal(send.status, 400);
  assert.deepEqual(((await send.json()) as { invalid_parameters: unknown }).invalid_parameters, [{ name: 'body', reason: 'The JSON Object cannot be empty' }]);
});

test('a body over the limit gets its 413 even when the client sends it all before reading (lingering close)', async () => {
  const { hostname, port } = new URL(server.url);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const answer = await new Promise<string>((resolve) => {
      const size = 8 * 1024 * 1024;
      const socket = connect(Number(port), hostname, () => {
        socket.write(`POST /v0.1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${server.basicAuth}\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`);
        socket.end(Buffer.alloc(size, 0x20));
        // A client busy sending reads late: an immediate close would reset the connection and
        // throw away the answer waiting in its receive buffer.
        socket.pause();
        setTimeout(() => socket.resume(), 300);
      });
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('error', (error: NodeJS.ErrnoException) => (text += ` [${error.code}]`));
      socket.on('close', () => resolve(text));
    });
    assert.match(answer, /^HTTP\/1\.1 413 /, `attempt ${attempt + 1}: ${answer.slice(0, 80)}`);
    assert.match(answer, /"type":"https:\/\/developer\.nexmo\.com\/api-errors#payload-too-large"/);
  }
});

test('a 404 names an id only when it has the shape of one (letters, digits, dashes); anything else a client sent is not echoed', async () => {
  const uuid = '0f6c3a53-0000-4000-8000-000000000000';
  const named = (await (await fetch(`${server.url}/v0.1/messages/${uuid}`, { headers: { authorization: server.basicAuth } })).json()) as Record<string, string>;
  assert.equal(named.detail, `Message '${uuid}' does not exist, or you do not have access`);
  for (const [path, detail] of [
    ['/v0.1/messages/%3Cscript%3Ex%3C%2Fscript%3E', 'That message does not exist, or you do not have access'],
    ['/v0.1/dispatch/%22%3E%3Cimg%3E', 'That dispatch does not exist, or you do not have access'],
    ['/v2/applications/it%27s%20me', 'That id does not exist, or you do not have access'],
  ] as const) {
    const answer = await fetch(`${server.url}${path}`, { headers: { authorization: server.basicAuth } });
    assert.equal(answer.status, 404, path);
    assert.equal(((await answer.json()) as Record<string, string>).detail, detail, path);
  }
});

test('a NUL character anywhere a client sends text is a 400 naming the field, on either database, and nothing is made', async () => {
  const headers = { authorization: server.basicAuth, 'content-type': 'application/json' };
  const sms = { from: { type: 'sms', number: '447700900001' }, to: { type: 'sms', number: '447700900000' }, message: { content: { type: 'text', text: 'hi\u0000' } } };
  const cases: Array<[string, string, string | undefined, string]> = [
    ['DELETE', '/v2/applications/%00', undefined, 'id'],
    ['GET', '/v0.1/messages/abc%00', undefined, 'uuid'],
    ['GET', '/sandbox/messages?to=%00', undefined, 'to'],
    ['POST', '/v0.1/messages', JSON.stringify(sms), 'message.content.text'],
    ['POST', '/v0.1/dispatch', JSON.stringify({ template: 'failover', workflow: [sms] }), 'workflow[0].message.content.text'],
    ['POST', '/v2/applications', JSON.stringify({ name: 'app', 'a\u0000': 1 }), 'body'],
  ];
  for (const [method, path, body, name] of cases) {
    const response = await fetch(`${server.url}${path}`, { method, headers, ...(body !== undefined && { body }) });
    assert.equal(response.status, 400, `${method} ${path}`);
    const problem = (await response.json()) as { invalid_parameters?: unknown };
    assert.deepEqual(problem.invalid_parameters, [{ name, reason: 'must not contain the NUL character (U+0000)' }], `${method} ${path}`);
  }
  const sent = (await (await fetch(`${server.url}/sandbox/messages`, { headers })).json()) as { messages: unknown[] };
  assert.equal(sent.messages.length, 0);
  const applications = (await (await fetch(`${server.url}/v2/applications`, { headers })).json()) as { total_items: number };
  assert.equal(applications.total_items, 0);
});
