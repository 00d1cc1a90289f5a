/**
 * SMS over SMPP 3.4 (`type: smpp`) against a fake SMSC built on the `smpp` package's server:
 * the bind, GSM-7 and UCS-2, concatenation with one status, receipts by TLV or by text (hex or
 * decimal ids), throttling retried, permanent errors rejected, a dropped link with submits in
 * flight (sent again after reconnecting, nothing lost), and mobile-originated messages.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeSmsc } from './peers/fake-smsc.js';
import { createApplication, getJson, postJson, type TestApplication, waitForMessage } from './support/api-client.js';
import { startTestServer, type TestServer } from './support/test-server.js';
import { inEventOrder, WebhookReceiver } from './support/webhook-receiver.js';

const SENDER = '447700900000';

describe('SMS over SMPP', () => {
  let smsc: FakeSmsc;
  let server: TestServer;
  let receiver: WebhookReceiver;
  let app: TestApplication;
  let numberSeq = 0;
  const newNumber = () => String(447700900100 + ++numberSeq);

  before(async () => {
    smsc = await FakeSmsc.start({ systemId: 'opendispatch', password: 'smpp-secret', autoReceipt: 'DELIVRD', receiptDelayMs: 5 });
    receiver = await new WebhookReceiver().start();
    server = await startTestServer({
      clock: 'virtual',
      configFile: {
        providers: { smsc: { type: 'smpp', host: '127.0.0.1', port: smsc.port, system_id: 'opendispatch', password: 'smpp-secret', window: 4 } },
        channels: { sms: [{ via: ['smsc'] }] },
      },
    });
    app = await createApplication(server.url, server.basicAuth, { statusUrl: `${receiver.url}/status`, inboundUrl: `${receiver.url}/inbound` });
    await smsc.waitForBinds(1);
  });
  after(async () => {
    await server.close();
    await smsc.close();
    await receiver.close();
  });

  const sendSms = async (to: string, text: string, from = SENDER) => {
    const { status, json } = await postJson(`${server.url}/v0.1/messages`, await app.bearer(), { to: { type: 'sms', number: to }, from: { type: 'sms', number: from }, message: { content: { type: 'text', text } } });
    assert.equal(status, 202, JSON.stringify(json));
    return json.message_uuid as string;
  };
  const settled = (uuid: string, statuses: string[], advanceSeconds = 0) => waitForMessage(server, uuid, statuses, { advanceSeconds });
  /**
   * The statuses of a message's webhooks once `count` have arrived, in event order: webhooks go
   * concurrently, with no order promised (docs/api.md), so a quick receipt's may arrive first.
   */
  const statusesOf = async (uuid: string, count: number) =>
    inEventOrder(await receiver.waitFor((webhook) => webhook.path === '/status' && webhook.json.message_uuid === uuid, count)).map((webhook) => webhook.json.status);
  const submitsTo = (number: string) => smsc.submits.filter((submit) => submit.destination === number);

  test('it binds as an SMPP 3.4 transceiver with its system_id', () => {
    assert.deepEqual(smsc.binds.filter((bind) => bind.accepted).map(({ command, systemId, interfaceVersion }) => ({ command, systemId, interfaceVersion }))[0], {
      command: 'bind_transceiver',
      systemId: 'opendispatch',
      interfaceVersion: 0x34,
    });
  });

  test('a text goes with a receipt asked for, TON/NPI of an E.164 number, and its DELIVRD receipt delivers it', async () => {
    const to = newNumber();
    const uuid = await sendSms(to, 'Your code is 1234');
    assert.equal((await settled(uuid, ['delivered'])).status, 'delivered');
    const [submit] = submitsTo(to);
    assert.deepEqual(
      { text: submit?.text, coding: submit?.dataCoding, registered: submit?.registeredDelivery, source: [submit?.source, submit?.sourceTon, submit?.sourceNpi], dest: [submit?.destTon, submit?.destNpi], udh: submit?.udh },
      { text: 'Your code is 1234', coding: 0, registered: 1, source: [SENDER, 1, 1], dest: [1, 1], udh: undefined },
    );
    assert.deepEqual(await statusesOf(uuid, 2), ['submitted', 'delivered']);
  });

  test('one character outside GSM-7 (an en dash) makes the whole text UCS-2', async () => {
    const to = newNumber();
    await settled(await sendSms(to, 'Price – £5'), ['delivered']);
    assert.equal(submitsTo(to)[0]?.dataCoding, 8);
  });

  test('GSM-7 text is GSM-7 (the extension table included); UCS-2 text is UTF-16BE', async () => {
    const gsmTo = newNumber();
    await settled(await sendSms(gsmTo, 'Hi €['), ['delivered']);
    const [gsm] = submitsTo(gsmTo);
    assert.equal(gsm?.dataCoding, 0);
    assert.deepEqual([...(gsm?.shortMessageBytes ?? [])], [0x48, 0x69, 0x20, 0x1b, 0x65, 0x1b, 0x3c]);
    const ucsTo = newNumber();
    await settled(await sendSms(ucsTo, 'Привет 👋'), ['delivered']);
    const [ucs] = submitsTo(ucsTo);
    assert.equal(ucs?.dataCoding, 8);
    assert.deepEqual(ucs?.shortMessageBytes, Buffer.from('Привет 👋', 'utf16le').swap16());
  });

  test('a 300-character GSM-7 text goes as 2 concatenated parts and is one message with one status', async () => {
    const to = newNumber();
    const text = 'A'.repeat(150) + 'B'.repeat(150);
    const uuid = await sendSms(to, text);
    const delivered = await settled(uuid, ['delivered']);
    const parts = submitsTo(to);
    assert.equal(parts.length, 2);
    assert.deepEqual(parts.map((part) => [part.concat?.total, part.concat?.seq, part.dataCoding, (part.esmClass & 0x40) !== 0]), [[2, 1, 0, true], [2, 2, 0, true]]);
    assert.equal(parts[0]?.concat?.ref, parts[1]?.concat?.ref);
    assert.equal(parts.map((part) => part.text).join(''), text);
    assert.deepEqual(delivered.attempts.map((attempt: any) => attempt.outcome), ['submitted']);
    assert.deepEqual(await statusesOf(uuid, 2), ['submitted', 'delivered'], 'one delivered for two receipts');
  });

  test('throttling (ESME_RTHROTTLED, ESME_RMSGQFUL) is retried; a bad destination (ESME_RINVDSTADR) is rejected 1170', async () => {
    const to = newNumber();
    smsc.respondNext(0x58);
    smsc.respondNext(0x14);
    const uuid = await sendSms(to, 'throttled at first');
    const sent = await settled(uuid, ['delivered'], 5);
    assert.deepEqual(sent.attempts.map((attempt: any) => attempt.outcome), ['failed', 'failed', 'submitted']);
    assert.match(sent.attempts[0].error.reason, /ESME_RTHROTTLED/);

    smsc.respondNext(0x0b);
    const bad = await settled(await sendSms(newNumber(), 'nowhere'), ['rejected']);
    assert.equal(bad.error.code, 1170);
    assert.deepEqual(bad.attempts.map((attempt: any) => attempt.outcome), ['rejected']);
  });

  test('a mobile-originated message reaches the inbound URL of the application that last wrote to that number', async () => {
    const user = newNumber();
    await settled(await sendSms(user, 'Reply STOP to opt out'), ['delivered']);
    await smsc.mobileOriginated(user, SENDER, 'STOP');
    const [inbound] = await receiver.waitFor((webhook) => webhook.path === '/inbound' && webhook.json.from?.number === user);
    assert.deepEqual({ to: inbound!.json.to, from: inbound!.json.from, content: inbound!.json.message.content }, {
      to: { type: 'sms', number: SENDER },
      from: { type: 'sms', number: user },
      content: { type: 'text', text: 'STOP' },
    });
  });

  test('when the SMSC drops the link with submits in flight, they are sent again after the rebind, and nothing is lost', async () => {
    const bindsBefore = smsc.binds.filter((bind) => bind.accepted).length;
    smsc.holdNext(2);
    const numbers = Array.from({ length: 10 }, () => newNumber());
    const uuids = await Promise.all(numbers.map((to) => sendSms(to, `message to ${to}`)));
    for (let i = 0; i < 300 && smsc.submits.filter((submit) => submit.status === -1).length < 2; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    smsc.dropConnections();
    await smsc.waitForBinds(bindsBefore + 1, 10_000);
    const settledAll = await Promise.all(uuids.map((uuid) => settled(uuid, ['delivered'], 2)));
    assert.deepEqual(settledAll.map((found) => found.status), uuids.map(() => 'delivered'));
    const resent = settledAll.filter((found) => found.attempts.some((attempt: any) => attempt.outcome === 'failed'));
    assert.ok(resent.length >= 2, 'the two held submits were tried again, and the retry shows in their attempts');
    // Which words depend on when the drop is seen: mid-write ("not writable"), or after (dropped, unbound).
    for (const found of resent) assert.match(found.attempts.find((attempt: any) => attempt.outcome === 'failed').error.reason, /link dropped|link was not writable|not bound|bind/);
    for (const to of numbers) assert.ok(submitsTo(to).some((submit) => submit.status === 0), `${to} got through`);
  });
});

