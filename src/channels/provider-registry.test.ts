import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderRegistry } from './provider-registry.js';
import type { ChannelAdapter } from './channel-adapter.js';

const adapter = (provider: string) => ({ provider, channels: ['sms'] }) as unknown as ChannelAdapter;

test("a provider's rate is shared among the live nodes: each paces at its share, and together they keep to it", () => {
  const registry = new ProviderRegistry([adapter('smsc')], { routes: { sms: [{ prefixes: [], via: ['smsc'] }] } }, new Map([['smsc', 10]]));
  const waits = (count: number) => Array.from({ length: count }, () => registry.reserveSend('smsc', 0));
  assert.deepEqual(waits(3), [0, 100, 200], 'one node: 10 a second, 100 ms apart');
  registry.shareRatesAmong(2);
  assert.deepEqual(waits(3), [0, 200, 400], 'two nodes: 5 a second each');
  registry.shareRatesAmong(0);
  assert.deepEqual(waits(2), [0, 100], 'never less than one node');
  assert.equal(registry.reserveSend('unpaced', 0), 0);
});
