/**
 * The adapter port and the one receipt intake, driven through a provider whose behaviour each
 * test scripts (test/support/fake-provider.ts) next to the sandbox, on the virtual clock: receipts
 * that beat the submit answer, signed callbacks at /webhooks/{provider}, receipts that never find
 * their message, an adapter that throws, and one that hangs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SendResult } from '../src/channels/channel-adapter.js';
import { advanceClock, getJson, postJson, putJson } from './support/api-client.js';
import { FakeProvider, postProviderCallback } from './support/fake-provider.js';
import { startTestServer } from './support/test-server.js';
import { inEventOrder, WebhookReceiver, type ReceivedWebhook } from './support/webhook-receiver.js';

const whatsapp = (to: string) => ({ to: { type: 'whatsapp', number: to }, from: { type: 'whatsapp', number: '447700900001' }, message: { content: { type: 'text', text: 'hi' } } });
/** The statuses a message's webhooks reported, in the order of the events. */
const statusesOf = (receiver: WebhookReceiver, uuid: string) => inEventOrder(receiver.matching((w: ReceivedWebhook) => w.json.message_uuid === uuid)).map((w) => w.json.status);

async function world(configFile: Record<string, unknown> = {}, clock: 'virtual' | 'real' = 'virtual') {
  const receiver = await new WebhookReceiver().start();
  const fake = new FakeProvider('fake');
  const server = await startTestServer({ clock, statusUrl: `${receiver.url}/status`, configFile, providers: [{ adapter: fake, channels: ['whatsapp'] }] });
  const send = async (body: unknown): Promise<string> => {
    const answer = await postJson(`${server.url}/v0.1/messages`, server.basicAuth, body);
    assert.equal(answer.status, 202, JSON.stringify(answer.json));
    return answer.json.message_uuid;
  };
  const message = async (uuid: string) => (await getJson(`${server.url}/v0.1/messages/${uuid}`, server.basicAuth)).json;
  const settle = () => server.server.engine.settle();
  /** Signed as the provider signs; `null` sends no signature. */
  const callback = (body: unknown, signature: string | null = fake.sign(JSON.stringify(body))) => postProviderCallback(`${server.url}/webhooks/fake`, body, signature ?? undefined);
  return {
    receiver,
    fake,
    server,
    send,
    message,
    settle,
    callback,
    now: () => server.server.clock.now(),
    close: async () => {
      await server.close();
      await receiver.close();
    },
  };
}

test('the provider is started with a sink and closed with the server', async () => {
  const { fake, close } = await world();
  assert.equal(fake.started, true);
  assert.ok(fake.sink);
  await close();
  assert.equal(fake.closed, true);
});

test('a receipt reported before the submit answer waits for its reference and is applied with the submission', async () => {
  const { fake, server, send, message, settle, receiver, now, close } = await world();
  try {
    let heldDuringSend = -1;
    fake.onSend = async () => {
      const providerRef = fake.nextRef();
      // The provider's delivery report beats its own answer to our submit (an SMSC does this).
      await fake.sink!.receipt(providerRef, { status: 'delivered', at: now() });
      heldDuringSend = (await server.store.listInboxReceipts('fake', providerRef)).length;
      return { ok: true, providerRef };
    };
    const uuid = await send(whatsapp('447700900100'));
    await settle();
    assert.equal(heldDuringSend, 1, 'held in the inbox while no message carried the reference');
    const resource = await message(uuid);
    assert.equal(resource.status, 'delivered');
    assert.deepEqual(resource.history.map((h: any) => h.status), ['submitted', 'delivered']);
    assert.deepEqual(resource.attempts.map((a: any) => [a.provider, a.outcome]), [['fake', 'submitted']]);
    assert.deepEqual(statusesOf(receiver, uuid), ['submitted', 'delivered']);
    assert.deepEqual(await server.store.listInboxReceipts('fake', 'ref-1'), [], 'taken from the inbox');
    assert.equal(await server.store.countJobs(), 0, 'the held receipt\'s expiry went with it');
    assert.equal(fake.sent[0]?.attempt, 1);
  } finally {
    await close();
  }
});

