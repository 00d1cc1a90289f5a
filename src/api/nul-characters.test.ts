import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NUL_REASON, nulInJsonBody, nulInParameters } from './nul-characters.js';

const inBody = (value: unknown) => nulInJsonBody(JSON.stringify(value), value);

test('a NUL in a JSON body is named by the path of the field that holds it', () => {
  assert.deepEqual(inBody({ message: { content: { type: 'text', text: 'a\u0000b' } } }), { name: 'message.content.text', reason: NUL_REASON });
  assert.deepEqual(inBody({ workflow: [{ to: 'x' }, { message: { content: { text: '\u0000' } } }] }), { name: 'workflow[1].message.content.text', reason: NUL_REASON });
  assert.deepEqual(inBody('\u0000'), { name: 'body', reason: NUL_REASON });
  assert.deepEqual(inBody([['ok', '\u0000']]), { name: '[0][1]', reason: NUL_REASON });
});

test('the first NUL in document order is the one named', () => {
  assert.equal(inBody({ a: ['ok', { b: '\u0000' }], c: '\u0000' })?.name, 'a[1].b');
});

test("a key is never echoed unless shaped like a field name; a NUL in a key names the key's place", () => {
  assert.deepEqual(inBody({ capabilities: { 'na\u0000me': 1 } }), { name: 'capabilities', reason: NUL_REASON });
  assert.deepEqual(inBody({ '<b>x</b>': { text: '\u0000' } }), { name: 'text', reason: NUL_REASON });
  assert.deepEqual(inBody({ '\u0000': 1 }), { name: 'body', reason: NUL_REASON });
});

test('a body without the escape is not walked; an escaped backslash before u0000 is not a NUL', () => {
  const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) as unknown;
  assert.equal(nulInJsonBody('[]', deep), undefined);
  const text = { text: '\\u0000' };
  assert.equal(nulInJsonBody(JSON.stringify(text), text), undefined);
  assert.equal(inBody({ text: 'plain', n: 1, none: null, yes: true }), undefined);
});

test('any nesting depth is walked without overflowing the stack', () => {
  const raw = '['.repeat(200_000) + '"\\u0000"' + ']'.repeat(200_000);
  const found = nulInJsonBody(raw, JSON.parse(raw));
  assert.equal(found?.reason, NUL_REASON);
  assert.ok(found?.name.startsWith('[0][0]'));
});

test('path and query parameters: named when shaped like a field, else by their part', () => {
  assert.deepEqual(nulInParameters({ id: 'a\u0000' }, 'path'), { name: 'id', reason: NUL_REASON });
  assert.deepEqual(nulInParameters({ page: '1', to: ['ok', '\u0000'] }, 'query'), { name: 'to', reason: NUL_REASON });
  assert.deepEqual(nulInParameters({ 'x\u0000': 'ok' }, 'query'), { name: 'query', reason: NUL_REASON });
  assert.deepEqual(nulInParameters({ '<i>': '\u0000' }, 'query'), { name: 'query', reason: NUL_REASON });
  assert.equal(nulInParameters({ id: 'abc', n: 1 }, 'path'), undefined);
  assert.equal(nulInParameters(undefined, 'query'), undefined);
});
