// Tests of the fake WhatsApp Cloud API itself, over real sockets: fetch as the client, a local
// node:http listener as the gateway's webhook endpoint.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { FakeWhatsApp } from './fake-whatsapp.js';
import { startGatewayStub, type StubRequest } from './gateway-stub.js';

const appSecret = 'wa-app-secret';
const numberId = '106540352242922';
const numberToken = 'EAAG-number-token';
const otherNumberId = '106540352242999';
const otherToken = 'EAAG-other-token';
const wabaId = '102290129340398';
const wamidPattern = /^wamid\.[A-Za-z0-9+/]+=*$/;

interface Answer {
  status: number;
  headers: Headers;
  json: Record<string, any>;
}

async function post(fake: FakeWhatsApp, body: unknown, options: { token?: string | null; number?: string; query?: string; path?: string } = {}): Promise<Answer> {
  const url = `${fake.baseUrl}${options.path ?? `/v21.0/${options.number ?? numberId}/messages`}${options.query ?? ''}`;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const token = options.token === undefined ? numberToken : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: response.status, headers: response.headers, json: (await response.json()) as Record<string, any> };
}

const text = { messaging_product: 'whatsapp', recipient_type: 'individual', to: '447700900001', type: 'text', text: { body: 'hello' } };

/** Our webhook endpoint at /webhooks/whatsapp, with Meta's handshake. */
async function startGateway(verifyToken: string) {
  const stub = await startGatewayStub({ verifyToken });
  return { stub, url: `${stub.base}/webhooks/whatsapp`, posts: stub.received };
}

const parse = (post: StubRequest | undefined): Record<string, any> => JSON.parse(post!.raw);
const expectedSignature = (raw: Buffer, algorithm: 'sha256' | 'sha1' = 'sha256') => `${algorithm}=${createHmac(algorithm, appSecret).update(raw).digest('hex')}`;