test('a signed callback to /webhooks/{provider} that beats the submit answer is applied with the submission', async () => {
  const { fake, send, message, settle, callback, now, close } = await world();
  try {
    let callbackAnswer: { status: number; text: string } | undefined;
    fake.onSend = async () => {
      const providerRef = fake.nextRef();
      callbackAnswer = await callback({ receipts: [{ ref: providerRef, status: 'read', at: now() }] });
      return { ok: true, providerRef };
    };
    const uuid = await send(whatsapp('447700900101'));
    await settle();
    assert.deepEqual(callbackAnswer, { status: 200, text: 'EVENT_RECEIVED' });
    const resource = await message(uuid);
    assert.equal(resource.status, 'read');
    assert.deepEqual(resource.history.map((h: any) => h.status), ['submitted', 'read']);
  } finally {
    await close();
  }
});

test('a receipt after the submission finds its message at once; the provider retrying its callback changes nothing', async () => {
  const { send, message, settle, callback, receiver, now, close } = await world();
  try {
    const uuid = await send(whatsapp('447700900102'));
    await settle();
    const body = { receipts: [{ ref: 'ref-1', status: 'delivered', at: now() }] };
    assert.equal((await callback(body)).status, 200);
    assert.equal((await callback(body)).status, 200, 'a retried callback is answered the same');
    await settle();
    assert.equal((await message(uuid)).status, 'delivered');
    assert.deepEqual(statusesOf(receiver, uuid), ['submitted', 'delivered'], 'each status once');
  } finally {
    await close();
  }
});

test('a forged or missing signature is a 401 that changes nothing; an unknown provider is a 404', async () => {
  const { server, send, message, settle, callback, now, close } = await world();
  try {
    const uuid = await send(whatsapp('447700900103'));
    await settle();
    const body = { receipts: [{ ref: 'ref-1', status: 'delivered', at: now() }] };
    assert.equal((await callback(body, 'ab'.repeat(32))).status, 401);
    assert.equal((await callback(body, null)).status, 401);
    await settle();
    assert.equal((await message(uuid)).status, 'submitted');
    assert.deepEqual(await server.store.listInboxReceipts('fake', 'ref-1'), []);

    const unknown = await postProviderCallback(`${server.url}/webhooks/nobody`, body, 'x');
    assert.equal(unknown.status, 404);
    const sandbox = await postProviderCallback(`${server.url}/webhooks/sandbox`, body, 'x');
    assert.equal(sandbox.status, 404, 'the sandbox takes no callbacks');
    const handshake = await fetch(`${server.url}/webhooks/fake?hub.mode=subscribe&hub.challenge=1158201444`);
    assert.deepEqual([handshake.status, await handshake.text()], [200, '1158201444']);
  } finally {
    await close();
  }
});

test('a receipt whose reference never turns up is given up after receipts.unmatched_ttl_seconds, and counted', async () => {
  const { server, callback, now, settle, close } = await world({ receipts: { unmatched_ttl_seconds: 60 } });
  try {
    assert.equal((await callback({ receipts: [{ ref: 'never-sent', status: 'delivered', at: now() }] })).status, 200);
    assert.equal((await server.store.listInboxReceipts('fake', 'never-sent')).length, 1);
    await advanceClock(server.url, server.basicAuth, 59);
    await settle();
    assert.equal((await server.store.listInboxReceipts('fake', 'never-sent')).length, 1);
    await advanceClock(server.url, server.basicAuth, 1);
    await settle();
    assert.deepEqual(await server.store.listInboxReceipts('fake', 'never-sent'), []);
    assert.deepEqual(await server.store.readCounters(), { 'receipts.unmatched': 1 });
  } finally {
    await close();
  }
});

test('an adapter that throws is a retryable failure: retried with backoff for an hour, then rejected; its error is never shown', async () => {
  const { fake, server, send, message, settle, receiver, close } = await world();
  try {
    fake.onSend = async () => {
      throw new Error('connect ECONNREFUSED https://graph.example/send?access_token=SECRET-TOKEN');
    };
    const t0 = server.server.clock.now();
    const uuid = await send(whatsapp('447700900104'));
    await advanceClock(server.url, server.basicAuth, 30);
    await settle();
    const early = await message(uuid);
    assert.equal(early.status, 'accepted');
    assert.deepEqual(early.attempts.slice(0, 5).map((a: any) => Date.parse(a.timestamp) - t0), [0, 1000, 3000, 7000, 15_000], 'backoff 1 s, 2 s, 4 s, 8 s …');
    assert.deepEqual(early.attempts[0].error, { code: 1100, reason: 'Communication failed: the fake adapter failed' });
    assert.ok(early.attempts.every((a: any) => a.outcome === 'failed'));

    await advanceClock(server.url, server.basicAuth, 3600);
    await settle();
    const [rejected] = await receiver.waitFor((w) => w.json.message_uuid === uuid && w.json.status === 'rejected');
    assert.deepEqual(rejected!.json.error, { code: 1100, reason: 'Communication failed: the fake adapter failed' });
    const resource = await message(uuid);
    assert.equal(resource.status, 'rejected');
    assert.ok(Date.parse(resource.attempts.at(-1).timestamp) - t0 <= 3_600_000, 'no try after the hour');
    // Its circuit opened after five failures in a row: the tries while it was open went nowhere ('skipped').
    const made = resource.attempts.filter((a: any) => a.outcome !== 'skipped');
    assert.equal(fake.sent.length, made.length);
    assert.ok(resource.attempts.some((a: any) => a.outcome === 'skipped'));
    assert.ok(!JSON.stringify(resource).includes('SECRET-TOKEN'));
    assert.ok(!receiver.received.some((w) => w.raw.includes('SECRET-TOKEN')));
  } finally {
    await close();
  }
});

