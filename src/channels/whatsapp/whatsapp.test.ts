import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyWhatsAppError, sendFailureOf } from './whatsapp-errors.js';
import { whatsappEvents } from './whatsapp-events.js';
import { whatsappSendBody } from './whatsapp-send-body.js';

test('WhatsApp error codes are classified (channels reference §2.4)', () => {
  const cases: Array<[number | undefined, number | undefined, string, number]> = [
    [131047, undefined, 'rejected', 1340],
    [470, undefined, 'rejected', 1340],
    [132001, undefined, 'rejected', 1022],
    [131008, 400, 'rejected', 1020],
    [131053, undefined, 'rejected', 1380],
    [190, 401, 'rejected', 1331],
    [131056, 400, 'retryable', 1000],
    [130429, 429, 'retryable', 1000],
    [131000, 500, 'retryable', 1331],
    [undefined, 503, 'retryable', 1331],
    [131026, 400, 'undeliverable', 1300],
    [131050, undefined, 'undeliverable', 1240],
    [999999, 400, 'undeliverable', 1330],
  ];
  for (const [code, status, kind, nexmo] of cases) {
    const classified = classifyWhatsAppError(code, status);
    assert.deepEqual([classified.kind, classified.error.code], [kind, nexmo], `${code}/${status}`);
  }
  assert.equal(sendFailureOf(401, 190).aboutProvider, true, 'a token problem is the provider’s');
  assert.equal(sendFailureOf(400, 131047).retryable, false);
  assert.equal(sendFailureOf(400, 131026).retryable, false, 'what cannot be delivered is not sent again');
});

test('the send body: text, media by link with captions, templates in the locale, custom never redirected', () => {
  assert.deepEqual(whatsappSendBody('447700900001', { content: { type: 'text', text: 'hi' } }), { messaging_product: 'whatsapp', recipient_type: 'individual', to: '447700900001', type: 'text', text: { body: 'hi' } });
  assert.deepEqual(whatsappSendBody('4477', { content: { type: 'file', file: { url: 'https://x/a.pdf', caption: 'A' } } }).document, { link: 'https://x/a.pdf', caption: 'A' });
  assert.deepEqual(whatsappSendBody('4477', { content: { type: 'template', template: { name: 'otp', parameters: [{ default: '1234' }, 'x'] } }, whatsapp: { policy: 'deterministic', locale: 'en_GB' } }).template, {
    name: 'otp',
    language: { code: 'en_GB', policy: 'deterministic' },
    components: [{ type: 'body', parameters: [{ type: 'text', text: '1234' }, { type: 'text', text: 'x' }] }],
  });
  const custom = whatsappSendBody('4477', { content: { type: 'custom', custom: { type: 'location', location: { latitude: 1, longitude: 2 }, to: '4499', messaging_product: 'other' } } });
  assert.deepEqual([custom.to, custom.messaging_product, custom.type], ['4477', 'whatsapp', 'location']);
});

const notification = (value: Record<string, unknown>) => ({ object: 'whatsapp_business_account', entry: [{ id: 'WABA', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550001111', phone_number_id: 'PNID' }, ...value } }] }] });
const media = (id: string) => `https://graph/${id}`;

test('statuses by wamid: delivered, read (with or without delivered), failed 131047 rejected 1340, other failures undeliverable; sent says nothing new', () => {
  const events = whatsappEvents(
    notification({
      statuses: [
        { id: 'wamid.1', status: 'sent', timestamp: '1700000000' },
        { id: 'wamid.1', status: 'delivered', timestamp: '1700000001' },
        { id: 'wamid.2', status: 'read', timestamp: '1700000002' },
        { id: 'wamid.3', status: 'failed', timestamp: '1700000003', errors: [{ code: 131047, title: 'Re-engagement message' }] },
        { id: 'wamid.4', status: 'failed', timestamp: '1700000004', errors: [{ code: 131026 }] },
      ],
    }),
    new Set(['PNID']),
    media,
  );
  assert.deepEqual(
    events.map((event) => (event.type === 'receipt' ? [event.providerRef, event.report.status, event.report.at, event.report.error?.code] : event.type)),
    [
      ['wamid.1', 'delivered', 1_700_000_001_000, undefined],
      ['wamid.2', 'read', 1_700_000_002_000, undefined],
      ['wamid.3', 'rejected', 1_700_000_003_000, 1340],
      ['wamid.4', 'undeliverable', 1_700_000_004_000, 1300],
    ],
  );
});

test('inbound messages: text and media (by the media endpoint), to the business number; other numbers are left out', () => {
  const events = whatsappEvents(
    notification({
      contacts: [{ wa_id: '447700900123' }],
      messages: [
        { from: '447700900123', id: 'wamid.in1', timestamp: '1700000010', type: 'text', text: { body: 'Hello' } },
        { from: '447700900123', id: 'wamid.in2', timestamp: '1700000011', type: 'image', image: { id: 'MEDIA1', caption: 'look' } },
        { from: '447700900123', id: 'wamid.in3', timestamp: '1700000012', type: 'sticker', sticker: { id: 'S' } },
      ],
    }),
    new Set(['PNID']),
    media,
  );
  assert.deepEqual(
    events.map((event) => (event.type === 'inbound' ? [event.inbound.to.number, event.inbound.from.number, event.inbound.message.content] : event.type)),
    [
      ['15550001111', '447700900123', { type: 'text', text: 'Hello' }],
      ['15550001111', '447700900123', { type: 'image', image: { url: 'https://graph/MEDIA1', caption: 'look' } }],
    ],
  );
  assert.deepEqual(whatsappEvents(notification({ messages: [{ from: '1', timestamp: '1', type: 'text', text: { body: 'x' } }] }), new Set(['OTHER']), media), []);
  assert.deepEqual(whatsappEvents({ object: 'page' }, new Set(['PNID']), media), []);
});
