import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withoutNulCharacters } from './nul-characters.js';

test('every NUL in strings, nested values and keys becomes U+FFFD', () => {
  const report = { type: 'inbound', inbound: { from: { number: '44\u00007' }, message: { content: { text: 'a\u0000b\u0000' } }, tags: ['x\u0000'], 'k\u0000': 1, at: 5 } };
  assert.deepEqual(withoutNulCharacters(report), {
    type: 'inbound',
    inbound: { from: { number: '44\uFFFD7' }, message: { content: { text: 'a\uFFFDb\uFFFD' } }, tags: ['x\uFFFD'], 'k\uFFFD': 1, at: 5 },
  });
  assert.equal(report.inbound.message.content.text, 'a\u0000b\u0000', 'the original is left as it was');
});

test('a value without NUL comes back as the same object, not a copy', () => {
  const report = { providerRef: 'abc', report: { status: 'delivered', at: 1, error: undefined }, alternateRefs: ['d'] };
  assert.equal(withoutNulCharacters(report), report);
  assert.equal(withoutNulCharacters(null), null);
  assert.equal(withoutNulCharacters(42), 42);
});