test('a provider that hangs holds only its share of the sends lane: other providers and failover timers go on', { timeout: 60_000 }, async () => {
  // The real clock: on the virtual one an advance waits for every running job, hanging ones too.
  const { fake, server, send, settle, receiver, close } = await world({ sends: { concurrency: 4, concurrency_per_provider: 2 } }, 'real');
  const hung: Array<(result: SendResult) => void> = [];
  try {
    fake.onSend = () => new Promise((resolve) => hung.push(resolve));
    for (let n = 0; n < 6; n += 1) await send(whatsapp(`44770090020${n}`));
    while (fake.sent.length < 2) await new Promise((resolve) => setImmediate(resolve));

    // WhatsApp first, on the hanging provider, then an SMS on the sandbox: the step's send window
    // (a failover timer) ends the WhatsApp step at its expiry, and the SMS goes out at once.
    assert.equal((await putJson(`${server.url}/sandbox/recipients/sms/447700900300`, server.basicAuth, { delivered_after: 0 })).status, 200);
    const startedAt = Date.now();
    const dispatch = await postJson(`${server.url}/v0.1/dispatch`, server.basicAuth, {
      template: 'failover',
      workflow: [
        { ...whatsapp('447700900299'), failover: { expiry_time: 15, condition_status: 'delivered' } },
        { from: { type: 'sms', number: '447700900000' }, to: { type: 'sms', number: '447700900300' }, message: { content: { type: 'text', text: 'SMS' } } },
      ],
    });
    assert.equal(dispatch.status, 202);
    const [report] = await receiver.waitFor((w) => w.json.dispatch_uuid === dispatch.json.dispatch_uuid, 1, 25_000);
    const tookMs = Date.now() - startedAt;
    assert.equal(report!.json.status, 'completed');
    assert.deepEqual(report!.json._links.messages.map((m: any) => [m.channel, m.status]), [['whatsapp', 'rejected'], ['sms', 'delivered']]);
    assert.ok(tookMs >= 15_000 && tookMs < 20_000, `the SMS step ended the dispatch ${tookMs} ms after it started (expiry 15 s)`);
    assert.equal(server.server.engine.jobsInFlight('sends'), 2, 'the hanging provider still holds its two slots, no more');
    assert.equal(fake.sent.length, 2, 'it was never given more');
  } finally {
    fake.onSend = async () => ({ ok: true, providerRef: fake.nextRef() });
    for (const resolve of hung) resolve({ ok: true, providerRef: fake.nextRef() });
    await settle();
    await close();
  }
});

test('a provider answering with a reference another message carries: recorded without it, and not sent again', async () => {
  const { fake, send, message, settle, close } = await world();
  try {
    fake.onSend = async () => ({ ok: true, providerRef: 'same-ref' });
    const first = await send(whatsapp('447700900110'));
    await settle();
    const second = await send(whatsapp('447700900111'));
    await settle();
    assert.equal((await message(first)).status, 'submitted');
    const resource = await message(second);
    assert.equal(resource.status, 'submitted');
    assert.deepEqual(resource.attempts.map((a: any) => a.outcome), ['submitted']);
    assert.equal(fake.sent.length, 2, 'each message was sent once');
  } finally {
    await close();
  }
});

