import assert from 'node:assert/strict';
import { test } from 'node:test';
import { messengerEvents } from './messenger-events.js';

const PAGE = '107083064136738';
const USER = '5551234';
const pages = new Set([PAGE]);
const notification = (...messaging: unknown[]) => ({ object: 'page', entry: [{ id: PAGE, time: 1, messaging }] });
const event = (fields: Record<string, unknown>) => ({ sender: { id: USER }, recipient: { id: PAGE }, timestamp: 1_700_000_000_500, ...fields });

test('a delivery names its mids and covers everything sent before its watermark', () => {
  const events = messengerEvents(notification(event({ delivery: { mids: ['m_1', 'm_2'], watermark: 1_700_000_000_000 } })), pages);
  assert.deepEqual(events, [
    { type: 'receipt', providerRef: 'm_1', report: { status: 'delivered', at: 1_700_000_000_500 } },
    { type: 'receipt', providerRef: 'm_2', report: { status: 'delivered', at: 1_700_000_000_500 } },
    { type: 'thread-receipt', report: { channel: 'messenger', businessAddress: PAGE, userAddress: USER, sentBy: 1_699_999_999_999, status: 'delivered', at: 1_700_000_000_500 } },
  ]);
});

test('a read covers everything sent at or before its watermark', () => {
  const events = messengerEvents(notification(event({ read: { watermark: 1_700_000_000_000 } })), pages);
  assert.deepEqual(events, [{ type: 'thread-receipt', report: { channel: 'messenger', businessAddress: PAGE, userAddress: USER, sentBy: 1_700_000_000_000, status: 'read', at: 1_700_000_000_500 } }]);
});

test('an inbound text and each media attachment become v0.1 inbound messages; echoes do not', () => {
  const events = messengerEvents(
    notification(
      event({ message: { mid: 'm_in', text: 'hello', attachments: [{ type: 'image', payload: { url: 'https://cdn.example/1.jpg' } }, { type: 'location', payload: { coordinates: {} } }] } }),
      { sender: { id: PAGE }, recipient: { id: USER }, timestamp: 2, message: { mid: 'm_echo', is_echo: true, text: 'our own' } },
    ),
    pages,
  );
  const inbound = { channel: 'messenger', to: { type: 'messenger', id: PAGE }, from: { type: 'messenger', id: USER }, at: 1_700_000_000_500 };
  assert.deepEqual(events, [
    { type: 'inbound', inbound: { ...inbound, message: { content: { type: 'text', text: 'hello' } } } },
    { type: 'inbound', inbound: { ...inbound, message: { content: { type: 'image', image: { url: 'https://cdn.example/1.jpg' } } } } },
  ]);
});

test('events of pages this provider does not serve, and malformed ones, are left out', () => {
  assert.deepEqual(messengerEvents({ object: 'page', entry: [{ id: '999', messaging: [event({ read: { watermark: 5 } })] }] }, pages), []);
  assert.deepEqual(messengerEvents({ object: 'instagram', entry: [] }, pages), []);
  assert.deepEqual(messengerEvents(notification(event({ read: { watermark: 'soon' } }), { read: { watermark: 5 } }, event({ timestamp: 'x', read: { watermark: 5 } }), null, 7), pages), []);
  assert.deepEqual(messengerEvents(null, pages), []);
});

test('standby events (the handover protocol) count as the page’s own', () => {
  const events = messengerEvents({ object: 'page', entry: [{ id: PAGE, standby: [event({ read: { watermark: 10 } })] }] }, pages);
  assert.equal(events.length, 1);
});