describe('SMPP receipts in other shapes', () => {
  let smsc: FakeSmsc;
  let server: TestServer;

  before(async () => {
    smsc = await FakeSmsc.start({ systemId: 'esme', password: 'pw', idFormat: 'hex', autoReceipt: false });
    server = await startTestServer({
      clock: 'virtual',
      configFile: { providers: { uk: { type: 'smpp', host: '127.0.0.1', port: smsc.port, system_id: 'esme', password: 'pw' } }, channels: { sms: [{ via: ['uk'] }] } },
    });
    await smsc.waitForBinds(1);
  });
  after(async () => {
    await server.close();
    await smsc.close();
  });

  const send = async (to: string) => {
    const { json } = await postJson(`${server.url}/v0.1/messages`, server.basicAuth, { to: { type: 'sms', number: to }, from: { type: 'sms', number: 'ACME' }, message: { content: { type: 'text', text: 'hello' } } });
    const submits = await smsc.waitForSubmits(smsc.submits.length + 1);
    return { uuid: json.message_uuid as string, submit: submits.at(-1)! };
  };
  const statusOf = async (uuid: string, expected: string) => {
    for (let i = 0; i < 300; i += 1) {
      const { json } = await getJson(`${server.url}/v0.1/messages/${uuid}`, server.basicAuth);
      if (json.status === expected) return json;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.fail(`not ${expected}`);
  };

  test('an alphanumeric sender goes as TON 5 / NPI 0', async () => {
    const { submit } = await send('447700900201');
    assert.deepEqual([submit.source, submit.sourceTon, submit.sourceNpi], ['ACME', 5, 0]);
  });

  test('a hex id in submit_sm_resp is found from a decimal id in a text-only receipt', async () => {
    const { uuid, submit } = await send('447700900202');
    assert.match(submit.messageId!, /[a-f]/, 'the fake answered in hex');
    await statusOf(uuid, 'submitted');
    await smsc.sendReceipt(submit.messageId!, 'DELIVRD', { tlv: false, idInText: 'decimal' });
    await statusOf(uuid, 'delivered');
  });

  test('a later part the SMSC throttles is sent again on its own: the parts before it are not sent twice', async () => {
    smsc.respondNext(0);
    smsc.respondNext(0x58);
    const { json } = await postJson(`${server.url}/v0.1/messages`, server.basicAuth, { to: { type: 'sms', number: '447700900206' }, from: { type: 'sms', number: 'ACME' }, message: { content: { type: 'text', text: 'F'.repeat(200) } } });
    const found = await statusOf(json.message_uuid, 'submitted');
    const submits = smsc.submits.filter((submit) => submit.destination === '447700900206');
    assert.deepEqual(submits.map((submit) => [submit.concat?.seq, submit.status]), [[1, 0], [2, 0x58], [2, 0]]);
    assert.deepEqual(found.attempts.map((attempt: any) => attempt.outcome), ['submitted']);
  });

  test('receipted_message_id and message_state alone are enough, and an UNDELIV ends it undeliverable', async () => {
    const { uuid, submit } = await send('447700900203');
    await statusOf(uuid, 'submitted');
    await smsc.sendReceipt(submit.messageId!, 'UNDELIV', { tlv: true, err: '034' });
    const found = await statusOf(uuid, 'undeliverable');
    assert.equal(found.error.code, 1330);
  });

  test('a concatenated message is undeliverable as soon as one part is, delivered parts notwithstanding', async () => {
    const { json } = await postJson(`${server.url}/v0.1/messages`, server.basicAuth, { to: { type: 'sms', number: '447700900205' }, from: { type: 'sms', number: 'ACME' }, message: { content: { type: 'text', text: 'E'.repeat(200) } } });
    const parts = (await smsc.waitForSubmits(smsc.submits.length + 2)).slice(-2);
    await statusOf(json.message_uuid, 'submitted');
    await smsc.sendReceipt(parts[0]!.messageId!, 'DELIVRD');
    const { json: halfway } = await getJson(`${server.url}/v0.1/messages/${json.message_uuid}`, server.basicAuth);
    assert.equal(halfway.status, 'submitted', 'one part of two delivered is not the message delivered');
    await smsc.sendReceipt(parts[1]!.messageId!, 'UNDELIV');
    assert.equal((await statusOf(json.message_uuid, 'undeliverable')).error.code, 1330);
  });

  test('an en-route receipt changes nothing; a receipt that beats the submission is held, then applied', async () => {
    const { uuid, submit } = await send('447700900204');
    await statusOf(uuid, 'submitted');
    await smsc.sendReceipt(submit.messageId!, 'ENROUTE');
    const { json } = await getJson(`${server.url}/v0.1/messages/${uuid}`, server.basicAuth);
    assert.equal(json.status, 'submitted');
    // A receipt for an id no message carries yet waits in the inbox.
    await smsc.sendReceipt('ffffff01', 'DELIVRD').catch(() => undefined);
    assert.equal((await server.store.listInboxReceipts('uk', 'ffffff01')).length, 1);
  });
});

describe('the SMPP link: enquire_link and the window', () => {
  let smsc: FakeSmsc;
  let server: TestServer;

  before(async () => {
    smsc = await FakeSmsc.start({ systemId: 'esme', password: 'pw', autoReceipt: 'DELIVRD' });
    server = await startTestServer({
      clock: 'virtual',
      configFile: { providers: { link: { type: 'smpp', host: '127.0.0.1', port: smsc.port, system_id: 'esme', password: 'pw', window: 2, enquire_link_seconds: 0.1 } }, channels: { sms: [{ via: ['link'] }] } },
    });
    await smsc.waitForBinds(1);
  });
  after(async () => {
    await server.close();
    await smsc.close();
  });

  test('an idle link is checked with enquire_link', async () => {
    const before = smsc.enquireLinks;
    await new Promise((resolve) => setTimeout(resolve, 350));
    assert.ok(smsc.enquireLinks >= before + 2, `${smsc.enquireLinks - before} enquire_link in 350 ms`);
  });

  test('no more submits are in flight than the window; the rest wait for room', async () => {
    smsc.holdNext(2);
    const sent = smsc.submits.length;
    const uuids = await Promise.all(
      [1, 2, 3, 4].map(async (n) => (await postJson(`${server.url}/v0.1/messages`, server.basicAuth, { to: { type: 'sms', number: `44770090030${n}` }, from: { type: 'sms', number: 'ACME' }, message: { content: { type: 'text', text: `windowed ${n}` } } })).json.message_uuid as string),
    );
    await smsc.waitForSubmits(sent + 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(smsc.submits.length, sent + 2, 'two unanswered submits fill the window of 2');
    // The SMSC drops the link: the held two are lost (and sent again), the waiting two go out after the rebind.
    smsc.dropConnections();
    const found = await Promise.all(uuids.map((uuid) => waitForMessage(server, uuid, ['delivered'], { advanceSeconds: 2 })));
    assert.deepEqual(found.map((message) => message.status), ['delivered', 'delivered', 'delivered', 'delivered']);
  });
});
