/**
 * Applications API v2 against a real server over HTTP (reference/nexmo-api.md §3).
 * One server for the file; tests that count applications use an account of their own.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSign, createVerify, generateKeyPair, generateKeyPairSync, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { generateApplicationJwt } from '../src/cli/generate-jwt.js';
import { basic, startTestServer, type TestServer } from './support/test-server.js';

type Json = Record<string, any>;

interface Answer {
  status: number;
  contentType: string;
  text: string;
  json: Json;
}

const PROBLEM_JSON = /^application\/problem\+json/;
const TRACE_ID = /^[0-9a-f]{32}$/;
const PAYLOAD_VALIDATION = 'https://developer.nexmo.com/api-errors/application#payload-validation';
const LIST_VALIDATION = 'https://developer.nexmo.com/api-errors/application#list-validation';

/** The body `nexmo app:create … --capabilities=messages` sends (reference §3). */
const CLI_BODY = {
  name: 'My Messages App',
  capabilities: {
    messages: {
      webhooks: {
        inbound_url: { address: 'https://example.com/webhooks/inbound-message', http_method: 'POST' },
        status_url: { address: 'https://example.com/webhooks/message-status', http_method: 'POST' },
      },
    },
  },
  privacy: { improve_ai: true },
};

const generateKeyPairAsync = promisify(generateKeyPair);
const spkiPem = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

let server: TestServer;

before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.close();
});

/** One request; `authorization: undefined` sends none. */
async function call(method: string, path: string, options: { body?: unknown; authorization?: string | undefined } = {}): Promise<Answer> {
  const authorization = 'authorization' in options ? options.authorization : server.basicAuth;
  const headers: Record<string, string> = {};
  if (authorization !== undefined) headers.authorization = authorization;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers,
    ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text, json: text ? JSON.parse(text) : {} };
}

const create = (body: unknown, authorization?: string) => call('POST', '/v2/applications', { body, authorization: authorization ?? server.basicAuth });

/** Creates with a supplied key: no key generation, so it is quick. */
async function createQuick(name: string, authorization?: string): Promise<Json> {
  const answer = await create({ name, keys: { public_key: spkiPem() } }, authorization);
  assert.equal(answer.status, 201, answer.text);
  return answer.json;
}

function assertProblem(answer: Answer, status: number, type: string): void {
  assert.equal(answer.status, status, answer.text);
  assert.match(answer.contentType, PROBLEM_JSON);
  assert.equal(answer.json.type, type);
  assert.match(answer.json.instance, TRACE_ID);
}

function assertNotFound(answer: Answer, id: string): void {
  assertProblem(answer, 404, 'https://developer.nexmo.com/api-errors#not-found');
  assert.equal(answer.json.title, 'Not Found');
  assert.equal(answer.json.detail, `ID '${id}' does not exist, or you do not have access`);
}

/** Every file SQLite may have written to: the database and its write-ahead log. */
// ---------------------------------------------------------------------------------------------

