import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linkTarget } from './link-address.js';

test('a link names a channel and an address, a number without its plus', () => {
  assert.deepEqual(linkTarget('sms', '+447700900000'), { ok: true, channel: 'sms', address: '447700900000' });
  assert.deepEqual(linkTarget('messenger', '107083064136738'), { ok: true, channel: 'messenger', address: '107083064136738' });
  assert.deepEqual(linkTarget('sms', 'ACME'), { ok: true, channel: 'sms', address: 'ACME' });
});

test('an unknown channel or an address that is not one is refused, naming which', () => {
  assert.equal((linkTarget('fax', '1') as { name: string }).name, 'channel');
  for (const address of ['', '+', '44 77', '44-77', 'a'.repeat(51), '../x', '%00']) assert.equal((linkTarget('sms', address) as { name: string }).name, 'address', address);
});