test('a message in parts whose part reference another message carries (a restarted counter): recorded without them, not sent again; the first keeps its receipts', async () => {
  const { fake, send, message, settle, close } = await world();
  try {
    fake.onSend = async () => ({ ok: true, providerRef: 'p-1+1', partRefs: ['p-1', 'p-2'] });
    const first = await send(whatsapp('447700900112'));
    await settle();
    fake.onSend = async () => ({ ok: true, providerRef: 'p-2+1', partRefs: ['p-2', 'p-3'] });
    const second = await send(whatsapp('447700900113'));
    await settle();
    const resource = await message(second);
    assert.equal(resource.status, 'submitted');
    assert.deepEqual(resource.attempts.map((a: any) => a.outcome), ['submitted']);
    assert.equal(fake.sent.length, 2, 'each message was sent once');
    for (const ref of ['p-1', 'p-2']) await fake.sink!.receipt(ref, { status: 'delivered', at: Date.now() });
    await settle();
    assert.equal((await message(first)).status, 'delivered', 'p-2 is still the first message’s part');
  } finally {
    await close();
  }
});

test('one callback with receipts of two messages of one dispatch records both', async () => {
  const { fake, server, settle, callback, receiver, now, close } = await world();
  try {
    const dispatch = await postJson(`${server.url}/v0.1/dispatch`, server.basicAuth, {
      template: 'failover',
      workflow: [{ ...whatsapp('447700900120'), failover: { expiry_time: 600, condition_status: 'delivered' } }, whatsapp('447700900121')],
    });
    assert.equal(dispatch.status, 202);
    await settle();
    assert.equal((await callback({ receipts: [{ ref: 'ref-1', status: 'undeliverable', at: now() }] })).status, 200);
    await settle();
    assert.deepEqual(fake.sent.map((request) => request.to.number), ['447700900120', '447700900121'], 'the failure moved the workflow to the second message');
    // The provider batches a late read of the first message with the delivery of the second.
    const both = await callback({ receipts: [{ ref: 'ref-1', status: 'read', at: now() }, { ref: 'ref-2', status: 'delivered', at: now() }] });
    assert.equal(both.status, 200, both.text);
    await settle();
    const view = (await getJson(`${server.url}/v0.1/dispatch/${dispatch.json.dispatch_uuid}`, server.basicAuth)).json;
    assert.equal(view.status, 'completed');
    assert.equal(view.late_receipts, 1);
    const [report] = receiver.matching((w) => w.json.dispatch_uuid === dispatch.json.dispatch_uuid);
    assert.deepEqual(report!.json._links.messages.map((m: any) => m.status), ['undeliverable', 'delivered'], 'a failure is final: the late read is recorded, not taken');
  } finally {
    await close();
  }
});

test('a provider\'s clock is not ours: a receipt stamped in the future cannot expire a step early', async () => {
  const { server, settle, callback, now, close } = await world();
  try {
    const dispatch = await postJson(`${server.url}/v0.1/dispatch`, server.basicAuth, {
      template: 'failover',
      workflow: [{ ...whatsapp('447700900130'), failover: { expiry_time: 600, condition_status: 'read' } }, whatsapp('447700900131')],
    });
    await settle();
    const stampedAt = now() + 3_600_000;
    assert.equal((await callback({ receipts: [{ ref: 'ref-1', status: 'delivered', at: stampedAt }] })).status, 200);
    await settle();
    const view = (await getJson(`${server.url}/v0.1/dispatch/${dispatch.json.dispatch_uuid}`, server.basicAuth)).json;
    assert.deepEqual(view.workflow.map((step: any) => step.state), ['in-progress', 'not-started'], 'still waiting for the read');
    assert.equal(view.workflow[0].statuses.at(-1).timestamp, new Date(stampedAt).toISOString(), 'the history keeps what the provider said');
  } finally {
    await close();
  }
});

test('a send the provider does not answer within sends.timeout_ms is a failed try, retried', async () => {
  const { fake, server, send, message, settle, close } = await world({ sends: { timeout_ms: 200 } });
  try {
    let calls = 0;
    fake.onSend = async () => {
      calls += 1;
      if (calls === 1) return new Promise<SendResult>(() => {}); // never answers
      return { ok: true, providerRef: fake.nextRef() };
    };
    const uuid = await send(whatsapp('447700900140'));
    await settle();
    const early = await message(uuid);
    assert.equal(early.status, 'accepted');
    assert.deepEqual(early.attempts.map((a: any) => [a.outcome, a.error?.reason]), [['failed', 'Communication failed: the fake provider did not answer within 0.2 s']]);
    await advanceClock(server.url, server.basicAuth, 1);
    await settle();
    assert.deepEqual((await message(uuid)).attempts.map((a: any) => a.outcome), ['failed', 'submitted']);
  } finally {
    await close();
  }
});