describe('create', () => {
  it('generates a key pair: 201 with a private key that signs what the public key verifies', async () => {
    const answer = await create({ name: 'generated' });
    assert.equal(answer.status, 201, answer.text);
    assert.match(answer.contentType, /^application\/json/);
    const app = answer.json;
    assert.match(app.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual(Object.keys(app), ['id', 'name', 'capabilities', 'keys', 'privacy', '_links']);
    assert.deepEqual(app._links, { self: { href: `/v2/applications/${app.id}` } });
    assert.deepEqual(app.capabilities, {});
    assert.deepEqual(app.privacy, { improve_ai: true });
    assert.match(app.keys.public_key, /^-----BEGIN PUBLIC KEY-----\n/);
    assert.match(app.keys.private_key, /^-----BEGIN PRIVATE KEY-----\n/);

    const signature = createSign('sha256').update('hello').sign(app.keys.private_key);
    assert.ok(createVerify('sha256').update('hello').verify(app.keys.public_key, signature));
  });

  it('the generated private key signs JWTs the server accepts for that application', async () => {
    const { json: app } = await create({ name: 'jwt' });
    const token = await generateApplicationJwt({ privateKeyPem: app.keys.private_key, applicationId: app.id });
    // An unknown message: authenticated callers get 404, a rejected token would get 401.
    const answer = await call('GET', `/v0.1/messages/${randomUUID()}`, { authorization: `Bearer ${token}` });
    assert.equal(answer.status, 404, answer.text);
  });

  it('nothing of a generated private key is stored', async () => {
    const { json: app } = await create({ name: 'secretless' });
    const stored = await server.store.findApplication(app.id);
    assert.ok(stored);
    assert.equal(stored.publicKey, app.keys.public_key);
    assert.ok(!JSON.stringify(stored).includes('PRIVATE'));

    const privateLines = (app.keys.private_key as string).split('\n').filter((line) => line && !line.startsWith('-----'));
    const bytes = await server.databaseText();
    assert.ok(bytes.includes(app.id), 'the scan reads the database the application is in');
    for (const line of privateLines) assert.ok(!bytes.includes(line), 'a line of the private key is in the database files');
  });

  it('with a supplied public key: a keys object with that key and no private_key', async () => {
    const publicKey = spkiPem();
    const answer = await create({ name: 'supplied', keys: { public_key: publicKey } });
    assert.equal(answer.status, 201, answer.text);
    // nexmo-cli reads response.keys.private_key unguarded: `keys` must be there.
    assert.deepEqual(answer.json.keys, { public_key: publicKey });
    assert.equal((await server.store.findApplication(answer.json.id))?.publicKey, publicKey);
  });

  it('the exact nexmo-cli payload is echoed', async () => {
    const answer = await create(CLI_BODY);
    assert.equal(answer.status, 201, answer.text);
    assert.equal(answer.json.name, CLI_BODY.name);
    assert.deepEqual(answer.json.capabilities, CLI_BODY.capabilities);
    assert.deepEqual(answer.json.privacy, CLI_BODY.privacy);
    assert.equal(typeof answer.json.keys.private_key, 'string');
  });

  it('fills in defaults: http_method and voice timeouts', async () => {
    const answer = await create({
      name: 'defaults',
      keys: { public_key: spkiPem() },
      capabilities: { messages: { webhooks: { status_url: { address: 'https://e.com/s' } } }, voice: { webhooks: { answer_url: { address: 'https://e.com/a' } } } },
      privacy: { improve_ai: false },
    });
    assert.equal(answer.status, 201, answer.text);
    assert.deepEqual(answer.json.capabilities, {
      messages: { webhooks: { status_url: { address: 'https://e.com/s', http_method: 'POST' } } },
      voice: { webhooks: { answer_url: { address: 'https://e.com/a', http_method: 'GET', connection_timeout: 1000, socket_timeout: 5000 } } },
    });
    assert.deepEqual(answer.json.privacy, { improve_ai: false });
  });
});

describe('payload validation: 400 naming the field', () => {
  const cases: Array<[string, unknown, string]> = [
    ['missing name', { capabilities: CLI_BODY.capabilities }, 'name'],
    ['bad URL', { name: 'x', capabilities: { messages: { webhooks: { status_url: { address: 'not a url' } } } } }, 'capabilities.messages.webhooks.status_url.address'],
    ['GET on messages', { name: 'x', capabilities: { messages: { webhooks: { inbound_url: { address: 'https://e.com/i', http_method: 'GET' } } } } }, 'capabilities.messages.webhooks.inbound_url.http_method'],
    ['bad public key', { name: 'x', keys: { public_key: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n' } }, 'keys.public_key'],
    ['unknown capability', { name: 'x', capabilities: { fax: {} } }, 'capabilities.fax'],
  ];
  for (const [title, body, name] of cases) {
    it(title, async () => {
      const answer = await create(body);
      assertProblem(answer, 400, PAYLOAD_VALIDATION);
      assert.equal(answer.json.title, 'Bad Request');
      assert.equal(answer.json.detail, 'The request failed due to validation errors');
      assert.deepEqual(answer.json.invalid_parameters.map((p: Json) => p.name), [name]);
      assert.equal(typeof answer.json.invalid_parameters[0].reason, 'string');
    });
  }

  it('only RSA keys of 2048 to 4096 bits with the exponent 65537, on create and on update', async () => {
    // Generated off the event loop: a 4160-bit key takes seconds, and the server runs in this process.
    const pem = async (options: { modulusLength: number; publicExponent?: number }) =>
      (await generateKeyPairAsync('rsa', options)).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const app = await createQuick('strict keys');
    for (const [options, reason] of [
      [{ modulusLength: 2048, publicExponent: 3 }, 'must be an RSA key with the public exponent 65537'],
      [{ modulusLength: 2048, publicExponent: 0x10003 }, 'must be an RSA key with the public exponent 65537'],
      [{ modulusLength: 1024 }, 'must be an RSA key of 2048 to 4096 bits'],
      [{ modulusLength: 4160 }, 'must be an RSA key of 2048 to 4096 bits'],
    ] as const) {
      const publicKey = await pem(options);
      for (const answer of [await create({ name: 'x', keys: { public_key: publicKey } }), await call('PUT', `/v2/applications/${app.id}`, { body: { name: 'x', keys: { public_key: publicKey } } })]) {
        assertProblem(answer, 400, PAYLOAD_VALIDATION);
        assert.deepEqual(answer.json.invalid_parameters, [{ name: 'keys.public_key', reason }], JSON.stringify(options));
      }
    }
    assert.equal((await create({ name: 'x', keys: { public_key: await pem({ modulusLength: 4096 }) } })).status, 201);
  });

  it('a key stored before the policy (exponent 3) verifies no JWT', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 });
    const app = await createQuick('old key');
    const stored = (await server.store.findApplication(app.id))!;
    await server.store.updateApplication({ ...stored, publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() });
    const token = await generateApplicationJwt({ privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), applicationId: app.id });
    const answer = await call('GET', '/v0.1/messages/0f6c3a53-0000-4000-8000-000000000000', { authorization: `Bearer ${token}` });
    assert.equal(answer.status, 401);
  });

  it('PUT is validated the same way', async () => {
    const app = await createQuick('to be badly updated');
    const answer = await call('PUT', `/v2/applications/${app.id}`, { body: { name: '' } });
    assertProblem(answer, 400, PAYLOAD_VALIDATION);
    assert.deepEqual(answer.json.invalid_parameters.map((p: Json) => p.name), ['name']);
  });
});

