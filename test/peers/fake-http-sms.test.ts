// Tests of the HTTP SMS provider fakes themselves (FakeTwilio, FakeVonageSms), over real sockets:
// fetch against the fakes, and a local node:http listener standing in for the gateway's webhooks.
// Signatures are checked against published vectors and against verifiers written here from the
// providers' SDK code (twilio-node validateRequest) or taken from an SDK (nexmo's HashGenerator).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { FakeTwilio, twilioSignature } from './fake-twilio.js';
import { FakeVonageSms, splitSms, vonageSignature, vonageSignedString } from './fake-vonage-sms.js';
import { type GatewayStub, startGatewayStub } from './gateway-stub.js';

const startGateway = () => startGatewayStub({ body: '<Response/>', contentType: 'text/xml' });

function formOf(raw: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(raw));
}

// --- Twilio ---

/**
 * twilio-node's validateRequest, rewritten here from src/webhooks/webhooks.ts: the expected signature
 * over the URL with its port and over the URL without it; either matches.
 */
function twilioValid(authToken: string, header: string | undefined, url: string, params: Record<string, string>): boolean {
  const expected = (forUrl: string) => {
    let data = new URL(forUrl).toString();
    for (const key of Object.keys(params).sort()) data += key + params[key];
    return createHmac('sha1', authToken).update(Buffer.from(data, 'utf-8')).digest('base64');
  };
  const parsed = new URL(url);
  const withPort = parsed.port ? parsed.toString() : `${parsed.protocol}//${parsed.hostname}:${parsed.protocol === 'https:' ? 443 : 80}${parsed.pathname}${parsed.search}`;
  parsed.port = '';
  const withoutPort = parsed.toString();
  return header !== undefined && (header === expected(withPort) || header === expected(withoutPort));
}

const accountSid = `AC${'1'.repeat(32)}`;
const authToken = 'twilio-auth-token';