describe('FakeWhatsApp', () => {
  let clock = 1_750_000_000_000;
  let fake: FakeWhatsApp;
  before(async () => {
    fake = await FakeWhatsApp.start({
      appSecret,
      wabaId,
      numbers: { [numberId]: { accessToken: numberToken, displayPhoneNumber: '15550783881' }, [otherNumberId]: { accessToken: otherToken, displayPhoneNumber: '15550783882' } },
      now: () => clock,
    });
  });
  after(() => fake.close());

  test('accepts text, media and template sends and answers like the Cloud API', async () => {
    const first = await post(fake, text);
    assert.equal(first.status, 200);
    assert.match(first.headers.get('content-type') ?? '', /^application\/json/);
    const wamid = first.json.messages[0].id as string;
    assert.match(wamid, wamidPattern);
    assert.deepEqual(first.json, { messaging_product: 'whatsapp', contacts: [{ input: '447700900001', wa_id: '447700900001' }], messages: [{ id: wamid }] });
    // The wamid embeds the wa_id, like Meta's (1C 18 <len> <digits> …).
    assert.equal(Buffer.from(wamid.slice('wamid.'.length), 'base64').subarray(3, 15).toString('latin1'), '447700900001');

    clock += 1000;
    const image = await post(fake, { messaging_product: 'whatsapp', to: '+44 7700 900002', type: 'image', image: { link: 'https://example.com/a.png', caption: 'look' } });
    assert.equal(image.status, 200);
    assert.deepEqual(image.json.contacts, [{ input: '+44 7700 900002', wa_id: '447700900002' }], 'wa_id is the digits of the input');
    const byId = await post(fake, { messaging_product: 'whatsapp', to: '447700900003', type: 'document', document: { id: '1234567890', filename: 'a.pdf' } }, { token: null, query: `?access_token=${numberToken}` });
    assert.equal(byId.status, 200, 'the token may also come as ?access_token=');
    const template = await post(fake, {
      messaging_product: 'whatsapp',
      to: '447700900004',
      type: 'template',
      template: { name: 'order_update', language: { code: 'en_GB' }, components: [{ type: 'body', parameters: [{ type: 'text', text: 'A1' }] }] },
      biz_opaque_callback_data: 'msg-42',
    });
    assert.equal(template.status, 200);
    const onOther = await post(fake, text, { number: otherNumberId, token: otherToken, path: `/v19.0/${otherNumberId}/messages` });
    assert.equal(onOther.status, 200);

    const ids = [first, image, byId, template, onOther].map((answer) => answer.json.messages[0].id);
    assert.equal(new Set(ids).size, 5, 'wamids are unique');
    assert.deepEqual(
      fake.sends.map((send) => [send.phoneNumberId, send.accessToken, send.to, send.type, send.wamid, send.at]),
      [
        [numberId, numberToken, '447700900001', 'text', ids[0], 1_750_000_000_000],
        [numberId, numberToken, '+44 7700 900002', 'image', ids[1], 1_750_000_001_000],
        [numberId, numberToken, '447700900003', 'document', ids[2], 1_750_000_001_000],
        [numberId, numberToken, '447700900004', 'template', ids[3], 1_750_000_001_000],
        [otherNumberId, otherToken, '447700900001', 'text', ids[4], 1_750_000_001_000],
      ],
    );
    assert.deepEqual(fake.sends[0]!.body, text, 'the whole body is kept');

    const read = await post(fake, { messaging_product: 'whatsapp', status: 'read', message_id: 'wamid.in-1' });
    assert.deepEqual([read.status, read.json], [200, { success: true }]);
    assert.deepEqual(fake.markedRead, ['wamid.in-1']);
    assert.equal(fake.sends.length, 5, 'mark-as-read is not a send');
  });

  test('refuses bad tokens with 401 code 190 and a number the token does not own with 100/33', async () => {
    const sends = fake.sends.length;
    for (const token of ['nope', null]) {
      const answer = await post(fake, text, { token });
      assert.equal(answer.status, 401);
      assert.deepEqual(Object.keys(answer.json.error).sort(), ['code', 'fbtrace_id', 'message', 'type']);
      assert.equal(answer.json.error.code, 190);
      assert.equal(answer.json.error.type, 'OAuthException');
      assert.match(answer.json.error.message, /Invalid OAuth access token/);
      assert.match(answer.headers.get('www-authenticate') ?? '', /invalid_token/);
    }
    const foreign = await post(fake, text, { token: otherToken });
    assert.deepEqual([foreign.status, foreign.json.error.code, foreign.json.error.error_subcode], [400, 100, 33]);
    assert.match(foreign.json.error.message, new RegExp(`Object with ID '${numberId}' does not exist`));
    const unknown = await post(fake, text, { number: '999' });
    assert.deepEqual([unknown.status, unknown.json.error.code, unknown.json.error.error_subcode], [400, 100, 33]);
    const badPath = await post(fake, text, { path: `/v21.0/${numberId}/media` });
    assert.deepEqual([badPath.status, badPath.json.error.code], [400, 100]);
    assert.equal(fake.sends.length, sends);
  });

  test('refuses malformed bodies with 400 and a WhatsApp error_data', async () => {
    const sends = fake.sends.length;
    const requests = fake.requests;
    const cases: Array<[string, unknown, number, RegExp]> = [
      ['not JSON', '{"messaging_product":', 100, /JSON object/],
      ['no messaging_product', { ...text, messaging_product: undefined }, 100, /messaging_product/],
      ['wrong messaging_product', { ...text, messaging_product: 'messenger' }, 100, /messaging_product/],
      ['bad recipient_type', { ...text, recipient_type: 'broadcast' }, 100, /recipient_type/],
      ['no to', { ...text, to: undefined }, 100, /to is required/],
      ['empty to', { ...text, to: '' }, 100, /to is required/],
      ['no type', { ...text, type: undefined }, 100, /type is required/],
      ['unknown type', { ...text, type: 'fax', fax: {} }, 100, /got "fax"/],
      ['no type object', { messaging_product: 'whatsapp', to: '1', type: 'image' }, 131008, /'image' is required/],
      ['text without body', { ...text, text: {} }, 100, /text\['body'\]/],
      ['text too long', { ...text, text: { body: 'x'.repeat(4097) } }, 100, /4096/],
      ['media without link or id', { messaging_product: 'whatsapp', to: '1', type: 'video', video: { caption: 'c' } }, 131008, /link or an id/],
      ['media with both', { messaging_product: 'whatsapp', to: '1', type: 'image', image: { id: '1', link: 'https://x/y.png' } }, 100, /not both/],
      ['caption on audio', { messaging_product: 'whatsapp', to: '1', type: 'audio', audio: { id: '1', caption: 'c' } }, 100, /caption/],
      ['template without name', { messaging_product: 'whatsapp', to: '1', type: 'template', template: { language: { code: 'en' } } }, 100, /name is missing/],
      ['template without language', { messaging_product: 'whatsapp', to: '1', type: 'template', template: { name: 't', language: {} } }, 100, /language/],
      ['components not a list', { messaging_product: 'whatsapp', to: '1', type: 'template', template: { name: 't', language: { code: 'en' }, components: {} } }, 100, /components/],
      ['bad context', { ...text, context: { id: 'x' } }, 100, /context/],
      ['long opaque data', { ...text, biz_opaque_callback_data: 'é'.repeat(257) }, 100, /512/],
      ['read without message_id', { messaging_product: 'whatsapp', status: 'read' }, 100, /message_id/],
    ];
    for (const [name, body, code, details] of cases) {
      const answer = await post(fake, body);
      assert.equal(answer.status, 400, name);
      assert.equal(answer.json.error.code, code, name);
      assert.equal(answer.json.error.type, 'OAuthException', name);
      assert.match(answer.json.error.message, new RegExp(`^\\(#${code}\\) `), name);
      assert.equal(answer.json.error.error_data.messaging_product, 'whatsapp', name);
      assert.match(`${answer.json.error.message} ${answer.json.error.error_data.details}`, details, name);
      assert.equal(typeof answer.json.error.fbtrace_id, 'string', name);
    }
    assert.equal(fake.sends.length, sends, 'nothing malformed was accepted');
    assert.equal(fake.requests - requests, cases.length);
    assert.deepEqual(
      fake.attempts.slice(-2).map((attempt) => [attempt.phoneNumberId, attempt.httpStatus, attempt.errorCode]),
      [
        [numberId, 400, 100],
        [numberId, 400, 100],
      ],
    );
  });

  test('injected failures come first, in order, with Meta\'s error body', async () => {
    const sends = fake.sends.length;
    fake.failNext({ httpStatus: 400, code: 131056 }, 2);
    fake.failNext({ httpStatus: 503, code: 2, subcode: 2494071, message: 'custom', details: 'try later' });
    const first = await post(fake, text);
    const second = await post(fake, text, { token: 'nope' });
    const third = await post(fake, text);
    const fourth = await post(fake, text);
    assert.equal(first.status, 400);
    assert.deepEqual(first.json.error, {
      message: '(#131056) (Business Account, Consumer Account) pair rate limit hit',
      type: 'OAuthException',
      code: 131056,
      error_data: {
        messaging_product: 'whatsapp',
        details: 'Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.',
      },
      fbtrace_id: first.json.error.fbtrace_id,
    });
    assert.deepEqual([second.status, second.json.error.code], [400, 131056], 'an injected failure wins over a bad token');
    assert.deepEqual(third.json.error, { message: 'custom', type: 'OAuthException', code: 2, error_data: { messaging_product: 'whatsapp', details: 'try later' }, error_subcode: 2494071, fbtrace_id: third.json.error.fbtrace_id });
    assert.equal(third.status, 503);
    assert.equal(fourth.status, 200);
    fake.failNext({ httpStatus: 500, code: 131000 });
    assert.equal((await post(fake, text)).json.error.error_data.details, 'Message failed to send due to an unknown error.');
    assert.equal(fake.sends.length - sends, 1);
  });

  test('posts signed status and inbound notifications shaped like the Cloud API, and the handshake', async () => {
    const gateway = await startGateway('verify-me');
    try {
      await assert.rejects(fake.status('wamid.x', 'sent'), /set webhookUrl/);
      await assert.rejects(fake.inbound(numberId, '1', { text: 'x' }), /set webhookUrl/);
      assert.equal(fake.inbounds.length, 0);
      fake.webhookUrl = gateway.url;
      clock = 1_750_000_100_000;
      const templated = await post(fake, { ...text, type: 'template', template: { name: 'order_update', language: { code: 'en' } }, text: undefined, biz_opaque_callback_data: 'our-id-7' });
      const wamid = templated.json.messages[0].id as string;
      const plain = fake.sends.find((send) => send.type === 'text' && send.phoneNumberId === numberId)!;

      clock += 2_500;
      assert.equal(await fake.status(wamid, 'sent'), 200);
      assert.equal(await fake.status(wamid, 'delivered', { timestamp: 1_750_000_103_999 }), 200);
      assert.equal(await fake.status(plain.wamid, 'read'), 200);
      assert.equal(await fake.status(plain.wamid, 'failed', { errors: [{ code: 131047 }] }), 200);
      assert.equal(await fake.status(plain.wamid, 'failed'), 200);
      assert.equal(await fake.inbound(numberId, '447700900001', { text: 'hi there' }, { name: 'Ada' }), 200);
      assert.equal(await fake.inbound(otherNumberId, '447700900009', { image: { id: 'media-1', caption: 'pic' } }), 200);
      assert.equal(await fake.postEvent({ object: 'whatsapp_business_account', entry: [] }, 'forged'), 200);
      assert.equal(await fake.postEvent({ object: 'whatsapp_business_account', entry: [] }, 'missing'), 200);
      gateway.stub.status = 500;
      assert.equal(await fake.status(wamid, 'read'), 500, 'resolves with our HTTP status');

      const [sent, delivered, read, window, failed, textIn, imageIn, forged, missing] = gateway.posts;
      for (const posted of [sent, delivered, read, window, failed, textIn, imageIn]) {
        assert.equal(posted!.headers['x-hub-signature-256'], expectedSignature(posted!.bytes));
        assert.equal(posted!.headers['x-hub-signature'], expectedSignature(posted!.bytes, 'sha1'));
        assert.equal(posted!.headers['content-type'], 'application/json');
      }
      assert.notEqual(forged!.headers['x-hub-signature-256'], expectedSignature(forged!.bytes));
      assert.equal(missing!.headers['x-hub-signature-256'], undefined);
      assert.equal(missing!.headers['x-hub-signature'], undefined);

      assert.deepEqual(parse(sent), {
        object: 'whatsapp_business_account',
        entry: [
          {
            id: wabaId,
            changes: [
              {
                value: {
                  messaging_product: 'whatsapp',
                  metadata: { display_phone_number: '15550783881', phone_number_id: numberId },
                  statuses: [
                    {
                      id: wamid,
                      status: 'sent',
                      timestamp: '1750000102',
                      recipient_id: '447700900001',
                      biz_opaque_callback_data: 'our-id-7',
                      pricing: { billable: true, pricing_model: 'PMP', type: 'regular', category: 'utility' },
                    },
                  ],
                },
                field: 'messages',
              },
            ],
          },
        ],
      });
      const statusOf = (posted: StubRequest | undefined) => parse(posted).entry[0].changes[0].value.statuses[0];
      assert.equal(statusOf(delivered).timestamp, '1750000103');
      assert.equal(statusOf(read).status, 'read');
      assert.equal(statusOf(read).pricing, undefined);
      assert.equal(statusOf(read).biz_opaque_callback_data, undefined, 'only echoed when the send had it');
      assert.deepEqual(statusOf(window), {
        id: plain.wamid,
        status: 'failed',
        timestamp: '1750000102',
        recipient_id: '447700900001',
        errors: [
          {
            code: 131047,
            title: 'Re-engagement message',
            message: 'Re-engagement message',
            error_data: { details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.' },
            href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
          },
        ],
      });
      assert.equal(statusOf(failed).errors[0].code, 131000, 'failed carries an error even when none is given');

      const textValue = parse(textIn).entry[0].changes[0].value;
      assert.deepEqual(textValue.metadata, { display_phone_number: '15550783881', phone_number_id: numberId });
      assert.deepEqual(textValue.contacts, [{ profile: { name: 'Ada' }, wa_id: '447700900001' }]);
      assert.equal(textValue.statuses, undefined);
      const [textMessage] = textValue.messages;
      assert.deepEqual(textMessage, { from: '447700900001', id: textMessage.id, timestamp: '1750000102', type: 'text', text: { body: 'hi there' } });
      assert.match(textMessage.id, wamidPattern);
      const imageValue = parse(imageIn).entry[0].changes[0].value;
      assert.equal(imageValue.metadata.phone_number_id, otherNumberId);
      const [imageMessage] = imageValue.messages;
      assert.equal(imageMessage.type, 'image');
      assert.deepEqual({ ...imageMessage.image, sha256: undefined }, { mime_type: 'image/jpeg', sha256: undefined, id: 'media-1', caption: 'pic' });
      assert.equal(typeof imageMessage.image.sha256, 'string');
      assert.deepEqual(
        fake.inbounds.map((inbound) => [inbound.phoneNumberId, inbound.from, inbound.wamid, inbound.at]),
        [
          [numberId, '447700900001', textMessage.id, 1_750_000_102_500],
          [otherNumberId, '447700900009', imageMessage.id, 1_750_000_102_500],
        ],
      );

      await assert.rejects(fake.status('wamid.unknown', 'delivered'), /no send has id/);
      gateway.stub.status = 200;
      assert.equal(await fake.status('wamid.unknown', 'delivered', { phoneNumberId: numberId, recipientId: '447700900005' }), 200);
      assert.equal(statusOf(gateway.posts.at(-1)).recipient_id, '447700900005');
      await assert.rejects(fake.inbound('nope', '1', { text: 'x' }), /unknown phone_number_id/);
      await assert.rejects(fake.inbound(numberId, '1', {}), /exactly one/);

      assert.deepEqual(await fake.verify(gateway.url, 'verify-me', 'challenge-123'), { status: 200, body: 'challenge-123' });
      assert.equal((await fake.verify(gateway.url, 'wrong', 'challenge-123')).status, 403);
    } finally {
      fake.webhookUrl = undefined;
      await gateway.stub.close();
    }
  });
});