describe('list', () => {
  it('pages through 3 applications with page_size 2', async () => {
    const account = await server.createAccount();
    const created = [await createQuick('a', account.basicAuth), await createQuick('b', account.basicAuth), await createQuick('c', account.basicAuth)];
    const href = (page: number) => ({ href: `/v2/applications?page_size=2&page=${page}` });

    const first = await call('GET', '/v2/applications?page_size=2&page=1', { authorization: account.basicAuth });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json.page_size, 2);
    assert.equal(first.json.page, 1);
    assert.equal(first.json.total_items, 3);
    assert.equal(first.json.total_pages, 2);
    assert.equal(first.json._embedded.applications.length, 2);
    assert.deepEqual(first.json._links, { self: href(1), first: href(1), last: href(2), next: href(2) });

    const second = await call('GET', '/v2/applications?page_size=2&page=2', { authorization: account.basicAuth });
    assert.equal(second.json.page, 2);
    assert.equal(second.json._embedded.applications.length, 1);
    assert.deepEqual(second.json._links, { self: href(2), first: href(1), last: href(2), prev: href(1) });

    const listed = [...first.json._embedded.applications, ...second.json._embedded.applications];
    assert.deepEqual(listed.map((a: Json) => a.id).sort(), created.map((a) => a.id).sort());
    for (const app of listed) {
      assert.deepEqual(app, { ...created.find((c) => c.id === app.id), keys: { public_key: app.keys.public_key } });
    }
  });

  it('defaults to page_size 10, page 1', async () => {
    const account = await server.createAccount();
    await createQuick('only', account.basicAuth);
    const answer = await call('GET', '/v2/applications', { authorization: account.basicAuth });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.page_size, 10);
    assert.equal(answer.json.page, 1);
    assert.equal(answer.json.total_items, 1);
    assert.equal(answer.json.total_pages, 1);
    assert.deepEqual(answer.json._links.self, { href: '/v2/applications?page_size=10&page=1' });
  });

  it('an account without applications gets an empty first page', async () => {
    const account = await server.createAccount();
    const answer = await call('GET', '/v2/applications', { authorization: account.basicAuth });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.total_items, 0);
    assert.deepEqual(answer.json._embedded.applications, []);
  });

  for (const query of ['page_size=0', 'page_size=101', 'page_size=ten']) {
    it(`${query} → 400 naming page_size`, async () => {
      const answer = await call('GET', `/v2/applications?${query}`);
      assertProblem(answer, 400, LIST_VALIDATION);
      assert.equal(answer.json.title, 'Bad Request');
      assert.deepEqual(answer.json.invalid_parameters.map((p: Json) => p.name), ['page_size']);
    });
  }

  it('page=0 → 400 naming page', async () => {
    const answer = await call('GET', '/v2/applications?page=0');
    assertProblem(answer, 400, LIST_VALIDATION);
    assert.deepEqual(answer.json.invalid_parameters.map((p: Json) => p.name), ['page']);
  });
});

