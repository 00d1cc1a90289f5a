/**
 * Facebook Messenger (`type: messenger`) against a fake Graph API over a socket: the Send API
 * body and token per page, Graph errors classified (channels reference §1.2), and Meta's signed
 * callbacks at POST /webhooks/{name}: delivery by mid and by watermark, read by watermark over
 * every message it covers, inbound messages, the GET handshake, forged signatures.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeGraphApi } from './peers/fake-graph-api.js';
import { advanceClock, createApplication, getJson, postJson, type TestApplication, waitForMessage } from './support/api-client.js';
import { startTestServer, type TestServer } from './support/test-server.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

const PAGE = '107083064136738';
const OTHER_PAGE = '200000000000001';
const APP_SECRET = 'graph-app-secret';
const VERIFY_TOKEN = 'verify-me';

describe('Messenger through the Graph API', () => {
  let graph: FakeGraphApi;
  let server: TestServer;
  let receiver: WebhookReceiver;
  let app: TestApplication;
  let userSeq = 0;
  const newUser = () => String(7000000000000000 + ++userSeq);

  before(async () => {
    let clockOf: () => number = Date.now;
    graph = await FakeGraphApi.start({ appSecret: APP_SECRET, pages: { [PAGE]: 'page-token', [OTHER_PAGE]: 'other-token' }, now: () => clockOf() });
    receiver = await new WebhookReceiver().start();
    server = await startTestServer({
      clock: 'virtual',
      configFile: {
        providers: { fb: { type: 'messenger', app_secret: APP_SECRET, verify_token: VERIFY_TOKEN, pages: { [PAGE]: { access_token: 'page-token' }, [OTHER_PAGE]: { access_token: 'other-token' } }, base_url: graph.baseUrl } },
        channels: { messenger: [{ via: ['fb'] }] },
      },
    });
    const clock = server.clock!;
    clockOf = () => clock.now();
    graph.webhookUrl = `${server.url}/webhooks/fb`;
    app = await createApplication(server.url, server.basicAuth, { statusUrl: `${receiver.url}/status`, inboundUrl: `${receiver.url}/inbound` });
  });
  after(async () => {
    await server.close();
    await graph.close();
    await receiver.close();
  });

  const sendMessenger = async (user: string, content: Record<string, unknown> = { type: 'text', text: 'Hello from the page' }, extra: Record<string, unknown> = {}, page = PAGE) => {
    const { status, json } = await postJson(`${server.url}/v0.1/messages`, await app.bearer(), {
      to: { type: 'messenger', id: user },
      from: { type: 'messenger', id: page },
      message: { content, ...extra },
    });
    assert.equal(status, 202, JSON.stringify(json));
    return json.message_uuid as string;
  };
  const message = async (uuid: string) => (await getJson(`${server.url}/v0.1/messages/${uuid}`, server.basicAuth)).json;
  const settled = (uuid: string, statuses: string[]) => waitForMessage(server, uuid, statuses);
  const statusesOf = async (uuid: string, count: number) =>
    (await receiver.waitFor((webhook) => webhook.path === '/status' && webhook.json.message_uuid === uuid, count)).map((webhook) => webhook.json.status);
  const sendOf = (user: string) => graph.sends.filter((send) => send.recipient.id === user);

  test('a text goes to the Send API of its page with that page’s token; the mid names its delivery', async () => {
    const user = newUser();
    const uuid = await sendMessenger(user);
    const sent = await settled(uuid, ['submitted']);
    const [send] = sendOf(user);
    assert.deepEqual({ page: send?.pageId, token: send?.accessToken, type: send?.messagingType, message: send?.message }, {
      page: PAGE,
      token: 'page-token',
      type: 'RESPONSE',
      message: { text: 'Hello from the page' },
    });
    assert.deepEqual(sent.attempts.map((attempt: any) => [attempt.provider, attempt.outcome]), [['fb', 'submitted']]);

    assert.equal(await graph.deliver(PAGE, user, { mids: [send!.mid], watermark: send!.at - 1 }), 200);
    assert.equal((await settled(uuid, ['delivered'])).status, 'delivered');
    assert.equal(await graph.read(PAGE, user), 200);
    assert.equal((await settled(uuid, ['read'])).status, 'read');
    assert.deepEqual(await statusesOf(uuid, 3), ['submitted', 'delivered', 'read']);
  });

  test('a read watermark reads every message of that page and user sent by then, and no other', async () => {
    const user = newUser();
    const first = await sendMessenger(user);
    await settled(first, ['submitted']);
    await advanceClock(server.url, server.basicAuth, 1);
    const second = await sendMessenger(user);
    await settled(second, ['submitted']);
    const elsewhere = await sendMessenger(user, undefined, {}, OTHER_PAGE);
    await settled(elsewhere, ['submitted']);
    const [, secondSend] = sendOf(user).filter((send) => send.pageId === PAGE);
    await advanceClock(server.url, server.basicAuth, 1);
    const third = await sendMessenger(user);
    await settled(third, ['submitted']);

    // Delivered by watermark alone (no mids): everything sent before it.
    assert.equal(await graph.deliver(PAGE, user, { watermark: secondSend!.at + 1 }), 200);
    assert.equal((await settled(first, ['delivered'])).status, 'delivered');
    assert.equal((await settled(second, ['delivered'])).status, 'delivered');
    assert.equal(await graph.read(PAGE, user, { watermark: secondSend!.at }), 200);
    assert.equal((await settled(first, ['read'])).status, 'read');
    assert.equal((await settled(second, ['read'])).status, 'read');
    assert.equal((await message(third)).status, 'submitted', 'sent after the watermark');
    assert.equal((await message(elsewhere)).status, 'submitted', 'another page’s thread');
  });

  test('message.messenger chooses messaging_type and tag; media go as attachments by URL', async () => {
    const user = newUser();
    const tagged = await sendMessenger(user, { type: 'text', text: 'Your agent replied' }, { messenger: { category: 'message_tag', tag: 'HUMAN_AGENT' } });
    await settled(tagged, ['submitted']);
    const update = await sendMessenger(user, { type: 'image', image: { url: 'https://example.com/cat.jpg' } }, { messenger: { category: 'update' } });
    await settled(update, ['submitted']);
    const [first, second] = sendOf(user);
    assert.deepEqual([first?.messagingType, first?.tag], ['MESSAGE_TAG', 'HUMAN_AGENT']);
    assert.deepEqual([second?.messagingType, second?.message], ['UPDATE', { attachment: { type: 'image', payload: { url: 'https://example.com/cat.jpg', is_reusable: false } } }]);
  });

  test('outside the 24 h window is rejected 1340 at once; an expired token 1370; neither is tried again', async () => {
    const user = newUser();
    graph.failNext({ httpStatus: 400, code: 10, subcode: 2018278, message: '(#10) This message is sent outside of allowed window.' });
    const outside = await settled(await sendMessenger(user), ['rejected']);
    assert.equal(outside.error.code, 1340);
    graph.failNext({ httpStatus: 400, code: 190, message: 'Error validating access token: Session has expired' });
    const expired = await settled(await sendMessenger(user), ['rejected']);
    assert.equal(expired.error.code, 1370);
    assert.doesNotMatch(JSON.stringify([outside, expired]), /Session has expired|outside of allowed window\./, 'Meta’s text is not passed on');
    assert.deepEqual([outside.attempts.length, expired.attempts.length], [1, 1]);
  });

  test('rate limits and server errors are retried with backoff, then sent', async () => {
    const user = newUser();
    graph.failNext({ httpStatus: 400, code: 613, message: 'Calls to this api have exceeded the rate limit.' });
    graph.failNext({ httpStatus: 503, code: 1200 });
    const uuid = await sendMessenger(user);
    for (let i = 0; i < 50 && (await message(uuid)).attempts.length < 1; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    await advanceClock(server.url, server.basicAuth, 2);
    for (let i = 0; i < 50 && (await message(uuid)).attempts.length < 2; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    await advanceClock(server.url, server.basicAuth, 4);
    const sent = await settled(uuid, ['submitted']);
    assert.deepEqual(sent.attempts.map((attempt: any) => attempt.outcome), ['failed', 'failed', 'submitted']);
    assert.equal(sendOf(user).length, 1);
  });

  test('a page this provider has no token for is rejected without calling Meta', async () => {
    const requests = graph.requests;
    const { status, json } = await postJson(`${server.url}/v0.1/messages`, await app.bearer(), {
      to: { type: 'messenger', id: newUser() },
      from: { type: 'messenger', id: '999999999' },
      message: { content: { type: 'text', text: 'hi' } },
    });
    assert.equal(status, 202);
    assert.equal((await settled(json.message_uuid, ['rejected'])).error.code, 1120);
    assert.equal(graph.requests, requests);
  });

  test('a user’s message reaches the inbound URL of the application that wrote to them, in v0.1 shape', async () => {
    const user = newUser();
    await settled(await sendMessenger(user), ['submitted']);
    assert.equal(await graph.inbound(PAGE, user, { text: 'Thanks!' }), 200);
    const [inbound] = await receiver.waitFor((webhook) => webhook.path === '/inbound' && webhook.json.from?.id === user);
    assert.deepEqual({ to: inbound!.json.to, from: inbound!.json.from, content: inbound!.json.message.content }, {
      to: { type: 'messenger', id: PAGE },
      from: { type: 'messenger', id: user },
      content: { type: 'text', text: 'Thanks!' },
    });
    assert.match(inbound!.json.message_uuid, /^[0-9a-f-]{36}$/);
  });

  test('a linked page’s inbound message reaches the linked application, though it never wrote to that user', async () => {
    const linked = await fetch(`${server.url}/v2/applications/${app.id}/links/messenger/${OTHER_PAGE}`, { method: 'PUT', headers: { authorization: server.basicAuth } });
    assert.equal(linked.status, 204);
    const stranger = newUser();
    assert.equal(await graph.inbound(OTHER_PAGE, stranger, { attachments: [{ type: 'image', payload: { url: 'https://cdn.example/photo.jpg' } }] }), 200);
    const [inbound] = await receiver.waitFor((webhook) => webhook.path === '/inbound' && webhook.json.from?.id === stranger);
    assert.deepEqual(inbound!.json.message.content, { type: 'image', image: { url: 'https://cdn.example/photo.jpg' } });
  });

  test('Meta’s GET handshake gets the challenge for our verify token, 403 for another', async () => {
    assert.deepEqual(await graph.verify(`${server.url}/webhooks/fb`, VERIFY_TOKEN, '1158201444'), { status: 200, body: '1158201444' });
    assert.equal((await graph.verify(`${server.url}/webhooks/fb`, 'guess', '1158201444')).status, 403);
  });

  test('a forged or missing signature is a 401 that changes nothing; an unknown provider a 404', async () => {
    const user = newUser();
    const uuid = await sendMessenger(user);
    await settled(uuid, ['submitted']);
    const read = { object: 'page', entry: [{ id: PAGE, time: 1, messaging: [{ sender: { id: user }, recipient: { id: PAGE }, timestamp: server.clock!.now(), read: { watermark: server.clock!.now() } }] }] };
    assert.equal(await graph.postEvent(read, 'forged'), 401);
    assert.equal(await graph.postEvent(read, 'missing'), 401);
    assert.equal((await message(uuid)).status, 'submitted');
    const unknown = await fetch(`${server.url}/webhooks/nobody`, { method: 'POST', body: '{}' });
    assert.equal(unknown.status, 404);
    assert.equal(await graph.postEvent(read, 'valid'), 200);
    assert.equal((await settled(uuid, ['read'])).status, 'read');
  });

  test('a receipt for a mid no message carries is kept, answered 200, and changes nothing', async () => {
    assert.equal(await graph.deliver(PAGE, newUser(), { mids: ['m_never_ours'] }), 200);
    const held = await server.store.listInboxReceipts('fb', 'm_never_ours');
    assert.deepEqual(held.map((receipt) => receipt.status), ['delivered']);
  });
});
