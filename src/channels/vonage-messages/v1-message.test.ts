import assert from 'node:assert/strict';
import { test } from 'node:test';
import { v01Address, v01Channel, v01Content, v1MessageBody } from './v1-message.js';

const HOOK = 'https://gw.example.com/webhooks/vonage';

test('a v0.1 Viber message goes as v1 viber_service, its options renamed with it', () => {
  const body = v1MessageBody(
    { channel: 'viber_service_msg', to: { type: 'viber_service_msg', number: '447700900001' }, from: { type: 'viber_service_msg', id: 'ACME' }, message: { content: { type: 'text', text: 'hi' }, viber_service_msg: { category: 'transaction', ttl: 600 } }, clientRef: 'ref-1' },
    HOOK,
  );
  assert.deepEqual(body, { channel: 'viber_service', to: '447700900001', from: 'ACME', message_type: 'text', text: 'hi', viber_service: { category: 'transaction', ttl: 600 }, client_ref: 'ref-1', webhook_url: HOOK, webhook_version: 'v1' });
});

test('media, templates and Messenger options in the v1 shape', () => {
  const image = v1MessageBody({ channel: 'mms', to: { type: 'mms', number: '+14155550100' }, from: { type: 'mms', number: '14155550000' }, message: { content: { type: 'image', image: { url: 'https://x/a.jpg', caption: 'A' } } } }, HOOK);
  assert.deepEqual([image.to, image.message_type, image.image], ['14155550100', 'image', { url: 'https://x/a.jpg', caption: 'A' }]);
  const template = v1MessageBody({ channel: 'whatsapp', to: { type: 'whatsapp', number: '4477' }, from: { type: 'whatsapp', number: '4478' }, message: { content: { type: 'template', template: { name: 'otp', parameters: [{ default: '12' }, 'x'] } }, whatsapp: { policy: 'deterministic', locale: 'en_GB' } } }, HOOK);
  assert.deepEqual([template.template, template.whatsapp], [{ name: 'otp', parameters: ['12', 'x'] }, { policy: 'deterministic', locale: 'en_GB' }]);
  const tagged = v1MessageBody({ channel: 'messenger', to: { type: 'messenger', id: 'PSID' }, from: { type: 'messenger', id: 'PAGE' }, message: { content: { type: 'text', text: 't' }, messenger: { category: 'message_tag', tag: 'HUMAN_AGENT' } } }, HOOK);
  assert.deepEqual([tagged.to, tagged.from, tagged.messenger], ['PSID', 'PAGE', { category: 'message_tag', tag: 'HUMAN_AGENT' }]);
});

test('v1 inbound back in v0.1 terms', () => {
  assert.equal(v01Channel('viber_service'), 'viber_service_msg');
  assert.equal(v01Channel('rcs'), undefined);
  assert.deepEqual(v01Address('messenger', 'PAGE', 'business'), { type: 'messenger', id: 'PAGE' });
  assert.deepEqual(v01Address('viber_service_msg', '4477', 'user'), { type: 'viber_service_msg', number: '4477' });
  assert.deepEqual(v01Content({ message_type: 'image', image: { url: 'https://x/b.png' } }), { type: 'image', image: { url: 'https://x/b.png' } });
  assert.equal(v01Content({ message_type: 'location', location: {} }), undefined);
});