describe('get, update, delete', () => {
  it('get returns the application without its private key', async () => {
    const { json: created } = await create(CLI_BODY);
    const answer = await call('GET', `/v2/applications/${created.id}`);
    assert.equal(answer.status, 200, answer.text);
    const { private_key: _, ...keys } = created.keys;
    assert.deepEqual(answer.json, { ...created, keys });
  });

  it('PUT replaces everything but the key; the private key is never returned again', async () => {
    const { json: created } = await create(CLI_BODY);
    const update = { name: 'Renamed', capabilities: { rtc: { webhooks: { event_url: { address: 'https://e.com/rtc', http_method: 'GET' } } } } };
    const answer = await call('PUT', `/v2/applications/${created.id}`, { body: update });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.json, {
      id: created.id,
      name: 'Renamed',
      capabilities: update.capabilities, // messages is gone: full replace
      keys: { public_key: created.keys.public_key },
      privacy: { improve_ai: true },
      _links: created._links,
    });
    const read = await call('GET', `/v2/applications/${created.id}`);
    assert.deepEqual(read.json, answer.json);
    assert.ok(!read.text.includes('PRIVATE'));
  });

  it('PUT with a public key replaces the key', async () => {
    const app = await createQuick('rekey');
    const publicKey = spkiPem();
    const answer = await call('PUT', `/v2/applications/${app.id}`, { body: { name: 'rekey', keys: { public_key: publicKey } } });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.json.keys, { public_key: publicKey });
    assert.equal((await server.store.findApplication(app.id))?.publicKey, publicKey);
  });

  it('DELETE answers 204 with no body; afterwards the id is 404 everywhere', async () => {
    const app = await createQuick('doomed');
    const deleted = await call('DELETE', `/v2/applications/${app.id}`);
    assert.equal(deleted.status, 204);
    assert.equal(deleted.text, '');
    assertNotFound(await call('GET', `/v2/applications/${app.id}`), app.id);
    assertNotFound(await call('PUT', `/v2/applications/${app.id}`, { body: { name: 'back' } }), app.id);
    assertNotFound(await call('DELETE', `/v2/applications/${app.id}`), app.id);
    assert.equal(await server.store.findApplication(app.id), undefined);
  });

  it('an unknown id is 404', async () => {
    assertNotFound(await call('GET', '/v2/applications/ABC123'), 'ABC123');
  });
});

describe('accounts are isolated', () => {
  it("another account cannot see, list, update or delete an application", async () => {
    const app = await createQuick('mine');
    const other = await server.createAccount();
    const as = { authorization: other.basicAuth };
    assertNotFound(await call('GET', `/v2/applications/${app.id}`, as), app.id);
    assertNotFound(await call('PUT', `/v2/applications/${app.id}`, { ...as, body: { name: 'stolen' } }), app.id);
    assertNotFound(await call('DELETE', `/v2/applications/${app.id}`, as), app.id);
    const list = await call('GET', '/v2/applications', as);
    assert.equal(list.json.total_items, 0);

    const untouched = await call('GET', `/v2/applications/${app.id}`);
    assert.deepEqual(untouched.json, app);
  });
});

describe('authentication', () => {
  const unauthorised = {
    type: 'https://developer.nexmo.com/api-errors#unauthorized',
    title: 'Invalid credentials supplied',
    detail: 'You did not provide correct credentials.',
  };
  // Functions: the server (and so its account) exists only once the tests run.
  const badCredentials: Array<[string, () => string | undefined]> = [
    ['no credentials', () => undefined],
    ['a wrong secret', () => basic(server.apiKey, `${server.apiSecret}x`)],
    ['an unknown api key', () => basic('nobody00', server.apiSecret)],
    ['a Bearer token', () => 'Bearer abc.def.ghi'],
  ];
  for (const [title, credentials] of badCredentials) {
    it(`${title} → 401 with the Applications 401 body`, async () => {
      const authorization = credentials();
      for (const [method, path] of [['GET', '/v2/applications'], ['POST', '/v2/applications'], ['GET', `/v2/applications/${randomUUID()}`], ['DELETE', `/v2/applications/${randomUUID()}`]] as const) {
        const answer = await call(method, path, { authorization, ...(method === 'POST' && { body: CLI_BODY }) });
        assertProblem(answer, 401, unauthorised.type);
        const { instance: _, ...body } = answer.json;
        assert.deepEqual(body, unauthorised, `${method} ${path}`);
      }
    });
  }
});
