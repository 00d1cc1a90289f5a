import { test } from 'node:test';
import assert from 'node:assert/strict';
import { providersFor, type RoutingTable } from './routing.js';

const table: RoutingTable = {
  routes: {
    sms: [
      { prefixes: ['44', '353'], via: ['smsc-uk', 'twilio'] },
      { prefixes: [], via: ['vonage'] },
    ],
    messenger: [{ prefixes: [], via: ['fb'] }],
    mms: [{ prefixes: ['1'], via: ['twilio'] }],
  },
};

test('the first route whose prefix matches gives the providers, in order; a route without prefixes takes the rest', () => {
  assert.deepEqual(providersFor(table, 'sms', '447700900000'), ['smsc-uk', 'twilio']);
  assert.deepEqual(providersFor(table, 'sms', '353861234567'), ['smsc-uk', 'twilio']);
  assert.deepEqual(providersFor(table, 'sms', '14155550100'), ['vonage']);
  assert.deepEqual(providersFor(table, 'messenger', '1234567890'), ['fb']);
});

test('a channel or destination no route serves is unroutable, unless something serves the unrouted', () => {
  assert.equal(providersFor(table, 'whatsapp', '447700900000'), undefined);
  assert.equal(providersFor(table, 'mms', '447700900000'), undefined, 'no route of mms matches a UK number');
  assert.deepEqual(providersFor({ ...table, unrouted: 'sandbox' }, 'whatsapp', '447700900000'), ['sandbox']);
  assert.deepEqual(providersFor({ routes: {}, unrouted: 'sandbox' }, 'sms', '447700900000'), ['sandbox']);
});
