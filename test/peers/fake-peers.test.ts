// Tests of the fake provider peers themselves, over real sockets: fetch / node:http for the Graph
// fake, the `smpp` package's client for the SMSC fake.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { after, before, describe, test } from 'node:test';
import smppModule from 'smpp';
import { FakeGraphApi } from './fake-graph-api.js';
import { FakeSmsc } from './fake-smsc.js';
import { startGatewayStub, type StubRequest } from './gateway-stub.js';

// --- Graph API ---

const appSecret = 'app-secret-1';
const pageId = '111222333';
const pageToken = 'EAAB-page-token';

async function postSend(fake: FakeGraphApi, body: Record<string, unknown>, options: { query?: string; headers?: Record<string, string>; page?: string } = {}) {
  const url = `${fake.baseUrl}/v21.0/${options.page ?? pageId}/messages${options.query ?? ''}`;
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...options.headers }, body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as Record<string, any> };
}

const textSend = { recipient: { id: 'psid-1' }, messaging_type: 'UPDATE', message: { text: 'hello' } };

/** Our webhook endpoint at /webhooks/messenger, with Meta's handshake. */
async function startReceiver(verifyToken: string) {
  const stub = await startGatewayStub({ verifyToken, body: 'EVENT_RECEIVED' });
  return { stub, url: `${stub.base}/webhooks/messenger`, posts: stub.received };
}

