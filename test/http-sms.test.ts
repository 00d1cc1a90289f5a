/**
 * SMS over HTTP against fake providers over sockets: Twilio's Messages resource with a signed
 * StatusCallback per message, and the Vonage SMS API with signed receipts as GET query, POST form
 * or POST JSON, one per part of a long text. Both: success, every receipt kind, permanent and
 * retryable errors, signature rejection, inbound.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeTwilio } from './peers/fake-twilio.js';
import { FakeVonageSms } from './peers/fake-vonage-sms.js';
import { createApplication, getJson, postJson, type TestApplication, waitForMessage } from './support/api-client.js';
import { startTestServer, type TestServer } from './support/test-server.js';
import { inEventOrder, WebhookReceiver } from './support/webhook-receiver.js';

const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';

describe('SMS through Twilio and the Vonage SMS API', () => {
  let twilio: FakeTwilio;
  let vonage: FakeVonageSms;
  let server: TestServer;
  let receiver: WebhookReceiver;
  let app: TestApplication;
  let seq = 0;
  /** Numbers starting 1 route to Twilio, 44 to Vonage. */
  const usNumber = () => String(14155550100 + ++seq);
  const ukNumber = () => String(447700940000 + ++seq);

  before(async () => {
    let now: () => number = Date.now;
    twilio = await FakeTwilio.start({ accountSid: ACCOUNT_SID, authToken: 'twilio-token', now: () => now() });
    vonage = await FakeVonageSms.start({ apiKey: 'abcd1234', apiSecret: 'vonage-secret', signatureSecret: 'vonage-signing', signatureMethod: 'sha256', now: () => now() });
    receiver = await new WebhookReceiver().start();
    server = await startTestServer({
      clock: 'virtual',
      publicUrl: true,
      configFile: {
        providers: {
          twilio: { type: 'twilio', account_sid: ACCOUNT_SID, auth_token: 'twilio-token', base_url: twilio.baseUrl },
          vonage: { type: 'vonage-sms', api_key: 'abcd1234', api_secret: 'vonage-secret', signature_secret: 'vonage-signing', signature_method: 'sha256', base_url: vonage.baseUrl },
        },
        channels: { sms: [{ prefix: ['1'], via: ['twilio'] }, { via: ['vonage'] }], mms: [{ via: ['twilio'] }] },
      },
    });
    const clock = server.clock!;
    now = () => clock.now();
    app = await createApplication(server.url, server.basicAuth, { statusUrl: `${receiver.url}/status`, inboundUrl: `${receiver.url}/inbound` });
  });
  after(async () => {
    await server.close();
    await twilio.close();
    await vonage.close();
    await receiver.close();
  });

  const sendSms = async (to: string, text = 'Your code is 1234', from = '447700900000') => {
    const { status, json } = await postJson(`${server.url}/v0.1/messages`, await app.bearer(), { to: { type: 'sms', number: to }, from: { type: 'sms', number: from }, message: { content: { type: 'text', text } } });
    assert.equal(status, 202, JSON.stringify(json));
    return json.message_uuid as string;
  };
  const message = async (uuid: string) => (await getJson(`${server.url}/v0.1/messages/${uuid}`, server.basicAuth)).json;
  const settled = (uuid: string, statuses: string[], advanceSeconds = 0) => waitForMessage(server, uuid, statuses, { advanceSeconds });
  const statusesOf = (uuid: string) => inEventOrder(receiver.matching((webhook) => webhook.path === '/status' && webhook.json.message_uuid === uuid)).map((webhook) => webhook.json.status);

  describe('Twilio', () => {
    const sendOf = (to: string) => twilio.sends.find((send) => send.to === `+${to}`)!;

    test('a message is created with Basic auth and a StatusCallback to our webhook; its callbacks deliver it', async () => {
      const to = usNumber();
      const uuid = await sendSms(to);
      await settled(uuid, ['submitted']);
      const send = sendOf(to);
      assert.deepEqual({ from: send.from, body: send.body, callback: send.statusCallback }, { from: '+447700900000', body: 'Your code is 1234', callback: `${server.url}/webhooks/twilio` });
      assert.equal(await twilio.status(send.sid, 'sent'), 200);
      assert.equal((await message(uuid)).status, 'submitted');
      assert.equal(await twilio.status(send.sid, 'delivered'), 200);
      await settled(uuid, ['delivered']);
      await receiver.waitFor((webhook) => webhook.json.message_uuid === uuid && webhook.json.status === 'delivered');
      assert.deepEqual(statusesOf(uuid), ['submitted', 'delivered']);
    });

    test('undelivered and failed receipts end the message with the nearest code', async () => {
      const away = usNumber();
      const awayUuid = await sendSms(away);
      await settled(awayUuid, ['submitted']);
      await twilio.status(sendOf(away).sid, 'undelivered', { errorCode: 30003 });
      assert.equal((await settled(awayUuid, ['undeliverable'])).error.code, 1180);
      const filtered = usNumber();
      const filteredUuid = await sendSms(filtered);
      await settled(filteredUuid, ['submitted']);
      await twilio.status(sendOf(filtered).sid, 'failed', { errorCode: 30007 });
      assert.equal((await settled(filteredUuid, ['rejected'])).error.code, 1210);
    });

    test('a rate limit is retried; an invalid number is rejected 1170; bad credentials 1331', async () => {
      twilio.failNext({ httpStatus: 429, code: 20429, message: 'Too Many Requests' });
      const retried = await settled(await sendSms(usNumber()), ['submitted'], 2);
      assert.deepEqual(retried.attempts.map((attempt: any) => attempt.outcome), ['failed', 'submitted']);
      twilio.failNext({ httpStatus: 400, code: 21211, message: "The 'To' number is not a valid phone number." });
      const invalid = await settled(await sendSms(usNumber()), ['rejected']);
      assert.equal(invalid.error.code, 1170);
      assert.doesNotMatch(invalid.error.reason, /not a valid phone number/, 'Twilio’s text is not passed on');
      twilio.failNext({ httpStatus: 401, code: 20003, message: 'Authenticate' });
      assert.equal((await settled(await sendSms(usNumber()), ['rejected'])).error.code, 1331);
    });

    test('a callback with a forged or missing signature is a 401 that changes nothing', async () => {
      const to = usNumber();
      const uuid = await sendSms(to);
      await settled(uuid, ['submitted']);
      assert.equal(await twilio.status(sendOf(to).sid, 'delivered', { signature: 'forged' }), 401);
      assert.equal(await twilio.status(sendOf(to).sid, 'delivered', { signature: 'missing' }), 401);
      assert.equal((await message(uuid)).status, 'submitted');
    });

    test('an MMS goes with its image as MediaUrl and its caption as Body; an incoming MMS arrives as an image', async () => {
      const to = usNumber();
      const { status, json } = await postJson(`${server.url}/v0.1/messages`, await app.bearer(), {
        to: { type: 'mms', number: to },
        from: { type: 'mms', number: '14155550000' },
        message: { content: { type: 'image', image: { url: 'https://example.com/cat.jpg', caption: 'A cat' } } },
      });
      assert.equal(status, 202, JSON.stringify(json));
      await settled(json.message_uuid, ['submitted']);
      const send = sendOf(to);
      assert.deepEqual([send.mediaUrls, send.body, send.sid.slice(0, 2)], [['https://example.com/cat.jpg'], 'A cat', 'MM']);
      await twilio.status(send.sid, 'delivered');
      await settled(json.message_uuid, ['delivered']);

      assert.equal(await twilio.inbound(`${server.url}/webhooks/twilio`, { from: `+${to}`, to: '+14155550000', body: 'Nice', mediaUrls: ['https://api.twilio.com/media/ME1'] }), 200);
      const [inbound] = await receiver.waitFor((webhook) => webhook.path === '/inbound' && webhook.json.from?.number === to);
      assert.deepEqual([inbound!.json.to, inbound!.json.message.content], [{ type: 'mms', number: '14155550000' }, { type: 'image', image: { url: 'https://api.twilio.com/media/ME1', caption: 'Nice' } }]);
    });

    test('an incoming SMS reaches the application that last wrote to that number', async () => {
      const user = usNumber();
      await settled(await sendSms(user, 'Reply YES', '14155550000'), ['submitted']);
      assert.equal(await twilio.inbound(`${server.url}/webhooks/twilio`, { from: `+${user}`, to: '+14155550000', body: 'YES' }), 200);
      const [inbound] = await receiver.waitFor((webhook) => webhook.path === '/inbound' && webhook.json.from?.number === user);
      assert.deepEqual([inbound!.json.to, inbound!.json.message.content], [{ type: 'sms', number: '14155550000' }, { type: 'text', text: 'YES' }]);
      assert.equal(await twilio.inbound(`${server.url}/webhooks/twilio`, { from: `+${user}`, to: '+14155550000', body: 'forged' }, 'forged'), 401);
    });
  });

  describe('Vonage SMS API', () => {
    const sendOf = (to: string) => vonage.sends.find((send) => send.to === to)!;

    test('a message is sent with our callback; a signed POST-JSON receipt delivers it', async () => {
      const to = ukNumber();
      const uuid = await sendSms(to);
      await settled(uuid, ['submitted']);
      const send = sendOf(to);
      assert.deepEqual({ from: send.from, text: send.text, type: send.type, callback: send.callback, report: send.statusReportReq }, {
        from: '447700900000',
        text: 'Your code is 1234',
        type: 'text',
        callback: `${server.url}/webhooks/vonage`,
        report: true,
      });
      assert.equal(await vonage.receipt(send.messageIds[0]!, 'accepted'), 200);
      assert.equal((await message(uuid)).status, 'submitted');
      assert.equal(await vonage.receipt(send.messageIds[0]!, 'delivered'), 200);
      await settled(uuid, ['delivered']);
    });

    test('receipts come as GET query and POST form as well; failed and rejected ones carry the err-code’s meaning', async () => {
      const absent = ukNumber();
      const absentUuid = await sendSms(absent);
      await settled(absentUuid, ['submitted']);
      assert.equal(await vonage.receipt(sendOf(absent).messageIds[0]!, 'failed', { errCode: '2', transport: 'get' }), 200);
      assert.equal((await settled(absentUuid, ['undeliverable'])).error.code, 1180);
      const spam = ukNumber();
      const spamUuid = await sendSms(spam);
      await settled(spamUuid, ['submitted']);
      assert.equal(await vonage.receipt(sendOf(spam).messageIds[0]!, 'rejected', { errCode: '6', transport: 'post-form' }), 200);
      assert.equal((await settled(spamUuid, ['rejected'])).error.code, 1210);
    });

    test('a long text is one message: each part reports, and it is delivered when both are', async () => {
      const to = ukNumber();
      const uuid = await sendSms(to, 'Ö'.repeat(100) + '€'.repeat(40));
      await settled(uuid, ['submitted']);
      const send = sendOf(to);
      assert.equal(send.type, 'text', 'Ö and € are GSM-7');
      assert.equal(send.messageIds.length, 2);
      await vonage.receipt(send.messageIds[1]!, 'delivered');
      assert.equal((await message(uuid)).status, 'submitted', 'one part of two');
      await vonage.receipt(send.messageIds[0]!, 'delivered');
      await settled(uuid, ['delivered']);
      await receiver.waitFor((webhook) => webhook.json.message_uuid === uuid && webhook.json.status === 'delivered');
      assert.deepEqual(statusesOf(uuid), ['submitted', 'delivered']);
      const unicode = ukNumber();
      await settled(await sendSms(unicode, 'Привет'), ['submitted']);
      assert.equal(sendOf(unicode).type, 'unicode');
    });

    test('throttling is retried; an invalid message is rejected 1040; bad credentials 1331', async () => {
      vonage.failNext(1);
      const retried = await settled(await sendSms(ukNumber()), ['submitted'], 2);
      assert.deepEqual(retried.attempts.map((attempt: any) => attempt.outcome), ['failed', 'submitted']);
      vonage.failNext(6);
      assert.equal((await settled(await sendSms(ukNumber()), ['rejected'])).error.code, 1040);
      vonage.failNext(4);
      assert.equal((await settled(await sendSms(ukNumber()), ['rejected'])).error.code, 1331);
    });

    test('with a signature secret, an unsigned or forged callback is a 401 that changes nothing', async () => {
      const to = ukNumber();
      const uuid = await sendSms(to);
      await settled(uuid, ['submitted']);
      assert.equal(await vonage.receipt(sendOf(to).messageIds[0]!, 'delivered', { signature: 'forged' }), 401);
      assert.equal(await vonage.receipt(sendOf(to).messageIds[0]!, 'delivered', { signature: 'missing', transport: 'get' }), 401);
      assert.equal((await message(uuid)).status, 'submitted');
    });

    test('an inbound SMS reaches the application that last wrote to that number', async () => {
      const user = ukNumber();
      await settled(await sendSms(user, 'Reply STOP', '447700900009'), ['submitted']);
      assert.equal(await vonage.inbound(`${server.url}/webhooks/vonage`, { msisdn: user, to: '447700900009', text: 'STOP' }), 200);
      const [inbound] = await receiver.waitFor((webhook) => webhook.path === '/inbound' && webhook.json.from?.number === user);
      assert.deepEqual(inbound!.json.message.content, { type: 'text', text: 'STOP' });
    });
  });
});

