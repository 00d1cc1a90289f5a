import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyPartReports, type MessagePart, wholeMessageReport, wholeMessageRef } from './message-parts.js';

const part = (index: number, overrides: Partial<MessagePart> = {}): MessagePart => ({ provider: 'smsc', partRef: `p${index}`, messageUuid: 'm', index, status: 'submitted', at: 0, ...overrides });

test('a multi-part message is delivered once every part is', () => {
  const parts = [part(0), part(1)];
  const first = applyPartReports(parts, new Map([['p0', [{ status: 'delivered', at: 10 }]]]));
  assert.deepEqual(first.changed.map((changed) => changed.partRef), ['p0']);
  assert.equal(wholeMessageReport(first.parts), undefined, 'one part of two');
  const both = applyPartReports(first.parts, new Map([['p1', [{ status: 'delivered', at: 20 }]]]));
  assert.deepEqual(wholeMessageReport(both.parts), { status: 'delivered', at: 20 });
});

test('any failed part fails the message, with its error, whatever the others say', () => {
  const error = { code: 1330, reason: 'Unknown: the network reported the message undeliverable (UNDELIV)' };
  const { parts } = applyPartReports([part(0), part(1), part(2)], new Map([['p0', [{ status: 'delivered', at: 5 }]], ['p2', [{ status: 'undeliverable', at: 7, error }]]]));
  assert.deepEqual(wholeMessageReport(parts), { status: 'undeliverable', at: 7, error });
  const rejectedWithoutError = wholeMessageReport([part(0, { status: 'rejected', at: 3 })]);
  assert.equal(rejectedWithoutError?.status, 'rejected');
  assert.match(rejectedWithoutError?.error?.reason ?? '', /part 1 of 1/);
});

test('parts only move forward: a repeat, an en-route after delivered, or a success after a failure change nothing', () => {
  const delivered = [part(0, { status: 'delivered', at: 5 })];
  assert.deepEqual(applyPartReports(delivered, new Map([['p0', [{ status: 'delivered', at: 9 }, { status: 'submitted', at: 10 }]]])).changed, []);
  const failed = [part(0, { status: 'undeliverable', at: 5 })];
  assert.deepEqual(applyPartReports(failed, new Map([['p0', [{ status: 'delivered', at: 9 }]]])).changed, []);
  // A read (never sent for SMS, but harmless) counts as delivered.
  assert.equal(applyPartReports([part(0)], new Map([['p0', [{ status: 'read', at: 9 }]]])).parts[0]?.status, 'delivered');
});

test('the whole message’s reference never equals a part’s', () => {
  assert.equal(wholeMessageRef(['1000000001', '1000000002']), '1000000001+1');
});
