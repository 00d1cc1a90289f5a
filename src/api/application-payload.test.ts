import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { ApplicationRecord } from '../core/records.js';
import type { InvalidParameter } from '../core/validation.js';
import {
  toApplicationCollection,
  toApplicationResource,
  validateApplicationPayload,
  validateListQuery,
  type ApplicationPayload,
} from './application-payload.js';

type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// helpers

const spki = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const RSA = { publicKey: spki(rsa.publicKey), privateKey: rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
const RSA_1024_PUBLIC = spki(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey);
const EC_PUBLIC = spki(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);

/** The body nexmo-cli `app:create --capabilities=messages …` sends (reference §3). */
const CLI_BODY: Json = {
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

function accepted(body: unknown): ApplicationPayload {
  const result = validateApplicationPayload(body);
  assert.ok(result.ok, `expected valid, got ${JSON.stringify(!result.ok && result.errors)}`);
  return result.value;
}

function rejected(body: unknown): InvalidParameter[] {
  const result = validateApplicationPayload(body);
  assert.ok(!result.ok, 'expected invalid');
  return result.errors;
}

/** The names of the invalid parameters, for the common "which field was blamed" check. */
const blamed = (body: unknown) => rejected(body).map((e) => e.name);

const withCapabilities = (capabilities: unknown): Json => ({ name: 'app', capabilities });

// ---------------------------------------------------------------------------------------------

describe('validateApplicationPayload: accepted bodies', () => {
  it('echoes the CLI payload exactly', () => {
    assert.deepEqual(accepted(CLI_BODY), CLI_BODY);
  });

  it('a bare name gets empty capabilities, improve_ai true and no public key', () => {
    assert.deepEqual(accepted({ name: 'x' }), { name: 'x', capabilities: {}, privacy: { improve_ai: true } });
  });

  it('null means absent for keys, capabilities, privacy and single capabilities', () => {
    const body = { name: 'x', keys: null, capabilities: { voice: null }, privacy: { improve_ai: null } };
    assert.deepEqual(accepted(body), { name: 'x', capabilities: {}, privacy: { improve_ai: true } });
  });

  it('keeps improve_ai false', () => {
    assert.deepEqual(accepted({ name: 'x', privacy: { improve_ai: false } }).privacy, { improve_ai: false });
  });

  it('fills in http_method: POST for messages, GET for voice answer URLs, POST for events', () => {
    const value = accepted(
      withCapabilities({
        messages: { webhooks: { status_url: { address: 'https://e.com/s' } } },
        voice: { webhooks: { answer_url: { address: 'https://e.com/a' }, fallback_answer_url: { address: 'https://e.com/f' }, event_url: { address: 'https://e.com/e' } } },
        rtc: { webhooks: { event_url: { address: 'http://e.com/r' } } },
        vbc: {},
      }),
    );
    assert.deepEqual(value.capabilities, {
      messages: { webhooks: { status_url: { address: 'https://e.com/s', http_method: 'POST' } } },
      voice: {
        webhooks: {
          answer_url: { address: 'https://e.com/a', http_method: 'GET', connection_timeout: 1000, socket_timeout: 5000 },
          fallback_answer_url: { address: 'https://e.com/f', http_method: 'GET', connection_timeout: 1000, socket_timeout: 5000 },
          event_url: { address: 'https://e.com/e', http_method: 'POST', connection_timeout: 1000, socket_timeout: 10_000 },
        },
      },
      rtc: { webhooks: { event_url: { address: 'http://e.com/r', http_method: 'POST' } } },
      vbc: {},
    });
  });

  it('keeps voice timeouts at the edges of their ranges', () => {
    const value = accepted(
      withCapabilities({
        voice: {
          webhooks: {
            answer_url: { address: 'https://e.com/a', http_method: 'POST', connection_timeout: 300, socket_timeout: 1000 },
            event_url: { address: 'https://e.com/e', http_method: 'GET', connection_timeout: 1000, socket_timeout: 10_000 },
          },
        },
      }),
    );
    assert.deepEqual(value.capabilities.voice?.webhooks.answer_url, { address: 'https://e.com/a', http_method: 'POST', connection_timeout: 300, socket_timeout: 1000 });
    assert.equal(value.capabilities.voice?.webhooks.event_url?.socket_timeout, 10_000);
  });

  it('drops fields it does not implement, but keeps the capability', () => {
    const value = accepted({ ...CLI_BODY, type: 'messages', capabilities: { messages: { version: 'v1', webhooks: {} }, vbc: { extra: 1 } } });
    assert.deepEqual(value.capabilities, { messages: { webhooks: {} }, vbc: {} });
    assert.ok(!('type' in value));
  });

  it('a capability without webhooks still gets an empty webhooks object', () => {
    assert.deepEqual(accepted(withCapabilities({ messages: {} })).capabilities, { messages: { webhooks: {} } });
  });

  it('accepts a 200-character name, counting an emoji as one', () => {
    assert.equal(accepted({ name: '😀'.repeat(200) }).name, '😀'.repeat(200));
  });

  it('accepts an RSA SPKI public key and stores the canonical PEM', () => {
    const sloppy = `\n${RSA.publicKey.trimEnd()}`; // leading blank line, no trailing newline
    assert.equal(accepted({ name: 'x', keys: { public_key: sloppy } }).publicKey, RSA.publicKey);
  });

  it('ignores a private_key sent in keys: it is never stored', () => {
    const value = accepted({ name: 'x', keys: { public_key: RSA.publicKey, private_key: RSA.privateKey } });
    assert.equal(value.publicKey, RSA.publicKey);
    assert.ok(!JSON.stringify(value).includes('PRIVATE'));
  });
});

describe('validateApplicationPayload: each error names its field', () => {
  const cases: Array<[string, unknown, string, RegExp?]> = [
    ['body not an object', [], 'body'],
    ['missing name', { capabilities: {} }, 'name', /required/],
    ['name not a string', { name: 7 }, 'name', /string/],
    ['blank name', { name: '  ' }, 'name', /empty/],
    ['name too long', { name: 'a'.repeat(201) }, 'name', /200/],
    ['keys not an object', { name: 'x', keys: 'k' }, 'keys'],
    ['public key not a string', { name: 'x', keys: { public_key: 5 } }, 'keys.public_key'],
    ['public key not PEM', { name: 'x', keys: { public_key: 'ssh-rsa AAAA' } }, 'keys.public_key', /BEGIN PUBLIC KEY/],
    ['public key garbage body', { name: 'x', keys: { public_key: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n' } }, 'keys.public_key', /valid/],
    ['private key as public key', { name: 'x', keys: { public_key: RSA.privateKey } }, 'keys.public_key', /BEGIN PUBLIC KEY/],
    ['EC public key', { name: 'x', keys: { public_key: EC_PUBLIC } }, 'keys.public_key', /RSA/],
    ['RSA-1024 public key', { name: 'x', keys: { public_key: RSA_1024_PUBLIC } }, 'keys.public_key', /2048/],
    ['capabilities not an object', withCapabilities([]), 'capabilities'],
    ['unknown capability', withCapabilities({ sms: {} }), 'capabilities.sms', /known capability/],
    ['capability not an object', withCapabilities({ messages: true }), 'capabilities.messages'],
    ['webhooks not an object', withCapabilities({ messages: { webhooks: [] } }), 'capabilities.messages.webhooks'],
    ['unknown webhook', withCapabilities({ messages: { webhooks: { status: { address: 'https://e.com' } } } }), 'capabilities.messages.webhooks.status', /inbound_url, status_url/],
    ['webhook on vbc', withCapabilities({ vbc: { webhooks: { event_url: { address: 'https://e.com' } } } }), 'capabilities.vbc.webhooks.event_url'],
    ['webhook not an object', withCapabilities({ rtc: { webhooks: { event_url: 'https://e.com' } } }), 'capabilities.rtc.webhooks.event_url'],
    ['missing address', withCapabilities({ messages: { webhooks: { status_url: { http_method: 'POST' } } } }), 'capabilities.messages.webhooks.status_url.address', /required/],
    ['relative URL', withCapabilities({ messages: { webhooks: { status_url: { address: '/status' } } } }), 'capabilities.messages.webhooks.status_url.address', /absolute/],
    ['ftp URL', withCapabilities({ messages: { webhooks: { inbound_url: { address: 'ftp://e.com/x' } } } }), 'capabilities.messages.webhooks.inbound_url.address', /http/],
    ['URL too long', withCapabilities({ rtc: { webhooks: { event_url: { address: `https://e.com/${'a'.repeat(2000)}` } } } }), 'capabilities.rtc.webhooks.event_url.address', /2000/],
    ['GET on messages', withCapabilities({ messages: { webhooks: { status_url: { address: 'https://e.com', http_method: 'GET' } } } }), 'capabilities.messages.webhooks.status_url.http_method', /must be POST/],
    ['PUT on voice', withCapabilities({ voice: { webhooks: { answer_url: { address: 'https://e.com', http_method: 'PUT' } } } }), 'capabilities.voice.webhooks.answer_url.http_method', /GET, POST/],
    ['lower-case method', withCapabilities({ rtc: { webhooks: { event_url: { address: 'https://e.com', http_method: 'post' } } } }), 'capabilities.rtc.webhooks.event_url.http_method'],
    ['connection_timeout too low', withCapabilities({ voice: { webhooks: { answer_url: { address: 'https://e.com', connection_timeout: 299 } } } }), 'capabilities.voice.webhooks.answer_url.connection_timeout', /300 to 1000/],
    ['socket_timeout too high on answer_url', withCapabilities({ voice: { webhooks: { answer_url: { address: 'https://e.com', socket_timeout: 5001 } } } }), 'capabilities.voice.webhooks.answer_url.socket_timeout', /1000 to 5000/],
    ['socket_timeout too high on event_url', withCapabilities({ voice: { webhooks: { event_url: { address: 'https://e.com', socket_timeout: 10_001 } } } }), 'capabilities.voice.webhooks.event_url.socket_timeout', /1000 to 10000/],
    ['fractional timeout', withCapabilities({ voice: { webhooks: { fallback_answer_url: { address: 'https://e.com', connection_timeout: 500.5 } } } }), 'capabilities.voice.webhooks.fallback_answer_url.connection_timeout'],
    ['timeout as a string', withCapabilities({ voice: { webhooks: { event_url: { address: 'https://e.com', socket_timeout: '2000' } } } }), 'capabilities.voice.webhooks.event_url.socket_timeout'],
    ['privacy not an object', { name: 'x', privacy: true }, 'privacy'],
    ['improve_ai not a boolean', { name: 'x', privacy: { improve_ai: 'yes' } }, 'privacy.improve_ai', /boolean/],
  ];
  for (const [title, body, name, reason] of cases) {
    it(title, () => {
      const errors = rejected(body);
      assert.deepEqual(errors.map((e) => e.name), [name]);
      if (reason) assert.match(errors[0]!.reason, reason);
    });
  }

  it('reports every bad field at once', () => {
    const body = {
      name: '',
      keys: { public_key: 'nope' },
      capabilities: { sms: {}, messages: { webhooks: { status_url: { address: 'x', http_method: 'GET' } } } },
      privacy: { improve_ai: 1 },
    };
    assert.deepEqual(blamed(body).sort(), [
      'capabilities.messages.webhooks.status_url.address',
      'capabilities.messages.webhooks.status_url.http_method',
      'capabilities.sms',
      'keys.public_key',
      'name',
      'privacy.improve_ai',
    ]);
  });

  it('an inherited property name is not a capability', () => {
    assert.deepEqual(blamed(JSON.parse('{"name":"x","capabilities":{"toString":{}}}')), ['capabilities.toString']);
    assert.deepEqual(blamed(JSON.parse('{"name":"x","capabilities":{"rtc":{"webhooks":{"constructor":{}}}}}')), ['capabilities.rtc.webhooks.constructor']);
  });
});

describe('validateListQuery', () => {
  it('defaults to page_size 10, page 1', () => {
    assert.deepEqual(validateListQuery({}), { ok: true, value: { pageSize: 10, page: 1 } });
    assert.deepEqual(validateListQuery(undefined), { ok: true, value: { pageSize: 10, page: 1 } });
  });

  it('reads decimal strings', () => {
    assert.deepEqual(validateListQuery({ page_size: '100', page: '3' }), { ok: true, value: { pageSize: 100, page: 3 } });
  });

  const bad: Array<[Json, string[]]> = [
    [{ page_size: '0' }, ['page_size']],
    [{ page_size: '101' }, ['page_size']],
    [{ page_size: '' }, ['page_size']],
    [{ page_size: '1.5' }, ['page_size']],
    [{ page_size: '-1' }, ['page_size']],
    [{ page_size: ['1', '2'] }, ['page_size']],
    [{ page: '0' }, ['page']],
    [{ page: 'two' }, ['page']],
    [{ page: '99999999999' }, ['page']],
    [{ page_size: 'x', page: '0' }, ['page_size', 'page']],
  ];
  for (const [query, names] of bad) {
    it(`rejects ${JSON.stringify(query)}`, () => {
      const result = validateListQuery(query);
      assert.ok(!result.ok);
      assert.deepEqual(result.errors.map((e) => e.name), names);
    });
  }

  it('says page_size must be between 1 and 100, as the spec example does', () => {
    const result = validateListQuery({ page_size: '101' });
    assert.ok(!result.ok);
    assert.equal(result.errors[0]!.reason, 'must be between 1 and 100');
  });
});

// ---------------------------------------------------------------------------------------------

const record = (id: string): ApplicationRecord => ({
  id,
  apiKey: 'abcd1234',
  name: `app ${id}`,
  publicKey: RSA.publicKey,
  capabilities: { vbc: {} },
  privacy: { improve_ai: false },
  createdAt: 1,
  updatedAt: 2,
});

describe('toApplicationResource', () => {
  it('has exactly the fields of reference §3, in order, and no account or timestamps', () => {
    const resource = toApplicationResource(record('a1'));
    assert.deepEqual(Object.keys(resource), ['id', 'name', 'capabilities', 'keys', 'privacy', '_links']);
    assert.deepEqual(resource, {
      id: 'a1',
      name: 'app a1',
      capabilities: { vbc: {} },
      keys: { public_key: RSA.publicKey },
      privacy: { improve_ai: false },
      _links: { self: { href: '/v2/applications/a1' } },
    });
  });

  it('adds private_key only when given', () => {
    assert.deepEqual(toApplicationResource(record('a1'), 'PRIVATE').keys, { public_key: RSA.publicKey, private_key: 'PRIVATE' });
    assert.ok(!('private_key' in toApplicationResource(record('a1')).keys));
  });
});

describe('toApplicationCollection', () => {
  const href = (size: number, page: number) => ({ href: `/v2/applications?page_size=${size}&page=${page}` });

  it('a middle page links to every neighbour', () => {
    const collection = toApplicationCollection([record('a3'), record('a4')], 5, { pageSize: 2, page: 2 });
    assert.equal(collection.total_pages, 3);
    assert.deepEqual(collection._embedded.applications.map((a) => a.id), ['a3', 'a4']);
    assert.deepEqual(collection._links, { self: href(2, 2), first: href(2, 1), last: href(2, 3), prev: href(2, 1), next: href(2, 3) });
  });

  it('the only page has neither prev nor next', () => {
    const collection = toApplicationCollection([record('a1')], 1, { pageSize: 10, page: 1 });
    assert.deepEqual(collection._links, { self: href(10, 1), first: href(10, 1), last: href(10, 1) });
  });

  it('an empty account still has one page', () => {
    const collection = toApplicationCollection([], 0, { pageSize: 10, page: 1 });
    assert.equal(collection.total_items, 0);
    assert.equal(collection.total_pages, 1);
    assert.deepEqual(collection._embedded.applications, []);
  });

  it('beyond the end: empty, prev goes back to the last page', () => {
    const collection = toApplicationCollection([], 3, { pageSize: 2, page: 9 });
    assert.deepEqual(collection._links.prev, href(2, 2));
    assert.equal(collection._links.next, undefined);
  });
});
