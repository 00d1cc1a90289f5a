import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebhookAddressPolicy } from './address-policy.js';
import { guardedLookup, ADDRESS_REFUSED, type Resolver } from './guarded-lookup.js';

const strict = new WebhookAddressPolicy([]);
const lab = new WebhookAddressPolicy(['10.20.0.0/16', 'fd00:1::/32']);

test('public unicast is allowed, everything internal refused unless listed', () => {
  for (const address of ['93.184.216.34', '2606:2800:220:1::1']) assert.equal(strict.check(address).allowed, true, address);
  for (const address of ['127.0.0.1', '::1', '10.20.1.1', '172.16.0.1', '192.168.1.1', 'fd00:1::5', '100.64.0.1', '0.0.0.0', '::', '224.0.0.1', '255.255.255.255', '::ffff:10.0.0.1']) {
    assert.equal(strict.check(address).allowed, false, address);
  }
  assert.equal(lab.check('10.20.1.1').allowed, true);
  assert.equal(lab.check('::ffff:10.20.1.1').allowed, true, 'an IPv4-mapped address is judged as its IPv4 address');
  assert.equal(lab.check('fd00:1::5').allowed, true);
  assert.equal(lab.check('10.21.0.1').allowed, false);
});

test('link-local and metadata addresses are refused even when a listed network holds them', () => {
  const careless = new WebhookAddressPolicy(['0.0.0.0/0', '::/0']);
  for (const address of ['169.254.169.254', 'fe80::1', 'fd00:ec2::254', '100.100.100.200', '::ffff:169.254.169.254']) {
    const verdict = careless.check(address);
    assert.equal(verdict.allowed, false, address);
  }
  assert.equal(careless.check('10.0.0.1').allowed, true);
});

test('hosts as written: literals judged now, localhost is loopback, metadata names refused, other names later', () => {
  assert.equal(strict.checkHost('[::1]').allowed, false);
  assert.equal(strict.checkHost('LOCALHOST.').allowed, false);
  assert.equal(strict.checkHost('metadata.google.internal').allowed, false);
  assert.equal(strict.checkHost('hooks.example.com').allowed, true);
  assert.equal(new WebhookAddressPolicy().checkHost('localhost').allowed, true, 'the default allows loopback');
});

function lookUp(policy: WebhookAddressPolicy, answers: Array<{ address: string; family: number }>, all: boolean) {
  const resolver: Resolver = (_hostname, _options, callback) => callback(null, answers);
  return new Promise<{ error: NodeJS.ErrnoException | null; address: unknown }>((resolve) =>
    guardedLookup(policy, resolver)('receiver.example', { all } as never, (error, address) => resolve({ error, address })),
  );
}

test('the lookup refuses a name when any of its addresses is refused', async () => {
  const { error } = await lookUp(strict, [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.7', family: 4 }], true);
  assert.equal(error?.code, ADDRESS_REFUSED);
  assert.match(error!.message, /private address/);
  assert.ok(!error!.message.includes('10.0.0.7'), 'the address is not echoed');
});

test('the lookup answers in the form asked for when every address is allowed', async () => {
  const answers = [{ address: '93.184.216.34', family: 4 }, { address: '2606:2800:220:1::1', family: 6 }];
  assert.deepEqual((await lookUp(strict, answers, true)).address, answers);
  assert.equal((await lookUp(strict, answers, false)).address, '93.184.216.34');
});