async function twilioPost(fake: FakeTwilio, form: Array<[string, string]>, options: { user?: string; password?: string; account?: string; json?: boolean } = {}) {
  const credentials = Buffer.from(`${options.user ?? accountSid}:${options.password ?? authToken}`).toString('base64');
  const response = await fetch(`${fake.baseUrl}/2010-04-01/Accounts/${options.account ?? accountSid}/Messages.json`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${credentials}`,
      'content-type': options.json ? 'application/json' : 'application/x-www-form-urlencoded',
    },
    body: options.json ? JSON.stringify(Object.fromEntries(form)) : new URLSearchParams(form).toString(),
  });
  return { status: response.status, headers: response.headers, json: (await response.json()) as Record<string, any> };
}

describe('FakeTwilio', () => {
  let clock = Date.UTC(2024, 4, 6, 7, 8, 9);
  let fake: FakeTwilio;
  let gateway: GatewayStub;
  before(async () => {
    fake = await FakeTwilio.start({ accountSid, authToken, now: () => clock });
    gateway = await startGateway();
  });
  after(async () => {
    await fake.close();
    await gateway.close();
  });

  test('twilioSignature matches the published twilio-node vectors', () => {
    const params = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675310', Digits: '1234', From: '+14158675310', To: '+18005551212' };
    assert.equal(twilioSignature('12345', 'https://mycompany.com/myapp.php?foo=1&bar=2', params), 'GvWf1cFY/Q7PnoempGyD5oXAezc=');
    const older = { ...params, Caller: '+14158675309', From: '+14158675309' };
    assert.equal(twilioSignature('12345', 'https://mycompany.com/myapp.php?foo=1&bar=2', older), 'RSOYDt4T1cUTdK1PDd93/VVr8B8=');
    // Order of the parameters does not matter; repeated parameters are signed per distinct sorted value.
    assert.equal(twilioSignature('12345', 'https://mycompany.com/myapp.php?foo=1&bar=2', Object.entries(params).reverse()), 'GvWf1cFY/Q7PnoempGyD5oXAezc=');
    const repeated = twilioSignature('t', 'https://x/y', [['MediaUrl', 'b'], ['MediaUrl', 'a'], ['MediaUrl', 'b']]);
    assert.equal(repeated, createHmac('sha1', 't').update('https://x/yMediaUrlaMediaUrlb').digest('base64'));
  });

  test('accepts a send: 201 with the Message resource, MediaUrl kept in order', async () => {
    const callback = `${gateway.base}/webhooks/twilio/status?route=a&x=1`;
    const answer = await twilioPost(fake, [
      ['To', '+447700900001'],
      ['From', '+15005550006'],
      ['Body', 'Hello & welcome = yes'],
      ['MediaUrl', 'https://cdn.example/b.png'],
      ['MediaUrl', 'https://cdn.example/a.jpg'],
      ['StatusCallback', callback],
    ]);
    assert.equal(answer.status, 201);
    const message = answer.json;
    assert.match(message.sid, /^MM[0-9a-f]{32}$/, 'a message with media is an MMS: MM sid');
    assert.deepEqual(
      [message.account_sid, message.status, message.to, message.from, message.body, message.num_media, message.num_segments, message.direction, message.api_version],
      [accountSid, 'queued', '+447700900001', '+15005550006', 'Hello & welcome = yes', '2', '1', 'outbound-api', '2010-04-01'],
    );
    assert.equal(message.date_created, 'Mon, 06 May 2024 07:08:09 +0000');
    assert.equal(message.error_code, null);
    assert.equal(message.uri, `/2010-04-01/Accounts/${accountSid}/Messages/${message.sid}.json`);
    const send = fake.sends.at(-1)!;
    assert.deepEqual(send.mediaUrls, ['https://cdn.example/b.png', 'https://cdn.example/a.jpg']);
    assert.deepEqual([send.sid, send.to, send.from, send.statusCallback, send.at], [message.sid, '+447700900001', '+15005550006', callback, clock]);

    const plain = await twilioPost(fake, [['To', '+447700900001'], ['From', '+15005550006'], ['Body', 'x'.repeat(161)]]);
    assert.match(plain.json.sid, /^SM[0-9a-f]{32}$/);
    assert.equal(plain.json.num_segments, '2');
    assert.equal(plain.json.num_media, '0');
    const unicode = await twilioPost(fake, [['To', '+447700900001'], ['From', '+15005550006'], ['Body', 'ж'.repeat(71)]]);
    assert.equal(unicode.json.num_segments, '2');

    const viaService = await twilioPost(fake, [['To', '+447700900002'], ['MessagingServiceSid', `MG${'2'.repeat(32)}`], ['Body', 'hi']]);
    assert.equal(viaService.status, 201);
    assert.deepEqual([viaService.json.status, viaService.json.from, viaService.json.messaging_service_sid, viaService.json.num_segments], ['accepted', null, `MG${'2'.repeat(32)}`, '0']);

    // The resource can be fetched back.
    const fetched = await fetch(`${fake.baseUrl}/2010-04-01/Accounts/${accountSid}/Messages/${message.sid}.json`, {
      headers: { authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}` },
    });
    assert.equal(fetched.status, 200);
    assert.equal(((await fetched.json()) as Record<string, unknown>).sid, message.sid);
  });

  test('refuses bad credentials and missing parameters with Twilio error codes; failNext comes first', async () => {
    const sendsBefore = fake.sends.length;
    const requestsBefore = fake.requests;
    const good: Array<[string, string]> = [['To', '+447700900001'], ['From', '+15005550006'], ['Body', 'hi']];

    const unauthorised = await twilioPost(fake, good, { password: 'wrong' });
    assert.equal(unauthorised.status, 401);
    assert.deepEqual(unauthorised.json, { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
    assert.equal((await twilioPost(fake, good, { user: `AC${'9'.repeat(32)}` })).json.code, 20003);

    const noTo = await twilioPost(fake, [['From', '+15005550006'], ['Body', 'hi']]);
    assert.deepEqual([noTo.status, noTo.json.code, noTo.json.status], [400, 21604, 400]);
    assert.equal((await twilioPost(fake, good, { json: true })).json.code, 21604, 'a JSON body is not read (no To)');
    assert.equal((await twilioPost(fake, [['To', '+447700900001'], ['Body', 'hi']])).json.code, 21603);
    assert.equal((await twilioPost(fake, [['To', '+447700900001'], ['From', '+15005550006']])).json.code, 21602);
    assert.equal((await twilioPost(fake, [['To', '+447700900001'], ['From', '+15005550006'], ['Body', 'x'.repeat(1601)]])).json.code, 21617);

    fake.failNext({ httpStatus: 429, code: 20429, retryAfter: '2' }, 2);
    const first = await twilioPost(fake, good);
    const second = await twilioPost(fake, good, { password: 'wrong' });
    const third = await twilioPost(fake, good);
    assert.deepEqual([first.status, first.json.code, first.headers.get('retry-after'), second.status, second.json.code, third.status], [429, 20429, '2', 429, 20429, 201]);

    assert.equal(fake.requests - requestsBefore, 10);
    assert.equal(fake.sends.length - sendsBefore, 1);
  });

  test('posts signed StatusCallbacks to the send URL (query string included in the signed URL)', async () => {
    const send = fake.sends.find((one) => one.statusCallback !== undefined)!;
    gateway.received.length = 0;
    clock = Date.UTC(2024, 4, 6, 7, 30, 0);
    assert.equal(await fake.status(send.sid, 'sent'), 200);
    assert.equal(await fake.status(send.sid, 'undelivered', { errorCode: 30003 }), 200);
    assert.equal(await fake.status(send.sid, 'delivered'), 200);
    gateway.status = 403;
    assert.equal(await fake.status(send.sid, 'failed', { signature: 'forged' }), 403);
    assert.equal(await fake.status(send.sid, 'read', { signature: 'missing', url: `${gateway.base}/other` }), 403);
    gateway.status = 200;

    const [sent, undelivered, delivered, forged, missing] = gateway.received;
    for (const post of [sent!, undelivered!, delivered!]) {
      assert.equal(post.method, 'POST');
      assert.equal(post.headers['content-type'], 'application/x-www-form-urlencoded');
      assert.equal(post.url.pathname + post.url.search, '/webhooks/twilio/status?route=a&x=1');
      const params = formOf(post.raw);
      assert.ok(twilioValid(authToken, post.headers['x-twilio-signature'] as string, send.statusCallback!, params), 'validates like twilio-node');
      assert.deepEqual([params.MessageSid, params.SmsSid, params.AccountSid, params.From, params.To, params.ApiVersion], [send.sid, send.sid, accountSid, send.from, send.to, '2010-04-01']);
      assert.equal(params.MessageStatus, params.SmsStatus);
    }
    assert.equal(formOf(sent!.raw).MessageStatus, 'sent');
    assert.equal(formOf(sent!.raw).ErrorCode, undefined);
    assert.equal(formOf(sent!.raw).RawDlrDoneDate, undefined);
    assert.deepEqual([formOf(undelivered!.raw).MessageStatus, formOf(undelivered!.raw).ErrorCode, formOf(undelivered!.raw).RawDlrDoneDate], ['undelivered', '30003', '2405060730']);
    assert.equal(formOf(delivered!.raw).RawDlrDoneDate, '2405060730');
    assert.equal(formOf(forged!.raw).ErrorCode, '30008', 'failed without an errorCode gets 30008');
    assert.equal(twilioValid(authToken, forged!.headers['x-twilio-signature'] as string, send.statusCallback!, formOf(forged!.raw)), false);
    assert.equal(typeof forged!.headers['x-twilio-signature'], 'string');
    assert.equal(missing!.headers['x-twilio-signature'], undefined);
    assert.equal(missing!.url.pathname, '/other');
    assert.equal(fake.callbacks.length, 5);
    assert.deepEqual(fake.callbacks.map((callback) => callback.httpStatus), [200, 200, 200, 403, 403]);

    const fetched = await fetch(`${fake.baseUrl}/2010-04-01/Accounts/${accountSid}/Messages/${send.sid}.json`, {
      headers: { authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}` },
    });
    assert.equal(((await fetched.json()) as Record<string, unknown>).status, 'read', 'the resource follows the last callback');
    await assert.rejects(fake.status('SMnope', 'sent'), /no send/);
  });

  test('posts inbound messages with media as Twilio does', async () => {
    gateway.received.length = 0;
    const url = `${gateway.base}/webhooks/twilio/inbound`;
    assert.equal(await fake.inbound(url, { from: '+447700900009', to: '+15005550006', body: 'STOP now', mediaUrls: ['https://m/1.png', 'https://m/2.jpg'] }), 200);
    assert.equal(await fake.inbound(url, { from: '+447700900009', to: '+15005550006', body: 'plain' }, 'forged'), 200);
    const [withMedia, forged] = gateway.received;
    const params = formOf(withMedia!.raw);
    assert.ok(twilioValid(authToken, withMedia!.headers['x-twilio-signature'] as string, url, params));
    assert.match(params.MessageSid!, /^MM[0-9a-f]{32}$/);
    assert.deepEqual(
      [params.SmsMessageSid, params.SmsSid, params.AccountSid, params.From, params.To, params.Body, params.NumMedia, params.NumSegments, params.SmsStatus],
      [params.MessageSid, params.MessageSid, accountSid, '+447700900009', '+15005550006', 'STOP now', '2', '1', 'received'],
    );
    assert.deepEqual([params.MediaUrl0, params.MediaUrl1, params.MediaContentType0, params.MediaContentType1], ['https://m/1.png', 'https://m/2.jpg', 'image/png', 'image/jpeg']);
    assert.match(formOf(forged!.raw).MessageSid!, /^SM/);
    assert.equal(twilioValid(authToken, forged!.headers['x-twilio-signature'] as string, url, formOf(forged!.raw)), false);
  });

  test('signedUrl without-port still validates with twilio-node, not with an exact-URL check', async () => {
    const portless = await FakeTwilio.start({ accountSid, authToken, signedUrl: 'without-port' });
    try {
      gateway.received.length = 0;
      const url = `${gateway.base}/webhooks/twilio/inbound`;
      await portless.inbound(url, { from: '+1', to: '+2', body: 'x' });
      const post = gateway.received[0]!;
      const params = formOf(post.raw);
      assert.ok(twilioValid(authToken, post.headers['x-twilio-signature'] as string, url, params));
      assert.notEqual(post.headers['x-twilio-signature'], twilioSignature(authToken, url, Object.entries(params)));
    } finally {
      await portless.close();
    }
  });
});

// --- Vonage SMS ---

const require = createRequire(import.meta.url);
/** nexmo-node 2.x's own signer (lib/HashGenerator.js), as an independent check of ours. */
const NexmoHashGenerator = require('nexmo/lib/HashGenerator.js') as new () => { generate(method: string, secret: string, params: Record<string, string>): string };
const nexmoHash = new NexmoHashGenerator();

/** Verifies a received webhook like @vonage/sms verifySignature: sig dropped, recomputed, compared case-insensitively. */
function vonageValid(params: Record<string, string>, secret: string, method: string): boolean {
  const sig = params.sig;
  if (sig === undefined) return false;
  return nexmoHash.generate(method, secret, params).toUpperCase() === sig.toUpperCase();
}

const apiKey = 'abcd1234';
const apiSecret = 'abcdef0123456789';
const signatureSecret = 'sig-secret-0123456789';

async function vonagePost(fake: FakeVonageSms, params: Record<string, string>, as: 'form' | 'json' | 'query' = 'form') {
  let url = `${fake.baseUrl}/sms/json`;
  const init: RequestInit = { method: 'POST' };
  if (as === 'form') {
    init.headers = { 'content-type': 'application/x-www-form-urlencoded' };
    init.body = new URLSearchParams(params).toString();
  } else if (as === 'json') {
    init.headers = { 'content-type': 'application/json' };
    init.body = JSON.stringify(params);
  } else {
    url += `?${new URLSearchParams(params).toString()}`;
  }
  const response = await fetch(url, init);
  return { status: response.status, json: (await response.json()) as { 'message-count': string; messages: Array<Record<string, string>> } };
}

describe('FakeVonageSms', () => {
  let clock = Date.UTC(2024, 4, 6, 7, 8, 9);
  let fake: FakeVonageSms;
  let gateway: GatewayStub;
  before(async () => {
    fake = await FakeVonageSms.start({ apiKey, apiSecret, signatureSecret, now: () => clock });
    gateway = await startGateway();
  });
  after(async () => {
    await fake.close();
    await gateway.close();
  });

  test('vonageSignature matches the Vonage SDK vectors (md5hash lowercase, HMAC uppercase)', () => {
    assert.equal(vonageSignature({ a: '1', b: '2', timestamp: '1461605396' }, 'secret', 'md5hash'), '6af838ef94998832dbfc29020b564830');
    const withSpecials = {
      keyword: 'TEST',
      'message-timestamp': '2017-04-04 22:57:47',
      messageId: '0B00000042AC53BD',
      msisdn: '14843472194',
      nonce: '929d6744-bd28-42c8-b6cf-31d5b4f43732',
      sig: 'e06d9763e3fd0b9c31beb5fc2fcb011c',
      text: 'Test with & and =',
      timestamp: '1491346667',
      to: '12192259404',
      type: 'text',
    };
    assert.equal(vonageSignature(withSpecials, 'my_secret_key_for_testing', 'md5hash'), 'e06d9763e3fd0b9c31beb5fc2fcb011c');
    assert.match(vonageSignedString(withSpecials), /^&keyword=TEST&message-timestamp=2017-04-04 22:57:47&.*&text=Test with _ and _&timestamp=/);
    const inbound = {
      'message-timestamp': '2013-11-21 15:27:30',
      messageId: '020000001B0FE827',
      msisdn: '14843472194',
      text: 'Test again',
      timestamp: '1385047698',
      to: '13239877404',
      type: 'text',
    };
    const secret = 'my_secret_key_for_testing';
    assert.equal(vonageSignature(inbound, secret, 'md5hash'), 'd2e7b1dc968737c5998ad624e02f90b7');
    assert.equal(vonageSignature(inbound, secret, 'md5'), 'DDEBD46008C2D4E93CCE578A332A52D5');
    assert.equal(vonageSignature(inbound, secret, 'sha1'), '27D0D05C2876C7CB1720DBCDBA4D492E1E55C09A');
    assert.equal(vonageSignature(inbound, secret, 'sha256'), 'DDB8397C2B90AAC7F3882D306475C9A5058C92322EEF43C92B298B6E0FC0D330');
    assert.equal(
      vonageSignature(inbound, secret, 'sha512'),
      'E0D3C650F8C9D1A5C174D10DDDBFB003E561F59B265616208B0487C5D819481CD3C311D59CF6165ECD1139622D5BA3A256C0D763AC4A9AD9144B5A426B94FE82',
    );
    for (const method of ['md5hash', 'md5', 'sha1', 'sha256', 'sha512'] as const) {
      assert.equal(vonageSignature(withSpecials, secret, method).toLowerCase(), nexmoHash.generate(method, secret, withSpecials), `nexmo agrees on ${method}`);
    }
  });

  test('splits long texts like an SMSC (GSM-7 septets, UCS-2 units)', () => {
    assert.deepEqual(splitSms('a'.repeat(160), 'text').length, 1);
    assert.deepEqual(splitSms('a'.repeat(161), 'text').map((part) => part.length), [153, 8]);
    // € takes two septets: 80 of them are 160 septets (one part); 81 are split without cutting one.
    assert.equal(splitSms('€'.repeat(80), 'text').length, 1);
    assert.deepEqual(splitSms('€'.repeat(81), 'text').map((part) => part.length), [76, 5]);
    assert.deepEqual(splitSms('ж'.repeat(70), 'unicode').length, 1);
    assert.deepEqual(splitSms('ж'.repeat(71), 'unicode').map((part) => part.length), [67, 4]);
    // A surrogate pair (2 UTF-16 units) is never split: 33 × 😀 = 66 units per part.
    assert.deepEqual(splitSms('😀'.repeat(36), 'unicode').map((part) => part.length), [66, 6]);
    assert.deepEqual(splitSms('abcdefghij'.repeat(17), 'text', 100).map((part) => part.length), [100, 70]);
  });

  test('accepts a send (form, JSON or query string) with one entry per part', async () => {
    const form = await vonagePost(fake, { api_key: apiKey, api_secret: apiSecret, from: 'AcmeInc', to: '447700900001', text: 'Hello', 'client-ref': 'ref-1', callback: `${gateway.base}/dlr?x=1` });
    assert.equal(form.status, 200);
    assert.equal(form.json['message-count'], '1');
    const [entry] = form.json.messages;
    assert.deepEqual([entry!.to, entry!.status, entry!['message-price'], entry!.network, entry!['client-ref']], ['447700900001', '0', '0.03330000', '23410', 'ref-1']);
    assert.match(entry!['message-id']!, /^[0-9A-F]{16}$/);
    assert.match(entry!['remaining-balance']!, /^\d+\.\d{8}$/);
    const send = fake.sends.at(-1)!;
    assert.deepEqual(
      [send.to, send.from, send.text, send.type, send.clientRef, send.callback, send.statusReportReq, send.messageIds, send.at],
      ['447700900001', 'AcmeInc', 'Hello', 'text', 'ref-1', `${gateway.base}/dlr?x=1`, true, [entry!['message-id']], clock],
    );

    const long = await vonagePost(fake, { api_key: apiKey, api_secret: apiSecret, from: 'AcmeInc', to: '447700900001', text: 'x'.repeat(161), 'status-report-req': 'false' }, 'json');
    assert.equal(long.json['message-count'], '2');
    assert.equal(new Set(long.json.messages.map((one) => one['message-id'])).size, 2);
    assert.deepEqual(fake.sends.at(-1)!.parts.map((part) => part.length), [153, 8]);
    assert.equal(fake.sends.at(-1)!.statusReportReq, false);

    const unicode = await vonagePost(fake, { api_key: apiKey, api_secret: apiSecret, from: 'AcmeInc', to: '447700900001', text: 'ж'.repeat(71), type: 'unicode' }, 'query');
    assert.equal(unicode.json['message-count'], '2');
    assert.equal(fake.sends.at(-1)!.type, 'unicode');

    const basic = await fetch(`${fake.baseUrl}/sms/json`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${apiKey}:${apiSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ from: 'AcmeInc', to: '447700900001', text: 'basic auth' }).toString(),
    });
    assert.equal(((await basic.json()) as { messages: Array<{ status: string }> }).messages[0]!.status, '0');
  });

  test('answers send status codes: credentials, missing parameters, signatures, injected failures', async () => {
    const sendsBefore = fake.sends.length;
    const requestsBefore = fake.requests;
    const good = { api_key: apiKey, api_secret: apiSecret, from: 'AcmeInc', to: '447700900001', text: 'hi' };
    const status = async (params: Record<string, string>) => {
      const answer = await vonagePost(fake, params);
      assert.equal(answer.status, 200);
      assert.equal(answer.json['message-count'], '1');
      return [answer.json.messages[0]!.status, answer.json.messages[0]!['error-text']];
    };

    assert.deepEqual(await status({ ...good, api_secret: 'wrong' }), ['4', 'Bad Credentials']);
    assert.deepEqual(await status({ ...good, api_key: 'nope' }), ['4', 'Bad Credentials']);
    const { text: _text, ...noText } = good;
    assert.deepEqual(await status(noText), ['2', 'Missing text param']);
    const { to: _to, ...noTo } = good;
    assert.deepEqual(await status(noTo), ['2', 'Missing to param']);
    const { from: _from, ...noFrom } = good;
    assert.deepEqual(await status(noFrom), ['2', 'Missing from param']);
    assert.equal((await status({ ...good, to: 'not-a-number' }))[0], '3');
    assert.equal((await status({ ...good, callback: 'ftp://x' }))[0], '23');

    // A signed request (sig instead of api_secret), as the SDKs build it.
    const { api_secret: _secret, ...unsigned } = good;
    const signed = { ...unsigned, timestamp: String(Math.floor(clock / 1000)) };
    assert.equal((await status({ ...signed, sig: vonageSignature(signed, signatureSecret) }))[0], '0');
    assert.equal((await status({ ...signed, sig: vonageSignature(signed, signatureSecret).toUpperCase() }))[0], '0', 'case-insensitive');
    assert.deepEqual(await status({ ...signed, sig: vonageSignature(signed, 'other') }), ['14', 'Invalid Signature']);
    assert.equal((await status({ ...signed, api_secret: apiSecret, sig: vonageSignature(signed, signatureSecret) }))[0], '32');

    fake.failNext(1, 2);
    const first = await status(good);
    const second = await status({ ...good, api_secret: 'wrong' });
    const third = await status(good);
    assert.deepEqual([first[0], second[0], third[0]], ['1', '1', '0']);
    assert.match(String(first[1]), /Throughput/);

    assert.equal(fake.requests - requestsBefore, 14);
    assert.equal(fake.sends.length - sendsBefore, 3);
  });

  test('sends signed DLRs per part, by default as POST JSON, and as GET or form on request', async () => {
    gateway.received.length = 0;
    clock = Date.UTC(2024, 4, 6, 9, 10, 11);
    const answer = await vonagePost(fake, { api_key: apiKey, api_secret: apiSecret, from: 'AcmeInc', to: '447700900001', text: 'y'.repeat(200), 'client-ref': 'ref-2', callback: `${gateway.base}/dlr?x=1` });
    const [partOne, partTwo] = answer.json.messages.map((one) => one['message-id']!);
    assert.equal(await fake.receipt(partOne!, 'delivered'), 200);
    assert.equal(await fake.receipt(partTwo!, 'failed', { errCode: '2', transport: 'get' }), 200);
    assert.equal(await fake.receipt(partTwo!, 'expired', { transport: 'post-form', url: `${gateway.base}/other` }), 200);
    gateway.status = 401;
    assert.equal(await fake.receipt(partOne!, 'rejected', { signature: 'forged' }), 401);
    assert.equal(await fake.receipt(partOne!, 'unknown', { signature: 'missing' }), 401);
    gateway.status = 200;

    const [json, get, form, forged, missing] = gateway.received;
    assert.deepEqual([json!.method, json!.headers['content-type'], json!.url.pathname + json!.url.search], ['POST', 'application/json', '/dlr?x=1']);
    const dlr = JSON.parse(json!.raw) as Record<string, string>;
    assert.deepEqual(Object.keys(dlr).sort(), ['api-key', 'client-ref', 'err-code', 'message-timestamp', 'messageId', 'msisdn', 'network-code', 'nonce', 'price', 'scts', 'sig', 'status', 'timestamp', 'to'].sort());
    assert.deepEqual(
      [dlr.msisdn, dlr.to, dlr.messageId, dlr.status, dlr['err-code'], dlr['api-key'], dlr['client-ref'], dlr.scts, dlr['message-timestamp'], dlr.timestamp],
      ['447700900001', 'AcmeInc', partOne, 'delivered', '0', apiKey, 'ref-2', '2405060910', '2024-05-06 09:10:11', String(Math.floor(clock / 1000))],
    );
    assert.match(dlr.nonce!, /^[0-9a-f-]{36}$/);
    assert.match(dlr.sig!, /^[0-9a-f]{32}$/, 'md5hash: lowercase hex');
    assert.ok(vonageValid(dlr, signatureSecret, 'md5hash'));

    assert.equal(get!.method, 'GET');
    assert.equal(get!.url.pathname, '/dlr');
    const query = Object.fromEntries(get!.url.searchParams);
    assert.equal(query.x, '1', "the callback URL's own query is kept");
    const { x: _x, ...getDlr } = query;
    assert.deepEqual([getDlr.messageId, getDlr.status, getDlr['err-code']], [partTwo, 'failed', '2']);
    assert.ok(vonageValid(getDlr, signatureSecret, 'md5hash'));

    assert.deepEqual([form!.method, form!.headers['content-type'], form!.url.pathname], ['POST', 'application/x-www-form-urlencoded', '/other']);
    const formDlr = formOf(form!.raw);
    assert.deepEqual([formDlr.status, formDlr['err-code']], ['expired', '1']);
    assert.ok(vonageValid(formDlr, signatureSecret, 'md5hash'));

    assert.equal(vonageValid(JSON.parse(forged!.raw) as Record<string, string>, signatureSecret, 'md5hash'), false);
    const unsigned = JSON.parse(missing!.raw) as Record<string, string>;
    assert.deepEqual([unsigned.sig, unsigned.timestamp, unsigned.nonce, unsigned.status], [undefined, undefined, undefined, 'unknown']);
    assert.deepEqual(fake.callbacks.slice(-5).map((callback) => [callback.transport, callback.httpStatus]), [
      ['post-json', 200],
      ['get', 200],
      ['post-form', 200],
      ['post-json', 401],
      ['post-json', 401],
    ]);
    await assert.rejects(fake.receipt('0000000000000000', 'delivered'), /no part/);
  });

  test('HMAC signing (uppercase hex), account transport, receiptUrl and inbound SMS', async () => {
    const hmac = await FakeVonageSms.start({ apiKey, apiSecret, signatureSecret, signatureMethod: 'sha256', transport: 'post-form', now: () => clock });
    const unsignedAccount = await FakeVonageSms.start({ apiKey, apiSecret, transport: 'get' });
    try {
      gateway.received.length = 0;
      const sent = await vonagePost(hmac, { api_key: apiKey, api_secret: apiSecret, from: '447700900000', to: '447700900001', text: 'no callback' });
      hmac.receiptUrl = `${gateway.base}/account-dlr`;
      assert.equal(await hmac.receipt(sent.json.messages[0]!['message-id']!, 'accepted'), 200);
      assert.equal(
        await hmac.inbound(`${gateway.base}/inbound`, { msisdn: '447700900009', to: '447700900000', text: 'stop please & = thanks', concat: { ref: '7', total: 2, part: 1 } }, { transport: 'post-json' }),
        200,
      );
      assert.equal(await hmac.inbound(`${gateway.base}/inbound`, { msisdn: '447700900009', to: '447700900000', text: 'привет' }), 200);
      assert.equal(await unsignedAccount.inbound(`${gateway.base}/inbound`, { msisdn: '447700900009', to: '447700900000', text: 'hello' }), 200);

      const [receipt, inbound, unicode, plain] = gateway.received;
      assert.deepEqual([receipt!.url.pathname, receipt!.headers['content-type']], ['/account-dlr', 'application/x-www-form-urlencoded']);
      const receiptParams = formOf(receipt!.raw);
      assert.match(receiptParams.sig!, /^[0-9A-F]{64}$/, 'HMAC: uppercase hex');
      assert.ok(vonageValid(receiptParams, signatureSecret, 'sha256'));
      assert.equal(receiptParams['client-ref'], undefined);

      const inboundParams = JSON.parse(inbound!.raw) as Record<string, string>;
      assert.ok(vonageValid(inboundParams, signatureSecret, 'sha256'));
      assert.deepEqual(
        [inboundParams.msisdn, inboundParams.to, inboundParams.text, inboundParams.type, inboundParams.keyword, inboundParams['api-key'], inboundParams.concat, inboundParams['concat-ref'], inboundParams['concat-total'], inboundParams['concat-part']],
        ['447700900009', '447700900000', 'stop please & = thanks', 'text', 'STOP', apiKey, 'true', '7', '2', '1'],
      );
      assert.match(inboundParams.messageId!, /^[0-9A-F]{16}$/);
      assert.equal(inboundParams['message-timestamp'], '2024-05-06 09:10:11');
      const unicodeParams = formOf(unicode!.raw);
      assert.deepEqual([unicodeParams.type, unicodeParams.text], ['unicode', 'привет']);
      assert.ok(vonageValid(unicodeParams, signatureSecret, 'sha256'));

      assert.equal(plain!.method, 'GET');
      const plainParams = Object.fromEntries(plain!.url.searchParams);
      assert.deepEqual([plainParams.text, plainParams.sig, plainParams.timestamp], ['hello', undefined, undefined], 'no signature secret: unsigned webhooks');
    } finally {
      await hmac.close();
      await unsignedAccount.close();
    }
  });
});