describe('Vonage SMS API signed with md5hash, receipts as GET', () => {
  let vonage: FakeVonageSms;
  let server: TestServer;

  before(async () => {
    vonage = await FakeVonageSms.start({ apiKey: 'key', apiSecret: 'secret', signatureSecret: 'md5-signing', signatureMethod: 'md5hash', transport: 'get' });
    server = await startTestServer({
      clock: 'virtual',
      publicUrl: true,
      configFile: {
        providers: { vonage: { type: 'vonage-sms', api_key: 'key', api_secret: 'secret', signature_secret: 'md5-signing', base_url: vonage.baseUrl } },
        channels: { sms: [{ via: ['vonage'] }] },
      },
    });
  });
  after(async () => {
    await server.close();
    await vonage.close();
  });

  test('the default signature method is md5hash: a signed GET receipt is taken, a forged one is not', async () => {
    const { json } = await postJson(`${server.url}/v0.1/messages`, server.basicAuth, { to: { type: 'sms', number: '447700950001' }, from: { type: 'sms', number: 'ACME' }, message: { content: { type: 'text', text: 'md5 & = signed' } } });
    await waitForMessage(server, json.message_uuid, ['submitted']);
    const [send] = vonage.sends;
    assert.equal(await vonage.receipt(send!.messageIds[0]!, 'delivered', { signature: 'forged' }), 401);
    assert.equal(await vonage.receipt(send!.messageIds[0]!, 'delivered'), 200);
    await waitForMessage(server, json.message_uuid, ['delivered']);
  });
});

