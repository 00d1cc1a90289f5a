import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBasicAuthorization, parseBearerAuthorization } from './basic-credentials.js';

const basic = (userPass: string) => `Basic ${Buffer.from(userPass).toString('base64')}`;

test('Basic: key and secret are split at the first colon', () => {
  const cases: Array<[string, { apiKey: string; apiSecret: string }]> = [
    [basic('abcd1234:s3cr3t'), { apiKey: 'abcd1234', apiSecret: 's3cr3t' }],
    [basic('abcd1234:with:colons'), { apiKey: 'abcd1234', apiSecret: 'with:colons' }],
    [basic('clé:sécret'), { apiKey: 'clé', apiSecret: 'sécret' }],
    [`BASIC ${btoa('k:s')}`, { apiKey: 'k', apiSecret: 's' }],
    [`basic ${btoa('k:s')}`, { apiKey: 'k', apiSecret: 's' }],
    [`Basic   ${btoa('key:secret1')}`, { apiKey: 'key', apiSecret: 'secret1' }],
    [`Basic ${btoa('key:secret1').replace(/=+$/, '')}`, { apiKey: 'key', apiSecret: 'secret1' }],
  ];
  for (const [header, expected] of cases) {
    assert.deepEqual(parseBasicAuthorization(header), expected, header);
  }
});

test('Basic: malformed values are undefined', () => {
  const malformed = [
    '',
    'Basic',
    'Basic ',
    basic('no-colon'),
    basic(':secret-without-key'),
    basic('key-without-secret:'),
    'Basic !!!not-base64!!!',
    'Basic abcde',
    `Basic ${btoa('k:s')} extra`,
    `Bearer ${btoa('k:s')}`,
    `Basic${btoa('k:s')}`,
    `Basic ${Buffer.from([0x6b, 0x3a, 0xff, 0xfe]).toString('base64')}`,
  ];
  for (const header of malformed) {
    assert.equal(parseBasicAuthorization(header), undefined, header);
  }
});

test('Bearer: the token is returned as is', () => {
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJpYXQiOjF9.c2ln-_';
  assert.equal(parseBearerAuthorization(`Bearer ${jwt}`), jwt);
  assert.equal(parseBearerAuthorization(`bearer ${jwt}`), jwt);
  assert.equal(parseBearerAuthorization(`BEARER  ${jwt}`), jwt);
});

test('Bearer: anything else is undefined', () => {
  for (const header of ['', 'Bearer', 'Bearer ', 'Bearer a b', 'Bearer a,b', `Basic ${btoa('k:s')}`, 'Token abc']) {
    assert.equal(parseBearerAuthorization(header), undefined, header);
  }
});