describe('FakeGraphApi', () => {
  let clock = 1_700_000_000_000;
  let fake: FakeGraphApi;
  before(async () => {
    fake = await FakeGraphApi.start({ appSecret, pages: { [pageId]: pageToken }, now: () => clock });
  });
  after(() => fake.close());

  test('accepts a send with the token in the query, the body or a bearer header', async () => {
    const byQuery = await postSend(fake, textSend, { query: `?access_token=${pageToken}` });
    const byBody = await postSend(fake, { ...textSend, access_token: pageToken });
    clock += 1000;
    const byBearer = await postSend(fake, { ...textSend, message: { attachment: { type: 'image', payload: { url: 'https://x/y.png' } } } }, {
      headers: { authorization: `Bearer ${pageToken}` },
    });
    for (const answer of [byQuery, byBody, byBearer]) {
      assert.equal(answer.status, 200);
      assert.equal(answer.json.recipient_id, 'psid-1');
      assert.match(answer.json.message_id, /^m_/);
    }
    assert.equal(fake.sends.length, 3);
    assert.deepEqual(
      fake.sends.map((send) => [send.mid, send.at, send.accessToken, send.messagingType]),
      [
        [byQuery.json.message_id, 1_700_000_000_000, pageToken, 'UPDATE'],
        [byBody.json.message_id, 1_700_000_000_000, pageToken, 'UPDATE'],
        [byBearer.json.message_id, 1_700_000_001_000, pageToken, 'UPDATE'],
      ],
    );
    assert.equal(new Set(fake.sends.map((send) => send.mid)).size, 3);
  });

  test('answers Graph errors for bad tokens, bad parameters and injected failures', async () => {
    const sendsBefore = fake.sends.length;
    const requestsBefore = fake.requests;
    const auth = { query: `?access_token=${pageToken}` };

    const wrongToken = await postSend(fake, textSend, { query: '?access_token=nope' });
    assert.equal(wrongToken.status, 400);
    assert.equal(wrongToken.json.error.code, 190);
    assert.equal(wrongToken.json.error.type, 'OAuthException');
    assert.equal(typeof wrongToken.json.error.fbtrace_id, 'string');
    assert.equal((await postSend(fake, textSend, { ...auth, page: '999' })).json.error.code, 190);
    assert.equal((await postSend(fake, { recipient: { id: 'p' }, message: { text: 'x' } }, auth)).json.error.code, 100);
    assert.equal((await postSend(fake, { ...textSend, messaging_type: 'PROMO' }, auth)).json.error.code, 100);
    assert.equal((await postSend(fake, { ...textSend, messaging_type: 'MESSAGE_TAG' }, auth)).json.error.code, 100);
    const both = await postSend(fake, { ...textSend, message: { text: 'a', attachment: { type: 'image', payload: { url: 'u' } } } }, auth);
    assert.deepEqual([both.status, both.json.error.code, both.json.error.error_subcode], [400, 100, 2018034]);
    const neither = await postSend(fake, { ...textSend, message: {} }, auth);
    assert.deepEqual([neither.json.error.code, neither.json.error.error_subcode], [100, 2018034]);
    const tagged = await postSend(fake, { ...textSend, messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' }, auth);
    assert.equal(tagged.status, 200);

    fake.failNext({ httpStatus: 500, code: 1200 }, 2);
    const first = await postSend(fake, textSend, auth);
    const second = await postSend(fake, textSend, auth);
    const third = await postSend(fake, textSend, auth);
    assert.deepEqual([first.status, first.json.error.code, second.json.error.code, third.status], [500, 1200, 1200, 200]);
    assert.match(first.json.error.message, /Temporary send message failure/);

    fake.resetNext();
    await assert.rejects(postSend(fake, textSend, auth));

    assert.equal(fake.requests - requestsBefore, 12);
    assert.equal(fake.sends.length - sendsBefore, 2, 'only the tagged send and the post-failure send were accepted');
    assert.equal(fake.sends.at(-2)?.tag, 'HUMAN_AGENT');
  });

  test('posts signed events that our side can verify, and the verification handshake', async () => {
    const receiver = await startReceiver('verify-me');
    try {
      fake.webhookUrl = receiver.url;
      clock = 1_700_000_005_000;
      assert.equal(await fake.deliver(pageId, 'psid-1', { mids: ['m_a'] }), 200);
      assert.equal(await fake.read(pageId, 'psid-1', { watermark: 1_700_000_004_000 }), 200);
      assert.equal(await fake.inbound(pageId, 'psid-1', { text: 'hi there' }), 200);
      const send = fake.sends[0]!;
      assert.equal(await fake.echo(send), 200);
      assert.equal(await fake.postEvent({ object: 'page', entry: [] }, 'forged'), 200);
      assert.equal(await fake.postEvent({ object: 'page', entry: [] }, 'missing'), 200);

      const [delivery, read, inbound, echo, forged, missing] = receiver.posts;
      for (const post of [delivery, read, inbound, echo]) {
        const expected = `sha256=${createHmac('sha256', appSecret).update(post!.bytes).digest('hex')}`;
        assert.equal(post!.headers['x-hub-signature-256'], expected);
        assert.equal(post!.headers['content-type'], 'application/json');
      }
      assert.notEqual(forged!.headers['x-hub-signature-256'], `sha256=${createHmac('sha256', appSecret).update(forged!.bytes).digest('hex')}`);
      assert.equal(missing!.headers['x-hub-signature-256'], undefined);

      const parse = (post: StubRequest | undefined) => JSON.parse(post!.raw);
      assert.deepEqual(parse(delivery), {
        object: 'page',
        entry: [
          {
            id: pageId,
            time: 1_700_000_005_000,
            messaging: [{ sender: { id: 'psid-1' }, recipient: { id: pageId }, timestamp: 1_700_000_005_000, delivery: { watermark: 1_700_000_005_000, mids: ['m_a'] } }],
          },
        ],
      });
      assert.deepEqual(parse(read).entry[0].messaging[0].read, { watermark: 1_700_000_004_000 });
      const inboundMessage = parse(inbound).entry[0].messaging[0].message;
      assert.equal(inboundMessage.text, 'hi there');
      assert.match(inboundMessage.mid, /^m_/);
      const echoEvent = parse(echo).entry[0].messaging[0];
      assert.deepEqual(echoEvent.sender, { id: pageId });
      assert.deepEqual(echoEvent.recipient, { id: 'psid-1' });
      assert.equal(echoEvent.timestamp, send.at);
      assert.equal(echoEvent.message.is_echo, true);
      assert.equal(echoEvent.message.mid, send.mid);
      assert.equal(echoEvent.message.text, 'hello');
      assert.equal(typeof echoEvent.message.app_id, 'number');

      assert.deepEqual(await fake.verify(receiver.url, 'verify-me', 'challenge-42'), { status: 200, body: 'challenge-42' });
      assert.equal((await fake.verify(receiver.url, 'wrong', 'challenge-42')).status, 403);
    } finally {
      fake.webhookUrl = undefined;
      await receiver.stub.close();
    }
  });
});

// --- SMSC ---

interface ClientPdu {
  command: string;
  command_status: number;
  sequence_number: number;
  [field: string]: unknown;
  response(options?: Record<string, unknown>): ClientPdu;
}
interface ClientSession extends EventEmitter {
  send(pdu: ClientPdu): boolean;
  close(): void;
  destroy(): void;
  bind_transceiver(options: Record<string, unknown>, onResponse: (pdu: ClientPdu) => void): boolean;
  submit_sm(options: Record<string, unknown>, onResponse: (pdu: ClientPdu) => void): boolean;
  enquire_link(options: Record<string, unknown>, onResponse: (pdu: ClientPdu) => void): boolean;
}
const smpp = smppModule as { connect(options: { url: string }): ClientSession };

/** A bound ESME made with the real `smpp` client; acks every deliver_sm and keeps them. */
async function esme(port: number, credentials = { system_id: 'esme', password: 'secret' }) {
  const session = smpp.connect({ url: `smpp://127.0.0.1:${port}` });
  const delivered: ClientPdu[] = [];
  let closed = false;
  session.on('error', () => {});
  session.on('close', () => (closed = true));
  session.on('deliver_sm', (pdu: ClientPdu) => {
    delivered.push(pdu);
    session.send(pdu.response());
  });
  await new Promise<void>((resolve) => session.once('connect', () => resolve()));
  const bindResp = await new Promise<ClientPdu>((resolve) => session.bind_transceiver({ ...credentials, interface_version: 0x34 }, resolve));
  const submit = (options: Record<string, unknown>) => new Promise<ClientPdu>((resolve) => session.submit_sm(options, resolve));
  const waitClosed = () => new Promise<void>((resolve) => (closed ? resolve() : session.once('close', () => resolve())));
  return { session, bindResp, delivered, submit, waitClosed };
}

const sms = { source_addr_ton: 5, source_addr_npi: 0, source_addr: 'ACME', dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '447700900001', registered_delivery: 1, data_coding: 0 };

async function until(ready: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('FakeSmsc', () => {
  test('accepts binds with the right credentials and refuses others with ESME_RBINDFAIL', async () => {
    const smsc = await FakeSmsc.start({ systemId: 'esme', password: 'secret' });
    try {
      const good = await esme(smsc.port);
      assert.equal(good.bindResp.command_status, 0);
      const bad = await esme(smsc.port, { system_id: 'esme', password: 'wrong' });
      assert.equal(bad.bindResp.command_status, 0x0d);
      await bad.waitClosed();
      assert.deepEqual(
        smsc.binds.map(({ systemId, accepted, interfaceVersion, command }) => ({ systemId, accepted, interfaceVersion, command })),
        [
          { systemId: 'esme', accepted: true, interfaceVersion: 0x34, command: 'bind_transceiver' },
          { systemId: 'esme', accepted: false, interfaceVersion: 0x34, command: 'bind_transceiver' },
        ],
      );
      const enquire = await new Promise<ClientPdu>((resolve) => good.session.enquire_link({}, resolve));
      assert.equal(enquire.command, 'enquire_link_resp');
      assert.equal(smsc.enquireLinks, 1);
    } finally {
      await smsc.close();
    }
  });

  test('submit gets an increasing id and an automatic receipt with TLVs', async () => {
    const smsc = await FakeSmsc.start({ systemId: 'esme', password: 'secret', autoReceipt: 'DELIVRD' });
    try {
      const client = await esme(smsc.port);
      const first = await client.submit({ ...sms, short_message: 'Hello €' });
      const second = await client.submit({ ...sms, short_message: 'Second' });
      assert.equal(first.command_status, 0);
      assert.equal(first.message_id, '1000000001');
      assert.equal(second.message_id, '1000000002');
      await until(() => client.delivered.length === 2);

      const receipt = client.delivered.find((pdu) => pdu.receipted_message_id === '1000000001')!;
      assert.equal(receipt.esm_class, 0x04);
      assert.equal(receipt.message_state, 2);
      assert.equal(receipt.source_addr, '447700900001');
      assert.equal(receipt.destination_addr, 'ACME');
      const text = (receipt.short_message as { message: string }).message;
      assert.match(text, /^id:1000000001 sub:001 dlvrd:001 submit date:\d{10} done date:\d{10} stat:DELIVRD err:000 text:Hello \?$/);

      const [submit] = await smsc.waitForSubmits(1);
      assert.equal(submit!.text, 'Hello €');
      assert.equal(submit!.dataCoding, 0);
      assert.equal(submit!.messageId, '1000000001');
      assert.deepEqual(submit!.shortMessageBytes, Buffer.from([0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x1b, 0x65]));
      assert.deepEqual([submit!.source, submit!.sourceTon, submit!.destination, submit!.destTon, submit!.registeredDelivery], ['ACME', 5, '447700900001', 1, 1]);
    } finally {
      await smsc.close();
    }
  });

  test('hex ids in submit_sm_resp, decimal in the receipt text, no TLVs on request', async () => {
    const smsc = await FakeSmsc.start({ systemId: 'esme', password: 'secret', idFormat: 'hex' });
    try {
      const client = await esme(smsc.port);
      const resp = await client.submit({ ...sms, short_message: 'x' });
      assert.equal(resp.message_id, (1_000_000_001).toString(16));
      await smsc.sendReceipt(resp.message_id as string, 'UNDELIV', { idInText: 'decimal', err: '034' });
      await smsc.sendReceipt(resp.message_id as string, 'DELIVRD', { tlv: false });
      const [undeliv, plain] = client.delivered;
      assert.equal(undeliv!.receipted_message_id, resp.message_id);
      assert.equal(undeliv!.message_state, 5);
      assert.match((undeliv!.short_message as { message: string }).message, /^id:1000000001 .* stat:UNDELIV err:034 /);
      assert.equal(plain!.receipted_message_id, undefined);
      assert.equal(plain!.message_state, undefined);
      assert.match((plain!.short_message as { message: string }).message, new RegExp(`^id:${resp.message_id} `));
    } finally {
      await smsc.close();
    }
  });

  test('throttles on request, parses concatenation UDHs, delivers MO', async () => {
    const smsc = await FakeSmsc.start({ systemId: 'esme', password: 'secret' });
    try {
      const client = await esme(smsc.port);
      smsc.respondNext(0x58);
      const throttled = await client.submit({ ...sms, short_message: 'a' });
      assert.equal(throttled.command_status, 0x58);
      assert.equal(throttled.message_id, undefined);
      const ok = await client.submit({ ...sms, short_message: { udh: Buffer.from([0x05, 0x00, 0x03, 0x2a, 0x02, 0x01]), message: 'part one' } });
      assert.equal(ok.command_status, 0);
      await client.submit({ ...sms, data_coding: 8, short_message: { udh: Buffer.from([0x06, 0x08, 0x04, 0x01, 0x02, 0x02, 0x02]), message: 'дві' } });

      const [rejected, part8, part16] = await smsc.waitForSubmits(3);
      assert.equal(rejected!.status, 0x58);
      assert.equal(rejected!.messageId, undefined);
      assert.deepEqual(part8!.concat, { ref: 0x2a, total: 2, seq: 1 });
      assert.deepEqual(part8!.udh, Buffer.from([0x05, 0x00, 0x03, 0x2a, 0x02, 0x01]));
      assert.equal(part8!.esmClass & 0x40, 0x40);
      assert.equal(part8!.text, 'part one');
      assert.deepEqual(part16!.concat, { ref: 0x0102, total: 2, seq: 2 });
      assert.equal(part16!.text, 'дві');

      await smsc.mobileOriginated('447700900001', 'ACME', 'STOP ✋');
      const mo = client.delivered.at(-1)!;
      assert.equal(mo.esm_class, 0);
      assert.equal(mo.data_coding, 8);
      assert.equal((mo.short_message as { message: string }).message, 'STOP ✋');
    } finally {
      await smsc.close();
    }
  });

  test('holds a submit unanswered, drops the link, re-sends an owed receipt after the rebind', async () => {
    const smsc = await FakeSmsc.start({ systemId: 'esme', password: 'secret' });
    try {
      const client = await esme(smsc.port);
      const accepted = await client.submit({ ...sms, short_message: 'kept' });
      smsc.holdNext();
      let answered = false;
      void client.submit({ ...sms, short_message: 'held' }).then(() => (answered = true));
      const [, held] = await smsc.waitForSubmits(2);
      assert.equal(held!.status, -1);
      assert.equal(held!.messageId, undefined);

      smsc.dropConnections();
      await client.waitClosed();
      assert.equal(answered, false);

      // Owed while nobody is bound: goes out on the next bind, like a real SMSC.
      const receipt = smsc.sendReceipt(accepted.message_id as string, 'DELIVRD');
      const again = await esme(smsc.port);
      await smsc.waitForBinds(2);
      await receipt;
      assert.equal(again.delivered[0]?.receipted_message_id, accepted.message_id);
      const resent = await again.submit({ ...sms, short_message: 'held' });
      assert.equal(resent.message_id, '1000000002');
      assert.equal(smsc.submits.at(-1)!.sessionId, 2);
    } finally {
      await smsc.close();
    }
  });
});