describe('Vonage SMS API without a signature secret', () => {
  let vonage: FakeVonageSms;
  let server: TestServer;

  before(async () => {
    vonage = await FakeVonageSms.start({ apiKey: 'plain-key', apiSecret: 'secret', transport: 'post-form' });
    server = await startTestServer({
      clock: 'virtual',
      publicUrl: true,
      configFile: {
        providers: { vonage: { type: 'vonage-sms', api_key: 'plain-key', api_secret: 'secret', base_url: vonage.baseUrl } },
        channels: { sms: [{ via: ['vonage'] }] },
      },
    });
  });
  after(async () => {
    await server.close();
    await vonage.close();
  });

  test('a callback is taken only with the account’s api-key', async () => {
    const { json } = await postJson(`${server.url}/v0.1/messages`, server.basicAuth, { to: { type: 'sms', number: '447700960001' }, from: { type: 'sms', number: 'ACME' }, message: { content: { type: 'text', text: 'unsigned' } } });
    await waitForMessage(server, json.message_uuid, ['submitted']);
    const [send] = vonage.sends;
    const forged = await fetch(`${server.url}/webhooks/vonage`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ msisdn: '447700960001', to: 'ACME', messageId: send!.messageIds[0]!, status: 'failed', 'err-code': '1', 'api-key': 'someone-else' }).toString(),
    });
    assert.equal(forged.status, 401);
    assert.equal(await vonage.receipt(send!.messageIds[0]!, 'delivered'), 200);
    await waitForMessage(server, json.message_uuid, ['delivered']);
  });
});
