import { test } from 'node:test';
import assert from 'node:assert/strict';
import { messagePrice, sumPrices, FREE_PRICE_TABLE, type PriceTable } from './pricing.js';

const table: PriceTable = {
  currency: 'EUR',
  channels: { sms: { default: '0.0333', prefixes: { '44': '0.04', '447700': '0.05' } } },
  dispatchFee: '0.002',
};

test('the longest matching destination prefix sets the price', () => {
  const cases: Array<[string, string]> = [
    ['447700900000', '0.05'],
    ['447800900000', '0.04'],
    ['14155550100', '0.0333'],
  ];
  for (const [destination, price] of cases) {
    assert.deepEqual(messagePrice(table, 'sms', destination), { price, currency: 'EUR' }, destination);
  }
});

test('a channel without a price costs nothing', () => {
  assert.deepEqual(messagePrice(table, 'messenger', '123'), { price: '0', currency: 'EUR' });
  assert.deepEqual(messagePrice(FREE_PRICE_TABLE, 'sms', '447700900000'), { price: '0', currency: 'EUR' });
});

test('sums are exact in decimal', () => {
  assert.equal(sumPrices(['0.0333', '0.002']), '0.0353');
  assert.equal(sumPrices(['0.001', '0.002']), '0.003');
  assert.equal(sumPrices(['0.1', '0.2']), '0.3');
  assert.equal(sumPrices([]), '0');
  assert.equal(sumPrices(['1', '0.5']), '1.5');
});
