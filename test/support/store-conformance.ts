import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessagePart } from '../../src/core/message-parts.js';
import type { WallClock } from '../../src/core/clock.js';
import type { DispatchState } from '../../src/core/dispatch/types.js';
import type {
  AccountRecord,
  ApplicationRecord,
  ClaimedJob,
  DispatchRecord,
  InboxReceiptRecord,
  LinkRecord,
  MessageEventRecord,
  MessageRecord,
  MessageUpdate,
  NewJob,
  SendAttemptRecord,
  WebhookAttemptRecord,
  WebhookRecord,
} from '../../src/core/records.js';
import type { AddedJobRunner, ChangeSet, Store } from '../../src/store/store.js';
import { timeOrderedUuid } from '../../src/core/time-ordered-uuid.js';

/**
 * The behaviour every `Store` adapter must show (DESIGN §2 rule 4). Each test opens its own,
 * empty store, so adapters that share a server (PostgreSQL) hand out a fresh schema or database
 * per call. The store takes lease instants from the wall clock it is given; here a manual one,
 * so a test expires a lease by moving it. Records are compared after a JSON round trip: an absent
 * optional field and one set to `undefined` are the same thing to the rest of the code.
 */
export type OpenStore = (clock: WallClock) => Promise<{ store: Store; close(): Promise<void> }>;

/** Wall time that moves only when a test moves it. */
class ManualWall implements WallClock {
  now = REAL0;
  wallNow(): number {
    return this.now;
  }
}

export function runStoreConformance(name: string, open: OpenStore): void {
  const withStore = (fn: (store: Store, wall: ManualWall) => Promise<void>) => async () => {
    const wall = new ManualWall();
    const opened = await open(wall);
    try {
      await fn(opened.store, wall);
    } finally {
      await opened.close();
    }
  };

  describe(`Store conformance: ${name}`, () => {
    describe('accounts', () => {
      test('insert, find and count', withStore(async (store) => {
        assert.equal(await store.countAccounts(), 0);
        const full = account('key-full', { defaultInboundUrl: 'https://example.test/in', defaultStatusUrl: 'https://example.test/status' });
        const bare = account('key-bare');
        await store.insertAccount(full);
        await store.insertAccount(bare);
        assert.equal(await store.countAccounts(), 2);
        assert.deepEqual(plain(await store.findAccount('key-full')), plain(full));
        assert.deepEqual(plain(await store.findAccount('key-bare')), plain(bare));
        assert.equal((await store.findAccount('key-bare'))?.defaultStatusUrl, undefined);
        assert.equal(await store.findAccount('nobody'), undefined);
      }));

      test('a second account with the same api key is refused', withStore(async (store) => {
        await store.insertAccount(account('key-1'));
        assert.equal(await store.insertAccount(account('key-1', { secretHash: 'other' })), false);
        assert.equal(await store.countAccounts(), 1);
        assert.equal((await store.findAccount('key-1'))?.secretHash, 'hash-key-1');
      }));

      test('the first account is inserted only into an empty database', withStore(async (store) => {
        assert.equal(await store.insertFirstAccount(account('key-first')), true);
        assert.equal(await store.insertFirstAccount(account('key-second')), false);
        assert.equal(await store.countAccounts(), 1);
        assert.equal(await store.findAccount('key-second'), undefined);
      }));
    });

    describe('applications', () => {
      test('insert and find keep every field, JSON included', withStore(async (store) => {
        await store.insertAccount(account('key-1'));
        const app = application('app-1', 'key-1', T0, {
          capabilities: { messages: { webhooks: { inbound_url: { address: 'https://a.test/in', http_method: 'POST' } }, version: 'v1' }, rtc: {} },
          privacy: { improve_ai: true },
        });
        await store.insertApplication(app);
        assert.deepEqual(plain(await store.findApplication('app-1')), plain(app));
        assert.equal(await store.findApplication('app-unknown'), undefined);
      }));

      test('list is scoped to the account, ordered by creation then id, and paged', withStore(async (store) => {
        await store.insertAccount(account('key-1'));
        await store.insertAccount(account('key-2'));
        // Inserted out of order; two share a creation time and are ordered by id.
        await store.insertApplication(application('app-c', 'key-1', T0 + 30));
        await store.insertApplication(application('app-b', 'key-1', T0 + 10));
        await store.insertApplication(application('app-z', 'key-1', T0 + 20));
        await store.insertApplication(application('app-a', 'key-1', T0 + 20));
        await store.insertApplication(application('app-other', 'key-2', T0));

        const all = await store.listApplications('key-1', { limit: 10, offset: 0 });
        assert.equal(all.total, 4);
        assert.deepEqual(all.items.map((a) => a.id), ['app-b', 'app-a', 'app-z', 'app-c']);

        const second = await store.listApplications('key-1', { limit: 2, offset: 2 });
        assert.equal(second.total, 4, 'total counts every application of the account, not the page');
        assert.deepEqual(second.items.map((a) => a.id), ['app-z', 'app-c']);

        const first = await store.listApplications('key-1', { limit: 1, offset: 0 });
        assert.deepEqual(first.items.map((a) => a.id), ['app-b']);

        const past = await store.listApplications('key-1', { limit: 10, offset: 10 });
        assert.deepEqual(past, { items: [], total: 4 });

        assert.deepEqual((await store.listApplications('key-2', { limit: 10, offset: 0 })).items.map((a) => a.id), ['app-other']);
        assert.deepEqual(await store.listApplications('key-none', { limit: 10, offset: 0 }), { items: [], total: 0 });
      }));

      test('update replaces name, key, capabilities and privacy, only within the owning account', withStore(async (store) => {
        await store.insertAccount(account('key-1'));
        await store.insertAccount(account('key-2'));
        const app = application('app-1', 'key-1', T0);
        await store.insertApplication(app);

        const changed: ApplicationRecord = {
          ...app,
          name: 'renamed',
          publicKey: 'PUBLIC KEY 2',
          capabilities: { messages: { webhooks: {} } },
          privacy: { improve_ai: true },
          createdAt: T0 + 999, // not a replaceable field
          updatedAt: T0 + 500,
        };
        assert.equal(await store.updateApplication({ ...changed, apiKey: 'key-2' }), false, 'another account cannot update it');
        assert.deepEqual(plain(await store.findApplication('app-1')), plain(app));

        assert.equal(await store.updateApplication(changed), true);
        assert.deepEqual(plain(await store.findApplication('app-1')), plain({ ...changed, createdAt: T0 }));

        assert.equal(await store.updateApplication({ ...changed, id: 'app-unknown' }), false);
      }));

      test('delete only within the owning account', withStore(async (store) => {
        await store.insertAccount(account('key-1'));
        await store.insertAccount(account('key-2'));
        await store.insertApplication(application('app-1', 'key-1', T0));
        await store.insertApplication(application('app-2', 'key-1', T0 + 1));

        assert.equal(await store.deleteApplication('key-2', 'app-1'), false);
        assert.ok(await store.findApplication('app-1'));
        assert.equal(await store.deleteApplication('key-1', 'app-1'), true);
        assert.equal(await store.findApplication('app-1'), undefined);
        assert.equal(await store.deleteApplication('key-1', 'app-1'), false);
        assert.deepEqual(await store.listApplications('key-1', { limit: 10, offset: 0 }).then((p) => [p.total, p.items.map((a) => a.id)]), [1, ['app-2']]);
      }));
    });

    describe('messages and events', () => {
      test('a committed message is found with every field', withStore(async (store) => {
        const full = message('m-full', {
          applicationId: 'app-1',
          clientRef: 'ref-1',
          statusUrl: 'https://example.test/status',
          provider: 'smsc-uk',
          providerRef: 'prov-1',
          dispatchUuid: 'd-1',
          stepIndex: 0,
          status: 'rejected',
          reported: ['submitted', 'rejected'],
          version: 4,
          error: { code: 1020, reason: 'Invalid params' },
          usage: { price: '0.0333', currency: 'EUR' },
          message: { content: { type: 'text', text: 'héllo ✓' }, messenger: { category: 'message_tag', tag: 'x' } },
        });
        const bare = message('m-bare');
        assert.equal(await store.commit({ messages: [full, bare] }), 'committed');
        assert.deepEqual(plain(await store.findMessage('m-full')), plain(full));
        assert.deepEqual(plain(await store.findMessage('m-bare')), plain(bare));
        const found = await store.findMessage('m-bare');
        assert.equal(found?.error, undefined);
        assert.equal(found?.usage, undefined);
        assert.equal(found?.stepIndex, undefined);
        assert.deepEqual(found?.reported, []);
        assert.equal(await store.findMessage('m-unknown'), undefined);
      }));

      test('an update applies on the expected version and bumps it; absent fields are kept', withStore(async (store) => {
        await store.commit({ messages: [message('m-1', { provider: 'sandbox', providerRef: 'prov-1' })] });
        assert.equal(await store.commit({ messageUpdates: [update('m-1', 1, 'submitted', ['submitted'], { updatedAt: T0 + 10 })] }), 'committed');
        let found = await store.findMessage('m-1');
        assert.deepEqual([found?.status, found?.reported, found?.version], ['submitted', ['submitted'], 2]);
        assert.deepEqual([found?.provider, found?.providerRef], ['sandbox', 'prov-1'], 'an update without a reference keeps the stored one');
        assert.equal(found?.updatedAt, T0 + 10);

        assert.equal(
          await store.commit({
            messageUpdates: [update('m-1', 2, 'delivered', ['submitted', 'delivered'], { provider: 'smsc', providerRef: 'prov-2', usage: { price: '0.05', currency: 'EUR' }, updatedAt: T0 + 20 })],
          }),
          'committed',
        );
        found = await store.findMessage('m-1');
        assert.deepEqual([found?.status, found?.version, found?.provider, found?.providerRef], ['delivered', 3, 'smsc', 'prov-2']);
        assert.deepEqual(found?.usage, { price: '0.05', currency: 'EUR' });
        assert.equal(found?.error, undefined);

        assert.equal(
          await store.commit({ messageUpdates: [update('m-1', 3, 'undeliverable', ['submitted', 'delivered', 'undeliverable'], { error: { code: 1300, reason: 'gone' }, updatedAt: T0 + 30 })] }),
          'committed',
        );
        found = await store.findMessage('m-1');
        assert.deepEqual(found?.error, { code: 1300, reason: 'gone' });
        assert.deepEqual(found?.reported, ['submitted', 'delivered', 'undeliverable']);
        assert.deepEqual(found?.usage, { price: '0.05', currency: 'EUR' }, 'usage survives a later update without usage');
      }));

      test('a stale expected version is a conflict and nothing of the change set is written', withStore(async (store) => {
        await store.insertAccount(account('key-1'));
        await store.commit({ messages: [message('m-1'), message('m-2')], jobs: [job('held', T0)] });
        const [held] = await claim(store, { owner: 'worker-a' });
        assert.ok(held);
        await store.commit({ messageUpdates: [update('m-1', 1, 'submitted', ['submitted'], { updatedAt: T0 + 1 })] });
        await store.commit({ events: [event('m-1', 'submitted', T0 + 1)] });
        const jobsBefore = await store.countJobs();

        const everything: ChangeSet = {
          complete: held.lease,
          dispatches: [dispatch('d-new')],
          messages: [message('m-new')],
          events: [event('m-1', 'delivered', T0 + 2)],
          sendAttempts: [sendAttempt('m-1', 1)],
          webhooks: [webhook('w-new', { messageUuid: 'm-1' })],
          webhookAttempts: [attempt('w-new', 1, { statusCode: 500 })],
          jobs: [job('new-job', T0)],
          inbox: [heldReceipt('r-new', 'sandbox', 'ref-new')],
          counters: { 'test.counter': 1 },
          // A fresh update before the stale one: it, too, must be undone.
          messageUpdates: [
            update('m-2', 1, 'submitted', ['submitted'], { providerRef: 'fresh', updatedAt: T0 + 2 }),
            update('m-1', 1, 'delivered', ['submitted', 'delivered'], { providerRef: 'stale', updatedAt: T0 + 2 }),
          ],
        };
        assert.equal(await store.commit(everything), 'conflict');

        const m1 = await store.findMessage('m-1');
        assert.deepEqual([m1?.status, m1?.version, m1?.providerRef, m1?.updatedAt], ['submitted', 2, undefined, T0 + 1]);
        const m2 = await store.findMessage('m-2');
        assert.deepEqual([m2?.status, m2?.version, m2?.providerRef], ['queued', 1, undefined], 'the fresh update of the same change set was rolled back');
        assert.equal(await store.findMessage('m-new'), undefined, 'the message inserted by the same change set was rolled back');
        assert.equal(await store.findDispatch('d-new'), undefined);
        assert.deepEqual((await store.listMessageEvents('m-1')).map((e) => e.status), ['submitted']);
        assert.deepEqual(await store.listSendAttempts('m-1'), []);
        assert.equal(await store.findWebhook('w-new'), undefined);
        assert.deepEqual(await store.listWebhookAttempts('w-new'), []);
        assert.equal(await store.findInboxReceipt('r-new'), undefined);
        assert.deepEqual(await store.readCounters(), {});
        assert.equal(await store.countJobs(), jobsBefore, 'the new job was not added, and the completed job is still there');
        // The lease named by `complete` still holds: the job was not deleted.
        assert.equal(await store.commit({ complete: held.lease }), 'committed');
      }));

      test('updates of one change set apply in order, each guarded on the version the previous one left', withStore(async (store) => {
        await store.commit({ messages: [message('m-1', { status: 'submitted', reported: ['submitted'] })] });
        assert.equal(
          await store.commit({
            messageUpdates: [
              update('m-1', 1, 'delivered', ['submitted', 'delivered'], { usage: { price: '0.01', currency: 'EUR' }, updatedAt: T0 + 1 }),
              update('m-1', 2, 'read', ['submitted', 'delivered', 'read'], { updatedAt: T0 + 2 }),
            ],
          }),
          'committed',
        );
        const found = await store.findMessage('m-1');
        assert.deepEqual([found?.status, found?.version, found?.updatedAt, found?.usage?.price], ['read', 3, T0 + 2, '0.01']);
      }));

      test('an update of an unknown message is a conflict', withStore(async (store) => {
        assert.equal(await store.commit({ jobs: [job('x', T0)], messageUpdates: [update('nope', 1, 'submitted', ['submitted'])] }), 'conflict');
        assert.equal(await store.countJobs(), 0);
      }));

      test('a message is found by its provider and reference; a reference is unique per provider', withStore(async (store) => {
        await store.commit({
          messages: [
            message('m-1', { provider: 'smsc-uk', providerRef: '0A1B' }),
            message('m-2', { provider: 'twilio', providerRef: '0A1B' }),
            message('m-queued'),
          ],
        });
        assert.equal((await store.findMessageByProviderRef('smsc-uk', '0A1B'))?.uuid, 'm-1');
        assert.equal((await store.findMessageByProviderRef('twilio', '0A1B'))?.uuid, 'm-2', 'the same reference at another provider is another message');
        assert.equal(await store.findMessageByProviderRef('smsc-uk', '0a1b'), undefined, 'references are compared exactly');
        assert.equal(await store.findMessageByProviderRef('smsc-fr', '0A1B'), undefined);

        assert.equal(await store.commit({ messageUpdates: [update('m-queued', 1, 'submitted', ['submitted'], { provider: 'twilio', providerRef: 'SM-9' })] }), 'committed');
        assert.equal((await store.findMessageByProviderRef('twilio', 'SM-9'))?.uuid, 'm-queued', 'the reference recorded with `submitted` is found');
        await assert.rejects(
          store.commit({ messages: [message('m-dup', { provider: 'smsc-uk', providerRef: '0A1B' })] }),
          'a second message with the same provider and reference is refused',
        );
        assert.equal(await store.findMessage('m-dup'), undefined);

        // Recording a reference another message carries is a conflict: the caller looks, and decides.
        await store.commit({ messages: [message('m-late')] });
        assert.equal(await store.commit({ messageUpdates: [update('m-late', 1, 'submitted', ['submitted'], { provider: 'twilio', providerRef: 'SM-9' })], jobs: [job('with-it', T0)] }), 'conflict');
        assert.deepEqual([(await store.findMessage('m-late'))?.status, await store.countJobs()], ['queued', 0]);
      }));

      test('send attempts are recorded, listed in order and counted', withStore(async (store) => {
        await store.commit({ messages: [message('m-1'), message('m-2')] });
        await store.commit({
          sendAttempts: [
            sendAttempt('m-1', 2, { outcome: 'failed', error: { code: 1331, reason: 'Provider error' } }),
            sendAttempt('m-1', 1, { outcome: 'unanswered' }),
          ],
        });
        await store.commit({ sendAttempts: [sendAttempt('m-1', 3, { outcome: 'submitted', providerRef: 'ref-3' })] });
        const attempts = await store.listSendAttempts('m-1');
        assert.deepEqual(
          plain(attempts),
          plain([
            sendAttempt('m-1', 1, { outcome: 'unanswered' }),
            sendAttempt('m-1', 2, { outcome: 'failed', error: { code: 1331, reason: 'Provider error' } }),
            sendAttempt('m-1', 3, { outcome: 'submitted', providerRef: 'ref-3' }),
          ]),
        );
        assert.equal((await store.listSendAttempts('m-1')).length, 3);
        assert.equal((await store.listSendAttempts('m-2')).length, 0);
        await assert.rejects(store.commit({ sendAttempts: [sendAttempt('m-1', 3)] }), 'an attempt number is recorded once');
      }));

      test('events are listed per message in the order they were recorded', withStore(async (store) => {
        await store.commit({ messages: [message('m-1'), message('m-2')] });
        // Receipts arrive out of order: the list is the order of recording, not of `at`.
        await store.commit({ events: [event('m-1', 'submitted', T0 + 5), event('m-2', 'submitted', T0)] });
        await store.commit({
          events: [
            event('m-1', 'read', T0 + 30),
            event('m-1', 'delivered', T0 + 20, { usage: { price: '0.01', currency: 'EUR' } }),
          ],
        });
        await store.commit({ events: [event('m-1', 'undeliverable', T0 + 1, { error: { code: 1300, reason: 'gone' } })] });

        const events = await store.listMessageEvents('m-1');
        assert.deepEqual(
          plain(events),
          plain([
            event('m-1', 'submitted', T0 + 5),
            event('m-1', 'read', T0 + 30),
            event('m-1', 'delivered', T0 + 20, { usage: { price: '0.01', currency: 'EUR' } }),
            event('m-1', 'undeliverable', T0 + 1, { error: { code: 1300, reason: 'gone' } }),
          ]),
        );
        assert.deepEqual(plain(await store.listMessageEvents('m-2')), plain([event('m-2', 'submitted', T0)]));
        assert.deepEqual(await store.listMessageEvents('m-none'), []);
      }));

      test('the latest conversation is the newest outbound message between the two parties', withStore(async (store) => {
        const between = (uuid: string, createdAt: number, overrides: Partial<MessageRecord> = {}) =>
          message(uuid, { createdAt, updatedAt: createdAt, channel: 'sms', from: { type: 'sms', number: 'BIZ' }, to: { type: 'sms', number: '447700900001' }, ...overrides });
        const latest = (apiKey: string | undefined, channel: MessageRecord['channel'], businessAddress: string, userAddress: string) =>
          store.findLatestConversation({ apiKey, channel, businessAddress, userAddress });
        await store.commit({
          messages: [
            between('old', T0),
            between('newest', T0 + 20),
            between('middle', T0 + 10),
            between('inbound', T0 + 100, { direction: 'inbound', from: { type: 'sms', number: '447700900001' }, to: { type: 'sms', number: 'BIZ' } }),
            between('other-user', T0 + 100, { to: { type: 'sms', number: '447700900002' } }),
            between('other-account', T0 + 30, { apiKey: 'key-2' }),
            between('other-channel', T0 + 100, { channel: 'whatsapp', from: { type: 'whatsapp', number: 'BIZ' }, to: { type: 'whatsapp', number: '447700900001' } }),
          ],
        });
        assert.equal((await latest('key-1', 'sms', 'BIZ', '447700900001'))?.uuid, 'newest');
        assert.equal((await latest('key-2', 'sms', 'BIZ', '447700900001'))?.uuid, 'other-account');
        assert.equal((await latest(undefined, 'sms', 'BIZ', '447700900001'))?.uuid, 'other-account', 'without an account: the newest of any account');
        assert.equal((await latest('key-1', 'whatsapp', 'BIZ', '447700900001'))?.uuid, 'other-channel');
        assert.equal(await latest('key-1', 'sms', '447700900001', 'BIZ'), undefined, 'inbound messages do not count');
        assert.equal(await latest('key-1', 'messenger', 'BIZ', '447700900001'), undefined);

        // Messenger and Viber carry `id` instead of `number`.
        await store.commit({
          messages: [message('fb', { channel: 'messenger', from: { type: 'messenger', id: 'PAGE' }, to: { type: 'messenger', id: 'PSID' } })],
        });
        assert.equal((await latest('key-1', 'messenger', 'PAGE', 'PSID'))?.uuid, 'fb');
      }));
    });

    test('a thread lists what a watermark covers: the provider’s submitted or delivered messages sent by then, newest first', withStore(async (store) => {
      const fb = (uuid: string, createdAt: number, overrides: Partial<MessageRecord> = {}) =>
        message(uuid, { createdAt, updatedAt: createdAt, channel: 'messenger', from: { type: 'messenger', id: 'PAGE' }, to: { type: 'messenger', id: 'PSID' }, provider: 'fb', status: 'submitted', providerRef: `mid-${uuid}`, ...overrides });
      const submittedAt = (uuid: string, at: number): MessageEventRecord => event(uuid, 'submitted', at);
      await store.commit({
        messages: [
          fb('first', T0),
          fb('second', T0 + 10, { status: 'delivered' }),
          fb('late', T0 + 20),
          fb('read', T0 + 5, { status: 'read' }),
          fb('failed', T0 + 6, { status: 'undeliverable' }),
          fb('queued', T0 + 7, { status: 'queued', providerRef: undefined, provider: undefined }),
          fb('other-provider', T0 + 8, { provider: 'fb-2' }),
          fb('other-user', T0 + 9, { to: { type: 'messenger', id: 'PSID-2' } }),
          fb('other-account', T0 + 11, { apiKey: 'key-2' }),
        ],
        events: ['first', 'second', 'read', 'failed', 'other-provider', 'other-user', 'other-account'].map((uuid, index) => submittedAt(uuid, T0 + 100 + index)).concat([submittedAt('late', T0 + 500), event('second', 'delivered', T0 + 50)]),
      });
      const thread = (sentBy: number, limit = 10) => store.listThreadMessages({ provider: 'fb', channel: 'messenger', businessAddress: 'PAGE', userAddress: 'PSID', sentBy, limit });
      assert.deepEqual((await thread(T0 + 499)).map((found) => found.uuid), ['other-account', 'second', 'first'], 'across accounts: a thread names none');
      assert.deepEqual((await thread(T0 + 500)).map((found) => found.uuid), ['late', 'other-account', 'second', 'first'], 'at the watermark counts');
      assert.deepEqual((await thread(T0 + 100)).map((found) => found.uuid), ['first']);
      assert.deepEqual((await thread(T0 + 99)).map((found) => found.uuid), []);
      assert.deepEqual((await thread(T0 + 500, 2)).map((found) => found.uuid), ['late', 'other-account'], 'the newest, up to the limit');
      await store.commit({ messages: [fb('ancient', T0 - 31 * 24 * 3600_000)], events: [submittedAt('ancient', T0 - 31 * 24 * 3600_000)] });
      assert.ok(!(await thread(T0 + 500)).some((found) => found.uuid === 'ancient'), 'a watermark looks back 30 days at most');
    }));

    test('the parts of a message carried in pieces are found by reference, listed in order, and updated only from the status read', withStore(async (store) => {
      const part = (index: number, overrides: Partial<MessagePart> = {}): MessagePart => ({ provider: 'smsc', partRef: `p-${index}`, messageUuid: 'm-1', index, status: 'submitted', at: T0, ...overrides });
      await store.commit({ messages: [message('m-1', { status: 'submitted', provider: 'smsc', providerRef: 'p-0+1' })], messageParts: [part(1), part(0)] });
      assert.deepEqual(await store.listMessageParts('m-1'), [part(0), part(1)]);
      assert.deepEqual(await store.findMessagePart('smsc', 'p-1'), part(1));
      assert.equal(await store.findMessagePart('other', 'p-1'), undefined);
      assert.deepEqual(await store.listMessageParts('m-2'), []);

      const failed = { provider: 'smsc', partRef: 'p-1', expectedStatus: 'submitted' as const, status: 'undeliverable' as const, at: T0 + 5, error: { code: 1330, reason: 'gone' } };
      assert.equal(await store.commit({ partUpdates: [failed] }), 'committed');
      assert.deepEqual(await store.findMessagePart('smsc', 'p-1'), part(1, { status: 'undeliverable', at: T0 + 5, error: { code: 1330, reason: 'gone' } }));
      assert.equal(await store.commit({ partUpdates: [{ ...failed, status: 'delivered' }] }), 'conflict', 'read as submitted, it is not any more');
      assert.equal(await store.commit({ messageParts: [part(7, { partRef: 'p-0', messageUuid: 'm-2' })] }), 'conflict', 'a reference is one part’s');
      assert.equal(await store.commit({ messageParts: [part(8, { partRef: 'p-0+1', messageUuid: 'm-3' })] }), 'conflict', 'or one message’s');
      assert.equal(await store.commit({ inbox: [heldReceipt('r-1', 'smsc', 'p-1')] }), 'conflict', 'a part carries it: nothing to hold');
      assert.equal(await store.commit({ inbox: [heldReceipt('r-2', 'smsc', 'p-9')] }), 'committed');
    }));

    test('links: one account’s per address, moved by a second put, bounded per account, listed per application', withStore(async (store) => {
      const link = (overrides: Partial<LinkRecord> = {}): LinkRecord => ({ channel: 'sms', address: '447700900001', apiKey: 'key-1', applicationId: 'app-1', createdAt: T0, ...overrides });
      assert.equal(await store.putLink(link(), 2), 'linked');
      assert.equal(await store.putLink(link({ applicationId: 'app-2', createdAt: T0 + 1 }), 2), 'linked', 'the same account moves it');
      assert.deepEqual(await store.findLink('sms', '447700900001'), link({ applicationId: 'app-2', createdAt: T0 + 1 }));
      assert.equal(await store.putLink(link({ apiKey: 'key-2', applicationId: 'app-9' }), 2), 'taken');
      assert.equal(await store.putLink(link({ address: '447700900002', applicationId: 'app-2' }), 2), 'linked');
      assert.equal(await store.putLink(link({ address: '447700900003' }), 2), 'limit');
      assert.equal(await store.putLink(link({ address: '447700900002', applicationId: 'app-2' }), 2), 'linked', 'an existing link is not counted again');
      assert.deepEqual((await store.listLinks('app-2')).map((found) => found.address), ['447700900001', '447700900002']);
      assert.equal(await store.findLink('whatsapp', '447700900001'), undefined);
      assert.equal(await store.deleteLink('app-1', 'sms', '447700900001'), false, 'not app-1’s any more');
      assert.equal(await store.deleteLink('app-2', 'sms', '447700900001'), true);
      assert.equal(await store.findLink('sms', '447700900001'), undefined);
    }));

    describe('the receipt inbox', () => {
      test('held receipts are listed per reference, oldest first, and found by id', withStore(async (store) => {
        await store.commit({ inbox: [heldReceipt('r-2', 'smsc', 'ref-1', { receivedAt: T0 + 2, status: 'read' }), heldReceipt('r-1', 'smsc', 'ref-1', { receivedAt: T0 + 1 })] });
        await store.commit({ inbox: [heldReceipt('r-other', 'twilio', 'ref-1'), heldReceipt('r-3', 'smsc', 'ref-2', { error: { code: 1300, reason: 'gone' }, status: 'undeliverable' })] });
        assert.deepEqual((await store.listInboxReceipts('smsc', 'ref-1')).map((r) => r.id), ['r-1', 'r-2']);
        assert.deepEqual(plain(await store.findInboxReceipt('r-3')), plain(heldReceipt('r-3', 'smsc', 'ref-2', { error: { code: 1300, reason: 'gone' }, status: 'undeliverable' })));
        assert.equal(await store.findInboxReceipt('r-none'), undefined);
        assert.deepEqual(await store.listInboxReceipts('smsc', 'ref-none'), []);
      }));

      test('a receipt is not held once a message carries its reference: the commit conflicts', withStore(async (store) => {
        await store.commit({ messages: [message('m-1', { provider: 'smsc', providerRef: 'ref-1' })] });
        assert.equal(await store.commit({ inbox: [heldReceipt('r-1', 'smsc', 'ref-1')], jobs: [job('expiry', T0)] }), 'conflict');
        assert.equal(await store.findInboxReceipt('r-1'), undefined);
        assert.equal(await store.countJobs(), 0);
        assert.equal(await store.commit({ inbox: [heldReceipt('r-2', 'other-provider', 'ref-1')] }), 'committed', 'only the same provider counts');
      }));

      test('taking held receipts conflicts unless they are all the reference holds', withStore(async (store) => {
        await store.commit({ messages: [message('m-1')], inbox: [heldReceipt('r-1', 'smsc', 'ref-1')] });
        const submitted = update('m-1', 1, 'submitted', ['submitted'], { provider: 'smsc', providerRef: 'ref-1' });
        // One more arrived after the taker read the inbox: the submission is computed again with it.
        await store.commit({ inbox: [heldReceipt('r-late', 'smsc', 'ref-1')] });
        assert.equal(await store.commit({ messageUpdates: [submitted], inboxTaken: [{ provider: 'smsc', providerRef: 'ref-1', ids: ['r-1'] }] }), 'conflict');
        assert.equal((await store.findMessage('m-1'))?.status, 'queued');
        assert.equal(await store.commit({ messageUpdates: [submitted], inboxTaken: [{ provider: 'smsc', providerRef: 'ref-1', ids: [] }] }), 'conflict', 'taking none while some wait conflicts too');
        assert.equal(await store.commit({ inboxTaken: [{ provider: 'smsc', providerRef: 'ref-1', ids: ['r-1', 'r-late', 'r-gone'] }] }), 'conflict', 'nor may it take what is not there');

        assert.equal(await store.commit({ messageUpdates: [submitted], inboxTaken: [{ provider: 'smsc', providerRef: 'ref-1', ids: ['r-late', 'r-1'] }] }), 'committed');
        assert.deepEqual(await store.listInboxReceipts('smsc', 'ref-1'), []);
        assert.equal((await store.findMessage('m-1'))?.providerRef, 'ref-1');
        assert.equal(await store.commit({ inboxTaken: [{ provider: 'smsc', providerRef: 'ref-new', ids: [] }] }), 'committed', 'a reference with nothing held takes nothing');
      }));

      test('an expired receipt is deleted and counted once; expiring one that was taken conflicts', withStore(async (store) => {
        await store.commit({ inbox: [heldReceipt('r-1', 'smsc', 'ref-1'), heldReceipt('r-2', 'smsc', 'ref-2')] });
        assert.equal(await store.commit({ inboxExpired: ['r-1'], counters: { 'receipts.unmatched': 1 } }), 'committed');
        assert.equal(await store.findInboxReceipt('r-1'), undefined);
        assert.equal(await store.commit({ inboxExpired: ['r-1'], counters: { 'receipts.unmatched': 1 } }), 'conflict', 'gone already');
        assert.equal(await store.commit({ inboxExpired: ['r-2'], counters: { 'receipts.unmatched': 1, other: 5 } }), 'committed');
        assert.deepEqual(await store.readCounters(), { other: 5, 'receipts.unmatched': 2 });
      }));
    });

    describe('dispatches', () => {
      test('insert and find keep the workflow, state and version', withStore(async (store) => {
        const d = dispatch('d-1', { applicationId: 'app-1', statusUrl: 'https://example.test/status' });
        const bare = dispatch('d-2');
        assert.equal(await store.commit({ dispatches: [d, bare] }), 'committed');
        assert.deepEqual(plain(await store.findDispatch('d-1')), plain(d));
        assert.deepEqual(plain(await store.findDispatch('d-2')), plain(bare));
        assert.equal(await store.findDispatch('d-unknown'), undefined);
      }));

      test('an update is guarded on the version it read, and bumps it', withStore(async (store) => {
        await store.commit({ dispatches: [dispatch('d-1')] });
        const next: DispatchState = { ...dispatchState(), current: 1, steps: [...dispatchState().steps, { startedAt: T0 + 5, messageStatus: 'queued' }] };
        assert.equal(await store.commit({ dispatchUpdates: [{ uuid: 'd-1', expectedVersion: 1, state: next, updatedAt: T0 + 5 }] }), 'committed');
        let found = await store.findDispatch('d-1');
        assert.equal(found?.version, 2);
        assert.deepEqual(found?.state, next);
        assert.equal(found?.updatedAt, T0 + 5);
        assert.equal(found?.createdAt, T0);

        // A second writer that read version 1 loses, and its other effects are rolled back.
        const done: DispatchState = { ...next, status: 'completed', endedAt: T0 + 9 };
        assert.equal(
          await store.commit({
            messages: [message('m-racing')],
            jobs: [job('racing', T0)],
            dispatchUpdates: [{ uuid: 'd-1', expectedVersion: 1, state: done, updatedAt: T0 + 9 }],
          }),
          'conflict',
        );
        found = await store.findDispatch('d-1');
        assert.equal(found?.version, 2);
        assert.deepEqual(found?.state, next);
        assert.equal(await store.findMessage('m-racing'), undefined);
        assert.equal(await store.countJobs(), 0);

        assert.equal(await store.commit({ dispatchUpdates: [{ uuid: 'd-1', expectedVersion: 2, state: done, updatedAt: T0 + 9 }] }), 'committed');
        found = await store.findDispatch('d-1');
        assert.equal(found?.version, 3);
        assert.equal(found?.state.status, 'completed');

        assert.equal(await store.commit({ dispatchUpdates: [{ uuid: 'd-unknown', expectedVersion: 1, state: done, updatedAt: T0 }] }), 'conflict');
      }));

      test("a dispatch's messages are listed in step order", withStore(async (store) => {
        await store.commit({
          dispatches: [dispatch('d-1'), dispatch('d-2')],
          messages: [
            message('step-2', { dispatchUuid: 'd-1', stepIndex: 2, createdAt: T0 }),
            message('step-0', { dispatchUuid: 'd-1', stepIndex: 0, createdAt: T0 + 2 }),
            message('other', { dispatchUuid: 'd-2', stepIndex: 0 }),
            message('loose'),
          ],
        });
        await store.commit({ messages: [message('step-1', { dispatchUuid: 'd-1', stepIndex: 1, createdAt: T0 + 1 })] });
        assert.deepEqual((await store.listDispatchMessages('d-1')).map((m) => m.uuid), ['step-0', 'step-1', 'step-2']);
        assert.deepEqual((await store.listDispatchMessages('d-2')).map((m) => m.uuid), ['other']);
        assert.deepEqual(await store.listDispatchMessages('d-none'), []);
      }));
    });

    describe('jobs', () => {
      test('a claim takes only due jobs, earliest first, up to the limit', withStore(async (store) => {
        // Inserted latest-due first, so insertion order and due order differ.
        await store.commit({
          jobs: [job('later', T0 + 1), job('at-now', T0), job('late-3', T0 - 10), job('late-1', T0 - 30), job('late-2', T0 - 20)],
        });
        const first = await claim(store, { owner: 'w', dueBy: T0, limit: 2 });
        assert.deepEqual(first.map(nameOf), ['late-1', 'late-2'], 'the two earliest, in due order');
        const second = await claim(store, { owner: 'w', dueBy: T0, limit: 10 });
        assert.deepEqual(second.map(nameOf), ['late-3', 'at-now'], 'due exactly at dueBy counts as due');
        assert.deepEqual(await claim(store, { owner: 'w', dueBy: T0, limit: 10 }), []);
        assert.deepEqual((await claim(store, { owner: 'w', dueBy: T0 + 1, limit: 10 })).map(nameOf), ['later']);
      }));

      test('a claimed job carries kind, payload, due time, attempts and its lease', withStore(async (store) => {
        const payload = { messageUuid: 'm-1', nested: { list: [1, 'two', null], flag: true }, text: 'é ✓' };
        await store.commit({ jobs: [{ kind: 'send.message', payload, dueAt: T0 - 5, key: 'k' }] });
        const [claimed] = await claim(store, { owner: 'worker-a' });
        assert.ok(claimed);
        assert.equal(claimed.kind, 'send.message');
        assert.deepEqual(claimed.payload, payload);
        assert.equal(claimed.dueAt, T0 - 5);
        assert.equal(claimed.attempts, 1);
        assert.deepEqual(claimed.lease, { jobId: claimed.id, owner: 'worker-a' });
        assert.equal(typeof claimed.id, 'number');
      }));

      test('a claim takes only the lanes asked for; nextDueAt looks at those lanes only', withStore(async (store) => {
        await store.commit({
          jobs: [
            { ...job('webhook-1', T0 - 30), kind: 'webhook.deliver', lane: 'webhooks' },
            { ...job('send-1', T0 - 20), kind: 'message.send', lane: 'sends' },
            { ...job('timer-1', T0 - 10), kind: 'dispatch.timer', lane: 'engine' },
            { ...job('webhook-2', T0 + 50), kind: 'webhook.deliver', lane: 'webhooks' },
            { ...job('no-lane', T0 - 40), kind: 'from.another.version' },
          ],
        });
        assert.equal(await store.nextDueAt({ lanes: ['engine', 'sends'] }), T0 - 20);
        assert.equal(await store.nextDueAt({ lanes: ['engine'] }), T0 - 10);
        assert.equal(await store.nextDueAt({ lanes: ['no-such-lane'] }), undefined);
        assert.equal(await store.nextDueAt({ lanes: [] }), undefined, 'no lanes, nothing due');
        assert.equal(await store.nextDueAt(), T0 - 40, 'without a filter every job counts, one of no lane too');
        const work = await claim(store, { owner: 'w', lanes: ['engine', 'sends'] });
        assert.deepEqual(work.map(nameOf), ['send-1', 'timer-1']);
        assert.deepEqual(await claim(store, { owner: 'w', lanes: ['engine'] }), []);
        const webhooks = await claim(store, { owner: 'w', lanes: ['webhooks'], dueBy: T0 + 50 });
        assert.deepEqual(webhooks.map(nameOf), ['webhook-1', 'webhook-2']);
        assert.deepEqual((await claim(store, { owner: 'w' })).map(nameOf), ['no-lane'], 'a job of no lane only an unfiltered claim takes');
      }));

      test('a lane\'s claim and nextDueAt skip excluded keys too', withStore(async (store) => {
        await store.commit({ jobs: [{ ...job('busy', T0 - 10, 'provider:busy'), lane: 'sends' }, { ...job('free', T0, 'provider:free'), lane: 'sends' }] });
        assert.equal(await store.nextDueAt({ lanes: ['sends'], excludeKeys: ['provider:busy'] }), T0);
        assert.deepEqual((await claim(store, { owner: 'w', lanes: ['sends'], excludeKeys: ['provider:busy'] })).map(nameOf), ['free']);
      }));

      test('a lane\'s claim that leaves keys out takes the earliest due jobs of the other keys and of none, up to its limit', withStore(async (store) => {
        const webhookJob = (name: string, dueAt: number, key?: string, tenant?: string) => ({ ...job(name, dueAt, key), lane: 'webhooks', ...(tenant ? { tenant } : {}) });
        await store.commit({
          jobs: [
            ...Array.from({ length: 5 }, (_, n) => webhookJob(`slow-${n}`, T0 - 50 + n, 'origin:slow')),
            webhookJob('a-1', T0 - 30, 'origin:a'),
            webhookJob('a-2', T0 - 10, 'origin:a'),
            webhookJob('a-later', T0 + 100, 'origin:a'),
            webhookJob('b-noisy', T0 - 20, 'origin:b', 'noisy'),
            webhookJob('b-calm', T0 - 15, 'origin:b', 'calm'),
            webhookJob('no-key', T0 - 25),
            { ...job('a-other-lane', T0 - 40, 'origin:a'), lane: 'sends' },
          ],
        });
        const leavingOut = { lanes: ['webhooks'], excludeKeys: ['origin:slow'], excludeTenants: ['noisy'] };
        assert.deepEqual((await claim(store, { owner: 'w', limit: 3, ...leavingOut })).map(nameOf), ['a-1', 'no-key', 'b-calm'], 'in due order across keys');
        assert.deepEqual((await claim(store, { owner: 'w', ...leavingOut })).map(nameOf), ['a-2'], 'not the leased, not the later, not the excluded tenant\'s');
        assert.equal(await store.nextDueAt(leavingOut), T0 + 100);
        assert.equal(await store.nextDueAt({ ...leavingOut, excludeKeys: ['origin:slow', 'origin:a'] }), undefined, 'nothing left outside the exclusions');
        assert.deepEqual((await claim(store, { owner: 'w', lanes: ['webhooks'], excludeKeys: ['origin:slow'] })).map(nameOf), ['b-noisy']);
        assert.deepEqual((await claim(store, { owner: 'w', lanes: ['webhooks'], excludeKeys: ['origin:a', 'origin:b'] })).map(nameOf), ['slow-0', 'slow-1', 'slow-2', 'slow-3', 'slow-4']);
      }));

      test('nextDueAt with dueAfter looks only at jobs due later, not at a backlog due already', withStore(async (store) => {
        await store.commit({
          jobs: [
            { ...job('backlog-1', T0 - 20, 'origin:slow'), lane: 'webhooks' },
            { ...job('backlog-2', T0 - 10, 'origin:slow'), lane: 'webhooks' },
            { ...job('free-now', T0, 'origin:fast'), lane: 'webhooks' },
            { ...job('later', T0 + 500, 'origin:slow'), lane: 'webhooks' },
            { ...job('later-free', T0 + 900, 'origin:fast'), lane: 'webhooks' },
          ],
        });
        assert.equal(await store.nextDueAt({ lanes: ['webhooks'], dueAfter: T0 }), T0 + 500, 'due strictly after the instant');
        assert.equal(await store.nextDueAt({ lanes: ['webhooks'], dueAfter: T0 - 1 }), T0);
        assert.equal(await store.nextDueAt({ lanes: ['webhooks'], dueAfter: T0, excludeKeys: ['origin:slow'] }), T0 + 900);
        assert.equal(await store.nextDueAt({ dueAfter: T0 + 900 }), undefined);
        assert.equal(await store.nextDueAt({ lanes: ['webhooks'] }), T0 - 20, 'without dueAfter the earliest of all');
      }));

      test('two claimers racing take disjoint jobs, and together every due one', withStore(async (store) => {
        await store.commit({ jobs: Array.from({ length: 20 }, (_, n) => job(`j-${n}`, T0 - n)) });
        const [a, b] = await Promise.all([claim(store, { owner: 'node-a', limit: 12 }), claim(store, { owner: 'node-b', limit: 12 })]);
        const names = [...a, ...b].map(nameOf);
        assert.equal(new Set(names).size, names.length, 'no job is claimed twice');
        assert.equal(names.length, 20);
        assert.ok(a.every((j) => j.lease.owner === 'node-a') && b.every((j) => j.lease.owner === 'node-b'));
        assert.deepEqual(await claim(store, { owner: 'node-c', limit: 20 }), []);
      }));

      test('a job under a live lease is not claimed again; an expired lease is reclaimed', withStore(async (store, wall) => {
        await store.commit({ jobs: [job('only', T0)] });
        const [a] = await claim(store, { owner: 'worker-a', leaseMs: 30_000 });
        assert.ok(a);
        wall.now = REAL0 + 1;
        assert.deepEqual(await claim(store, { owner: 'worker-b' }), []);
        wall.now = REAL0 + 30_000;
        assert.deepEqual(await claim(store, { owner: 'worker-b' }), [], 'a lease holds up to its last millisecond');
        // Due time is on the scheduling clock, leases on the wall clock: moving dueBy far ahead
        // (a virtual clock advance) does not expire a lease.
        assert.deepEqual(await claim(store, { owner: 'worker-b', dueBy: T0 + 86_400_000 }), []);

        wall.now = REAL0 + 30_001;
        const [b] = await claim(store, { owner: 'worker-b' });
        assert.ok(b, 'the expired lease is taken over');
        assert.equal(b.id, a.id);
        assert.equal(b.attempts, 2);
        assert.deepEqual(b.lease, { jobId: a.id, owner: 'worker-b' });

        assert.equal(await store.commit({ complete: a.lease }), 'conflict', 'the first worker lost its lease');
        assert.equal(await store.commit({ reschedule: { lease: a.lease, dueAt: T0 } }), 'conflict');
        assert.equal(await store.countJobs(), 1);
        assert.equal(await store.commit({ complete: b.lease }), 'committed');
        assert.equal(await store.countJobs(), 0);
      }));

      test('complete is fenced on the lease owner and deletes the job with its effects', withStore(async (store) => {
        await store.commit({ jobs: [job('one', T0), job('two', T0 + 1)] });
        const [one] = await claim(store, { owner: 'worker-a', limit: 1 });
        assert.ok(one);

        const wrongOwner = { jobId: one.id, owner: 'worker-b' };
        assert.equal(await store.commit({ complete: wrongOwner, messages: [message('m-wrong')] }), 'conflict');
        assert.equal(await store.findMessage('m-wrong'), undefined);
        assert.equal(await store.countJobs(), 2);

        const unclaimed = { jobId: one.id + 1, owner: 'worker-a' };
        assert.equal(await store.commit({ complete: unclaimed }), 'conflict', 'a job that was never claimed has no lease to complete');
        assert.equal(await store.commit({ complete: { jobId: 999_999, owner: 'worker-a' } }), 'conflict');

        assert.equal(await store.commit({ complete: one.lease, messages: [message('m-done')] }), 'committed');
        assert.ok(await store.findMessage('m-done'));
        assert.equal(await store.countJobs(), 1);
        assert.equal(await store.commit({ complete: one.lease }), 'conflict', 'a job is completed once');
      }));

      test('reschedule is fenced, moves the due time and frees the lease', withStore(async (store, wall) => {
        await store.commit({ jobs: [job('retry-me', T0)] });
        const [a] = await claim(store, { owner: 'worker-a', leaseMs: 30_000 });
        assert.ok(a);

        assert.equal(
          await store.commit({ reschedule: { lease: { jobId: a.id, owner: 'worker-b' }, dueAt: T0 + 5000 }, messages: [message('m-wrong')] }),
          'conflict',
        );
        assert.equal(await store.findMessage('m-wrong'), undefined);

        assert.equal(
          await store.commit({ reschedule: { lease: a.lease, dueAt: T0 + 5000, error: 'provider said 429' }, webhookAttempts: [attempt('w-1', 1)] }),
          'committed',
        );
        assert.equal((await store.listWebhookAttempts('w-1')).length, 1, 'the effects commit with the reschedule');
        assert.equal(await store.countJobs(), 1);
        assert.equal(await store.commit({ complete: a.lease }), 'conflict', 'the lease is gone once rescheduled');

        // Not due before its new time; then claimable at once, although the old lease would still run.
        wall.now = REAL0 + 1;
        assert.deepEqual(await claim(store, { owner: 'worker-b', dueBy: T0 + 4999 }), []);
        const [b] = await claim(store, { owner: 'worker-b', dueBy: T0 + 5000 });
        assert.ok(b);
        assert.equal(b.id, a.id);
        assert.equal(b.dueAt, T0 + 5000);
        assert.equal(b.attempts, 2, 'attempts keep counting across reschedules');
        assert.equal(nameOf(b), 'retry-me');

        // A job can also be moved earlier, e.g. back to now after a conflict.
        assert.equal(await store.commit({ reschedule: { lease: b.lease, dueAt: T0 - 1 } }), 'committed');
        assert.equal((await claim(store, { owner: 'worker-c', dueBy: T0 - 1 }))[0]?.attempts, 3);
      }));

      test('release is fenced, frees the lease as it was and does not count the claim as an attempt', withStore(async (store) => {
        await store.commit({ jobs: [job('share-full', T0 - 5)] });
        const [a] = await claim(store, { owner: 'worker-a' });
        assert.ok(a);
        assert.equal(await store.commit({ release: { jobId: a.id, owner: 'worker-b' } }), 'conflict');
        assert.equal(await store.commit({ release: a.lease }), 'committed');
        assert.equal(await store.commit({ complete: a.lease }), 'conflict', 'the lease is gone once released');
        const [b] = await claim(store, { owner: 'worker-b' });
        assert.deepEqual([b?.id, b?.dueAt, b?.attempts], [a.id, T0 - 5, 1], 'due as it was, and this is still its first attempt');
      }));

      test('cancelJobKeys deletes every job with those keys and nothing else', withStore(async (store, wall) => {
        await store.commit({
          jobs: [
            job('k1-a', T0, 'key-1'),
            job('k1-b', T0 + 10, 'key-1'),
            job('k2', T0, 'key-2'),
            job('k3', T0, 'key-3'),
            job('no-key', T0),
          ],
        });
        // A leased job with a cancelled key goes too (e.g. a timer being processed).
        const leased = (await claim(store, { owner: 'w', dueBy: T0, limit: 10 })).find((j) => nameOf(j) === 'k3');
        assert.ok(leased);
        assert.equal(await store.commit({ cancelJobKeys: ['key-1', 'key-3', 'key-absent'] }), 'committed');
        assert.equal(await store.countJobs(), 2);
        assert.equal(await store.commit({ complete: leased.lease }), 'conflict', 'the cancelled job is gone');
        wall.now = REAL0 + 60_000;
        assert.deepEqual((await claim(store, { owner: 'w', dueBy: T0 + 100, limit: 10 })).map(nameOf).sort(), ['k2', 'no-key']);
      }));

      test('a change set cancels keys before it adds jobs, so a job can replace its keyed predecessor', withStore(async (store) => {
        await store.commit({ jobs: [job('old-timer', T0 + 100, 'timer')] });
        assert.equal(await store.commit({ cancelJobKeys: ['timer'], jobs: [job('new-timer', T0 + 200, 'timer')] }), 'committed');
        assert.equal(await store.countJobs(), 1);
        assert.deepEqual((await claim(store, { owner: 'w', dueBy: T0 + 1000 })).map(nameOf), ['new-timer']);
      }));

      test('nextDueAt is the earliest due time among jobs without a live lease', withStore(async (store, wall) => {
        assert.equal(await store.nextDueAt(), undefined);
        await store.commit({ jobs: [job('future', T0 + 60_000), job('past', T0 - 1000), job('now', T0)] });
        assert.equal(await store.nextDueAt(), T0 - 1000, 'jobs already due count');

        const [past] = await claim(store, { owner: 'w', dueBy: T0 - 1000, leaseMs: 30_000 });
        assert.equal(past && nameOf(past), 'past');
        wall.now = REAL0 + 1;
        assert.equal(await store.nextDueAt(), T0, 'a live-leased job is ignored');
        wall.now = REAL0 + 30_001;
        assert.equal(await store.nextDueAt(), T0 - 1000, 'an expired lease counts again');

        wall.now = REAL0;
        await claim(store, { owner: 'w', dueBy: T0, leaseMs: 30_000 });
        wall.now = REAL0 + 1;
        assert.equal(await store.nextDueAt(), T0 + 60_000, 'a future job counts');
        await claim(store, { owner: 'w', dueBy: T0 + 60_000, leaseMs: 30_000 });
        assert.equal(await store.nextDueAt(), undefined);
      }));

      test('recoverAtStart frees what a dead predecessor held where one server owns the database; leaves live neighbours alone where nodes share it', withStore(async (store, wall) => {
        await store.commit({ jobs: [job('a', T0), job('b', T0), job('c', T0 + 60_000)] });
        const held = await claim(store, { owner: 'dead-process', dueBy: T0, leaseMs: 60_000 });
        assert.equal(held.length, 2);
        assert.equal(await store.nextDueAt(), T0 + 60_000, 'both leases are live before');
        await store.recoverAtStart();
        if (store.sharedByNodes) {
          assert.equal(await store.nextDueAt(), T0 + 60_000, 'the leases may be a live node\'s: untouched');
          assert.equal((await claim(store, { owner: 'new-process', dueBy: T0 })).length, 0);
          wall.now = REAL0 + 60_001; // a dead node's leases are rescued once they expire
        } else {
          assert.equal(await store.nextDueAt(), T0);
        }
        const again = await claim(store, { owner: 'new-process', dueBy: T0 });
        assert.deepEqual(again.map(nameOf).sort(), ['a', 'b']);
        assert.ok(again.every((j) => j.attempts === 2));
        assert.equal(await store.commit({ complete: held[0]!.lease }), 'conflict');
        assert.equal(await store.countJobs(), 3);
      }));

      test('hasDueJob tells whether a job with a key is due by a time, leased or not', withStore(async (store) => {
        await store.commit({ jobs: [job('k-later', T0 + 10, 'k'), job('other', T0 - 100, 'other-key'), job('no-key', T0 - 100)] });
        assert.equal(await store.hasDueJob('k', T0), false);
        assert.equal(await store.hasDueJob('k', T0 + 9), false);
        assert.equal(await store.hasDueJob('k', T0 + 10), true, 'due exactly at dueBy counts');
        assert.equal(await store.hasDueJob('absent', T0 + 1_000_000), false);

        const [leased] = await claim(store, { owner: 'w', dueBy: T0 + 10 }).then((jobs) => jobs.filter((j) => nameOf(j) === 'k-later'));
        assert.ok(leased);
        assert.equal(await store.hasDueJob('k', T0 + 10), true, 'a running job still counts');
        await store.commit({ complete: leased.lease });
        assert.equal(await store.hasDueJob('k', T0 + 10), false);
      }));

      test('claims and nextDueAt skip jobs whose key is excluded; a claimed job carries its key', withStore(async (store) => {
        await store.commit({ jobs: [job('busy-1', T0 - 30, 'origin:busy'), job('busy-2', T0 - 20, 'origin:busy'), job('free', T0 - 10, 'origin:free'), job('no-key', T0)] });
        assert.equal(await store.nextDueAt({ excludeKeys: ['origin:busy'] }), T0 - 10);
        const claimed = await claim(store, { owner: 'w', excludeKeys: ['origin:busy'] });
        assert.deepEqual(claimed.map((j) => [nameOf(j), j.key]), [['free', 'origin:free'], ['no-key', undefined]]);
        const rest = await claim(store, { owner: 'w', excludeKeys: [] });
        assert.deepEqual(rest.map(nameOf), ['busy-1', 'busy-2']);
      }));

      test('claims and nextDueAt skip jobs whose tenant is excluded, whatever their key; a claimed job carries its tenant', withStore(async (store) => {
        const of = (tenant: string, name: string, dueAt: number, key: string) => ({ ...job(name, dueAt, key), tenant });
        await store.commit({ jobs: [of('noisy', 'noisy-a', T0 - 30, 'origin:a'), of('noisy', 'noisy-b', T0 - 20, 'origin:b'), of('calm', 'calm', T0 - 10, 'origin:a'), job('none', T0)] });
        assert.equal(await store.nextDueAt({ excludeTenants: ['noisy'] }), T0 - 10);
        const claimed = await claim(store, { owner: 'w', excludeTenants: ['noisy'] });
        assert.deepEqual(claimed.map((j) => [nameOf(j), j.tenant]), [['calm', 'calm'], ['none', undefined]]);
        const rest = await claim(store, { owner: 'w', excludeKeys: ['origin:b'], excludeTenants: [] });
        assert.deepEqual(rest.map(nameOf), ['noisy-a'], 'both filters apply together');
      }));

      test('countJobs counts leased and unleased jobs', withStore(async (store) => {
        assert.equal(await store.countJobs(), 0);
        await store.commit({ jobs: [job('a', T0), job('b', T0 + 1)] });
        await claim(store, { owner: 'w', limit: 1 });
        assert.equal(await store.countJobs(), 2);
      }));
    });

    describe('webhooks', () => {
      test('a webhook is stored as given; the store adds no job of its own', withStore(async (store) => {
        const w = webhook('w-1', { messageUuid: 'm-1', applicationId: 'app-1', createdAt: T0 + 500 });
        assert.equal(await store.commit({ webhooks: [w] }), 'committed');
        assert.deepEqual(plain(await store.findWebhook('w-1')), plain(w));
        assert.equal(await store.findWebhook('w-unknown'), undefined);
        assert.equal(await store.countJobs(), 0, 'which jobs exist is the engine\'s decision');
      }));

      test('updates and attempts are recorded and listed', withStore(async (store) => {
        await store.commit({ webhooks: [webhook('w-1'), webhook('w-2')] });
        assert.equal(
          await store.commit({
            webhookUpdates: [{ id: 'w-1', state: 'pending', attempts: 1, lastAttemptAt: T0 + 1 }],
            webhookAttempts: [attempt('w-1', 1, { statusCode: 503, outcome: 'retry', durationMs: 12 })],
          }),
          'committed',
        );
        let found = await store.findWebhook('w-1');
        assert.equal(found?.state, 'pending');
        assert.equal(found?.attempts, 1);
        assert.equal(found?.lastAttemptAt, T0 + 1);
        assert.equal(found?.completedAt, undefined);

        await store.commit({
          webhookUpdates: [{ id: 'w-1', state: 'delivered', attempts: 3, lastAttemptAt: T0 + 3, completedAt: T0 + 3 }],
          // Out of order on purpose: the list is ordered by attempt number.
          webhookAttempts: [attempt('w-1', 3, { statusCode: 200, outcome: 'delivered' }), attempt('w-1', 2, { error: 'ETIMEDOUT', outcome: 'retry' })],
        });
        found = await store.findWebhook('w-1');
        assert.deepEqual([found?.state, found?.attempts, found?.lastAttemptAt, found?.completedAt], ['delivered', 3, T0 + 3, T0 + 3]);

        const attempts = await store.listWebhookAttempts('w-1');
        assert.deepEqual(attempts.map((a) => a.attempt), [1, 2, 3]);
        assert.deepEqual(
          plain(attempts),
          plain([
            attempt('w-1', 1, { statusCode: 503, outcome: 'retry', durationMs: 12 }),
            attempt('w-1', 2, { error: 'ETIMEDOUT', outcome: 'retry' }),
            attempt('w-1', 3, { statusCode: 200, outcome: 'delivered' }),
          ]),
        );
        assert.equal(attempts[1]?.statusCode, undefined);
        assert.deepEqual(await store.listWebhookAttempts('w-2'), []);
        assert.equal((await store.findWebhook('w-2'))?.state, 'pending', 'the other webhook is untouched');
      }));

      test("a message's webhooks are listed oldest first", withStore(async (store) => {
        await store.commit({ webhooks: [webhook('w-late', { messageUuid: 'm-1', createdAt: T0 + 20 }), webhook('w-other', { messageUuid: 'm-2' })] });
        await store.commit({ webhooks: [webhook('w-early', { messageUuid: 'm-1', createdAt: T0 + 10 })] });
        await store.commit({ webhooks: [webhook('w-early-2', { messageUuid: 'm-1', createdAt: T0 + 10 }), webhook('w-loose')] });
        assert.deepEqual((await store.listWebhooksForMessage('m-1')).map((w) => w.id), ['w-early', 'w-early-2', 'w-late']);
        assert.deepEqual((await store.listWebhooksForMessage('m-2')).map((w) => w.id), ['w-other']);
        assert.deepEqual(await store.listWebhooksForMessage('m-none'), []);
      }));
    });

    describe('retention', () => {
      // Ids as the engine makes them: time-ordered by the record's own time.
      const id = (at: number, n: number) => timeOrderedUuid(at, `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`);
      const OLD = T0 - 1000;
      const NEW = T0 + 1000;

      test('deletes what finished before the cut, with what hangs off it, and keeps the rest', withStore(async (store) => {
        const ended = { ...dispatchState(), status: 'completed' as const };
        const [oldDone, oldRunning, newDone] = [id(OLD, 1), id(OLD, 2), id(NEW, 3)];
        const [stepA, stepB, runningStep, newStep] = [id(OLD, 11), id(OLD, 12), id(OLD, 13), id(NEW, 14)];
        const [oldSent, oldQueued, newSent] = [id(OLD, 21), id(OLD, 22), id(NEW, 23)];
        const [oldHook, oldPending, newHook] = [id(OLD, 31), id(OLD, 32), id(NEW, 33)];
        await store.commit({
          dispatches: [dispatch(oldDone, { state: ended, createdAt: OLD }), dispatch(oldRunning, { createdAt: OLD }), dispatch(newDone, { state: ended, createdAt: NEW })],
          messages: [
            message(stepA, { dispatchUuid: oldDone, stepIndex: 0, status: 'delivered', createdAt: OLD }),
            message(stepB, { dispatchUuid: oldDone, stepIndex: 1, status: 'delivered', createdAt: OLD }),
            message(runningStep, { dispatchUuid: oldRunning, stepIndex: 0, status: 'submitted', createdAt: OLD }),
            message(newStep, { dispatchUuid: newDone, stepIndex: 0, status: 'read', createdAt: NEW }),
            message(oldSent, { status: 'delivered', createdAt: OLD }),
            message(oldQueued, { status: 'queued', createdAt: OLD }),
            message(newSent, { status: 'delivered', createdAt: NEW }),
          ],
          events: [event(stepA, 'submitted', OLD), event(oldSent, 'delivered', OLD), event(runningStep, 'submitted', OLD)],
          sendAttempts: [sendAttempt(stepB, 1, { outcome: 'submitted' }), sendAttempt(oldSent, 1, { outcome: 'submitted' })],
          messageParts: [{ provider: 'smsc', partRef: 'part-old', messageUuid: oldSent, index: 0, status: 'delivered', at: OLD }],
          webhooks: [
            webhook(oldHook, { state: 'delivered', createdAt: OLD, messageUuid: oldSent }),
            webhook(oldPending, { state: 'pending', createdAt: OLD }),
            webhook(newHook, { state: 'failed', createdAt: NEW }),
          ],
          webhookAttempts: [attempt(oldHook, 1, { outcome: 'delivered' }), attempt(newHook, 1, { outcome: 'failed' })],
        });

        assert.equal(await store.deleteFinished(T0, 100), 1, 'one of each kind');
        assert.equal(await store.findDispatch(oldDone), undefined);
        assert.deepEqual(await store.listDispatchMessages(oldDone), []);
        for (const gone of [stepA, stepB, oldSent]) {
          assert.equal(await store.findMessage(gone), undefined, gone);
          assert.deepEqual(await store.listMessageEvents(gone), []);
          assert.deepEqual(await store.listSendAttempts(gone), []);
        }
        assert.deepEqual(await store.listMessageParts(oldSent), []);
        assert.equal(await store.findMessagePart('smsc', 'part-old'), undefined);
        assert.equal(await store.findWebhook(oldHook), undefined);
        assert.deepEqual(await store.listWebhookAttempts(oldHook), []);

        assert.ok(await store.findDispatch(oldRunning), 'a running dispatch is kept, however old');
        assert.equal((await store.listMessageEvents(runningStep)).length, 1);
        assert.ok(await store.findDispatch(newDone), 'a newer one is kept');
        assert.ok(await store.findMessage(newStep));
        assert.ok(await store.findMessage(oldQueued), 'a message still queued is kept');
        assert.ok(await store.findMessage(newSent));
        assert.ok(await store.findWebhook(oldPending), 'a webhook still being delivered is kept');
        assert.equal((await store.listWebhookAttempts(newHook)).length, 1);
        assert.equal(await store.deleteFinished(T0, 100), 0, 'nothing more is due');
      }));

      test('deletes in batches of the limit', withStore(async (store) => {
        await store.commit({ messages: [1, 2, 3].map((n) => message(id(OLD, n), { status: 'delivered', createdAt: OLD })) });
        assert.deepEqual([await store.deleteFinished(T0, 2), await store.deleteFinished(T0, 2), await store.deleteFinished(T0, 2)], [2, 1, 0]);
      }));

      test('an id of an older scheme (random) is judged by its creation time', withStore(async (store) => {
        await store.commit({ messages: [message('00000000-0000-4000-8000-000000000001', { status: 'delivered', createdAt: NEW })] });
        assert.equal(await store.deleteFinished(T0, 10), 0);
        assert.ok(await store.findMessage('00000000-0000-4000-8000-000000000001'));
      }));
    });

    describe('runAddedJobs', () => {
      test('a job a runner takes is written leased to it and handed over once its change commits; the rest wait for a claim', withStore(async (store) => {
        const runner = new RecordingRunner((job) => nameOf(job) === 'take');
        store.runAddedJobs(runner);
        const heard: string[][] = [];
        store.onJobsAdded((added) => heard.push((added.jobs ?? []).map((one) => String((one as { payload?: { name?: unknown } }).payload?.name))));
        const committing = store.commit({ jobs: [job('take', T0), job('leave', T0)] });
        assert.equal(runner.ran.length, 0, 'not before the commit');
        assert.equal(await committing, 'committed');
        assert.deepEqual(runner.reserved, ['take']);
        assert.equal(runner.ran.length, 1);
        const [taken] = runner.ran;
        assert.deepEqual(taken!.payload, { name: 'take' });
        assert.equal(taken!.dueAt, T0);
        assert.equal(taken!.attempts, 1, 'taken counts as its first claim');
        assert.deepEqual(taken!.lease, { jobId: taken!.id, owner: 'runner/1' });
        assert.deepEqual(heard, [['leave']], 'nobody is told of a job that runs already');
        assert.deepEqual((await claim(store, { owner: 'w' })).map(nameOf), ['leave'], 'a taken job is leased in its row');
        assert.equal(await store.commit({ complete: taken!.lease }), 'committed', 'its lease is the one written');
        assert.equal(await store.countJobs(), 1);
      }));

      test('a taken job whose lease runs out is claimed again, and the old lease no longer holds', withStore(async (store, wall) => {
        const runner = new RecordingRunner(() => true);
        store.runAddedJobs(runner);
        await store.commit({ jobs: [job('crashes', T0)] });
        assert.deepEqual(await claim(store, { owner: 'w' }), []);
        wall.now += runner.leaseMs + 1;
        const [again] = await claim(store, { owner: 'rescuer' });
        assert.equal(again && nameOf(again), 'crashes');
        assert.equal(again!.id, runner.ran[0]!.id);
        assert.equal(again!.attempts, 2);
        assert.equal(await store.commit({ complete: runner.ran[0]!.lease }), 'conflict');
      }));

      test('a change that conflicts or fails writes no job and cancels what its runner took', withStore(async (store) => {
        const runner = new RecordingRunner(() => true);
        store.runAddedJobs(runner);
        assert.equal(await store.commit({ jobs: [job('conflicts', T0)], inboxExpired: ['no such receipt'] }), 'conflict');
        await store.commit({ webhooks: [webhook('w-0')] });
        await assert.rejects(store.commit({ jobs: [job('fails', T0)], webhooks: [webhook('w-0')] }));
        assert.deepEqual(runner.reserved, ['conflicts', 'fails']);
        assert.deepEqual(runner.cancelled, ['conflicts', 'fails']);
        assert.equal(runner.ran.length, 0);
        assert.equal(await store.countJobs(), 0);
      }));

      test('change sets committed together: each committed one hands over its taken jobs, a conflicting one cancels its own', withStore(async (store) => {
        await store.commit({ messages: [message('m-1'), message('m-2'), message('m-3')] });
        const runner = new RecordingRunner(() => true);
        store.runAddedJobs(runner);
        const results = await Promise.all([
          store.commit({ messageUpdates: [update('m-1', 1, 'submitted', ['submitted'])], jobs: [job('first', T0), job('first-b', T0)] }),
          store.commit({ messageUpdates: [update('m-2', 5, 'submitted', ['submitted'])], jobs: [job('stale', T0)] }),
          store.commit({ messageUpdates: [update('m-3', 1, 'submitted', ['submitted'])], jobs: [job('third', T0)] }),
        ]);
        assert.deepEqual(results, ['committed', 'conflict', 'committed']);
        assert.deepEqual(runner.ran.map(nameOf).sort(), ['first', 'first-b', 'third']);
        assert.equal(new Set(runner.ran.map((one) => one.id)).size, 3, 'each its own row');
        // An adapter may find the conflict before it offers the job, or after.
        assert.deepEqual(runner.cancelled, runner.reserved.filter((name) => name === 'stale'), 'a job offered and not committed is cancelled');
        for (const taken of runner.ran) assert.equal(await store.commit({ complete: taken.lease }), 'committed', `${nameOf(taken)} holds the lease of its own row`);
        assert.equal(await store.countJobs(), 0);
      }));

      test('a job goes to the first runner that takes it', withStore(async (store) => {
        const sends = new RecordingRunner((job) => job.lane === 'sends', 'sends');
        const webhooks = new RecordingRunner((job) => job.lane === 'webhooks', 'webhooks');
        store.runAddedJobs(sends);
        store.runAddedJobs(webhooks);
        await store.commit({ jobs: [{ ...job('hook', T0), lane: 'webhooks' }, { ...job('send', T0), lane: 'sends' }, { ...job('timer', T0), lane: 'engine' }] });
        assert.deepEqual([sends.ran.map(nameOf), webhooks.ran.map(nameOf)], [['send'], ['hook']]);
        assert.deepEqual((await claim(store, { owner: 'w' })).map(nameOf), ['timer']);
      }));
    });

    describe('onJobsAdded', () => {
      test('is told the earliest due time after a commit that adds jobs, a reschedule or a release', withStore(async (store) => {
        const heard: Array<{ dueAt: number; jobsVisible: Promise<number> }> = [];
        store.onJobsAdded(({ earliestDueAt: dueAt }) => heard.push({ dueAt, jobsVisible: store.countJobs() }));

        await store.commit({ jobs: [job('b', T0 + 20), job('a', T0 + 10), job('c', T0 + 30)] });
        assert.deepEqual(heard.map((h) => h.dueAt), [T0 + 10]);
        assert.equal(await heard[0]!.jobsVisible, 3, 'the listener runs after the jobs are committed');

        await store.commit({ webhooks: [webhook('w-2', { createdAt: T0 + 50 })], jobs: [job('d', T0 + 40)] });
        assert.equal(heard.at(-1)?.dueAt, T0 + 40);

        const [claimed] = await claim(store, { owner: 'w', dueBy: T0 + 10 });
        assert.ok(claimed);
        await store.commit({ reschedule: { lease: claimed.lease, dueAt: T0 + 7 } });
        assert.equal(heard.length, 3);
        assert.equal(heard.at(-1)?.dueAt, T0 + 7);
      }));

      test('is not told after a commit without new jobs, nor after a conflict', withStore(async (store) => {
        const heard: number[] = [];
        store.onJobsAdded(({ earliestDueAt }) => heard.push(earliestDueAt));
        await store.commit({ messages: [message('m-1')], events: [event('m-1', 'submitted', T0)], cancelJobKeys: ['k'], webhooks: [webhook('w-0')] });
        assert.deepEqual(heard, []);

        await store.commit({ jobs: [job('a', T0)] });
        heard.length = 0;
        const [claimed] = await claim(store, { owner: 'w' });
        assert.ok(claimed);
        await store.commit({ complete: claimed.lease });
        assert.deepEqual(heard, [], 'completing a job adds none');

        assert.equal(await store.commit({ jobs: [job('b', T0)], messageUpdates: [update('m-1', 9, 'read', ['read'])] }), 'conflict');
        assert.equal(await store.commit({ jobs: [job('c', T0)], complete: claimed.lease }), 'conflict');
        assert.equal(await store.commit({ reschedule: { lease: claimed.lease, dueAt: T0 } }), 'conflict');
        assert.deepEqual(heard, []);
      }));

      test('is told the lanes of the jobs added; a reschedule adds none', withStore(async (store) => {
        const heard: string[][] = [];
        store.onJobsAdded(({ lanes }) => heard.push([...lanes].sort()));
        await store.commit({ jobs: [{ ...job('a', T0), lane: 'sends' }, { ...job('b', T0), lane: 'webhooks' }, { ...job('c', T0), lane: 'sends' }, job('no-lane', T0)] });
        const [claimed] = await claim(store, { owner: 'w', lanes: ['sends'] });
        assert.ok(claimed);
        await store.commit({ reschedule: { lease: claimed.lease, dueAt: T0 + 5 } });
        assert.deepEqual(heard, [['sends', 'webhooks'], []]);
      }));

      test('every listener is told', withStore(async (store) => {
        const first: number[] = [];
        const second: number[] = [];
        store.onJobsAdded(({ earliestDueAt }) => first.push(earliestDueAt));
        store.onJobsAdded(({ earliestDueAt }) => second.push(earliestDueAt));
        await store.commit({ jobs: [job('a', T0)] });
        assert.deepEqual([first, second], [[T0], [T0]]);
      }));
    });

    test('an empty change set commits', withStore(async (store) => {
      assert.equal(await store.commit({}), 'committed');
    }));

    test('change sets committed together are isolated: one that conflicts leaves the others written', withStore(async (store) => {
      await store.commit({ messages: [message('m-1'), message('m-2'), message('m-3')] });
      // Issued in one turn of the event loop, as concurrent requests are (an adapter may write them in one transaction).
      const results = await Promise.all([
        store.commit({ messageUpdates: [update('m-1', 1, 'submitted', ['submitted'])], jobs: [job('first', T0)] }),
        store.commit({ messageUpdates: [update('m-2', 5, 'submitted', ['submitted'])], jobs: [job('stale', T0)], events: [event('m-2', 'submitted', T0)] }),
        store.commit({ messageUpdates: [update('m-3', 1, 'submitted', ['submitted'])], jobs: [job('third', T0)] }),
      ]);
      assert.deepEqual(results, ['committed', 'conflict', 'committed']);
      assert.deepEqual(
        await Promise.all(['m-1', 'm-2', 'm-3'].map(async (uuid) => (await store.findMessage(uuid))?.status)),
        ['submitted', 'queued', 'submitted'],
      );
      assert.deepEqual(await store.listMessageEvents('m-2'), []);
      assert.deepEqual((await claim(store, { owner: 'w' })).map(nameOf).sort(), ['first', 'third']);
    }));

    test('change sets committed together that finish one leased job: one finishes it, the others conflict', withStore(async (store) => {
      await store.commit({ jobs: [job('once', T0)] });
      const [claimed] = await claim(store, { owner: 'w' });
      const results = await Promise.all([
        store.commit({ complete: claimed!.lease, messages: [message('m-1')] }),
        store.commit({ complete: claimed!.lease, messages: [message('m-2')] }),
        store.commit({ reschedule: { lease: claimed!.lease, dueAt: T0 + 5 }, messages: [message('m-3')] }),
        store.commit({ messages: [message('m-4')] }),
      ]);
      assert.equal(results.filter((result) => result === 'committed').length, 2, JSON.stringify(results));
      assert.equal(results[3], 'committed', 'a change set that touches no lease is written whatever the others do');
      const written = await Promise.all(['m-1', 'm-2', 'm-3'].map((uuid) => store.findMessage(uuid)));
      assert.equal(written.filter(Boolean).length, 1, 'only the winner’s message is written');
    }));

    test('change sets committed together: a write error fails its own change set only', withStore(async (store) => {
      await store.commit({ webhooks: [webhook('w-0')] });
      const results = await Promise.allSettled([
        store.commit({ messages: [message('m-1')] }),
        store.commit({ messages: [message('m-2')], webhooks: [webhook('w-0')] }),
        store.commit({ jobs: [job('a', T0)] }),
      ]);
      assert.deepEqual(results.map((result) => result.status), ['fulfilled', 'rejected', 'fulfilled']);
      assert.ok(await store.findMessage('m-1'));
      assert.equal(await store.findMessage('m-2'), undefined);
      assert.equal(await store.countJobs(), 1);
    }));

    test('change sets committed together, each cancelling the key the other adds: as if one after the other', withStore(async (store) => {
      await Promise.all([
        store.commit({ cancelJobKeys: ['key-1'], jobs: [job('two', T0, 'key-2')] }),
        store.commit({ cancelJobKeys: ['key-2'], jobs: [job('one', T0, 'key-1')] }),
      ]);
      // Whichever went first, the second cancelled the job the first added.
      assert.equal(await store.countJobs(), 1);
    }));

    test('racing updates of one message: exactly one wins, whatever else each carries', withStore(async (store) => {
      await store.commit({ messages: [message('m-1', { status: 'submitted', reported: ['submitted'], version: 1 })] });
      const racers = Array.from({ length: 10 }, (_, n) =>
        store.commit({ messageUpdates: [update('m-1', 1, 'read', ['submitted', 'read'])], events: [event('m-1', 'read', T0 + n)] }),
      );
      const results = await Promise.all(racers);
      assert.equal(results.filter((result) => result === 'committed').length, 1);
      assert.equal((await store.listMessageEvents('m-1')).length, 1);
      assert.equal((await store.findMessage('m-1'))?.version, 2);
    }));

    test('a write error rolls the whole change set back and is thrown, not reported as a conflict', withStore(async (store) => {
      await store.commit({ webhooks: [webhook('w-0')] });
      // The duplicate webhook id fails the insert after the other writes of the change set.
      await assert.rejects(store.commit({ jobs: [job('a', T0)], messages: [message('m-2')], webhooks: [webhook('w-1'), webhook('w-0')] }));
      assert.equal(await store.findMessage('m-2'), undefined);
      assert.equal(await store.findWebhook('w-1'), undefined);
      assert.equal(await store.countJobs(), 0);
    }));
  });
}

// Fixtures. T0 is the scheduling clock (possibly virtual), REAL0 the wall clock for leases;
// they are far apart on purpose so an adapter that mixes them up fails.

const T0 = 1_700_000_000_000;
const REAL0 = 1_800_000_000_000;

/** A JSON round trip: drops `undefined` fields so records compare by what they carry. */
function plain<T>(value: T): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

function account(apiKey: string, overrides: Partial<AccountRecord> = {}): AccountRecord {
  return { apiKey, secretHash: `hash-${apiKey}`, signatureSecret: `sig-${apiKey}`, createdAt: T0, ...overrides };
}

function application(id: string, apiKey: string, createdAt: number, overrides: Partial<ApplicationRecord> = {}): ApplicationRecord {
  return {
    id,
    apiKey,
    name: `name of ${id}`,
    publicKey: '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n',
    capabilities: { messages: { webhooks: { status_url: { address: 'https://example.test/status', http_method: 'POST' } } } },
    privacy: { improve_ai: false },
    createdAt,
    updatedAt: createdAt,
    ...overrides,
  };
}

/** An outbound SMS record, queued; also the fixture of other store tests (postgres-nodes.test.ts). */
export function message(uuid: string, overrides: Partial<MessageRecord> = {}): MessageRecord {
  return {
    uuid,
    apiKey: 'key-1',
    direction: 'outbound',
    channel: 'sms',
    to: { type: 'sms', number: '447700900001' },
    from: { type: 'sms', number: 'BIZ' },
    message: { content: { type: 'text', text: `text of ${uuid}` } },
    status: 'queued',
    reported: [],
    version: 1,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

function update(uuid: string, expectedVersion: number, status: MessageUpdate['status'], reported: MessageUpdate['reported'], extra: Partial<MessageUpdate> = {}): MessageUpdate {
  return { uuid, expectedVersion, status, reported, updatedAt: T0, ...extra };
}

function sendAttempt(messageUuid: string, n: number, overrides: Partial<SendAttemptRecord> = {}): SendAttemptRecord {
  return { messageUuid, attempt: n, provider: 'sandbox', at: T0 + n, outcome: 'failed', ...overrides };
}

function heldReceipt(id: string, provider: string, providerRef: string, overrides: Partial<InboxReceiptRecord> = {}): InboxReceiptRecord {
  return { id, provider, providerRef, status: 'delivered', at: T0, receivedAt: T0, ...overrides };
}

function event(messageUuid: string, status: MessageEventRecord['status'], at: number, extra: Partial<MessageEventRecord> = {}): MessageEventRecord {
  return { messageUuid, status, at, ...extra };
}

function dispatchState(): DispatchState {
  return {
    status: 'running',
    plan: [{ channel: 'messenger', condition: { status: 'read', expirySeconds: 600 } }, { channel: 'sms' }],
    current: 0,
    steps: [{ messageUuid: 'm-step-0', startedAt: T0, messageStatus: 'queued' }],
    lateReceipts: 0,
  };
}

function dispatch(uuid: string, overrides: Partial<DispatchRecord> = {}): DispatchRecord {
  return {
    uuid,
    apiKey: 'key-1',
    workflow: [
      {
        to: { type: 'messenger', id: 'PSID' },
        from: { type: 'messenger', id: 'PAGE' },
        message: { content: { type: 'text', text: 'first' } },
        failover: { expirySeconds: 600, conditionStatus: 'read' },
      },
      { to: { type: 'sms', number: '447700900001' }, from: { type: 'sms', number: 'BIZ' }, message: { content: { type: 'text', text: 'second' } } },
    ],
    state: dispatchState(),
    version: 1,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

/** A job whose payload names it, so tests can tell claimed jobs apart. */
function job(jobName: string, dueAt: number, key?: string) {
  return { kind: 'test.job', payload: { name: jobName }, dueAt, ...(key !== undefined && { key }) };
}

/** An engine's side of Store.runAddedJobs: takes the jobs `takes` picks and records what it is told. */
class RecordingRunner implements AddedJobRunner {
  readonly leaseMs = 30_000;
  readonly reserved: string[] = [];
  readonly ran: ClaimedJob[] = [];
  readonly cancelled: string[] = [];
  private reservations = 0;

  constructor(private readonly takes: (job: NewJob) => boolean, private readonly name = 'runner') {}

  reserve(job: NewJob): string | undefined {
    if (!this.takes(job)) return undefined;
    this.reserved.push(String((job.payload as { name?: unknown }).name));
    return `${this.name}/${++this.reservations}`;
  }

  runReserved(job: ClaimedJob): void {
    this.ran.push(job);
  }

  cancelReservation(job: NewJob): void {
    this.cancelled.push(String((job.payload as { name?: unknown }).name));
  }
}

function nameOf(job: Pick<ClaimedJob, 'payload'>): string {
  return String((job.payload as { name?: unknown }).name);
}

function claim(store: Store, request: { owner: string; dueBy?: number; leaseMs?: number; limit?: number; lanes?: string[]; excludeKeys?: string[]; excludeTenants?: string[] }): Promise<ClaimedJob[]> {
  return store.claimJobs({
    owner: request.owner,
    dueBy: request.dueBy ?? T0,
    leaseMs: request.leaseMs ?? 30_000,
    limit: request.limit ?? 10,
    lanes: request.lanes,
    excludeKeys: request.excludeKeys,
    excludeTenants: request.excludeTenants,
  });
}

function webhook(id: string, overrides: Partial<WebhookRecord> = {}): WebhookRecord {
  return {
    id,
    apiKey: 'key-1',
    kind: 'message-status',
    url: 'https://example.test/status',
    body: JSON.stringify({ message_uuid: overrides.messageUuid ?? null, status: 'delivered', note: 'exact bytes ✓' }),
    state: 'pending',
    attempts: 0,
    createdAt: T0,
    ...overrides,
  };
}

function attempt(webhookId: string, n: number, overrides: Partial<WebhookAttemptRecord> = {}): WebhookAttemptRecord {
  return { webhookId, attempt: n, at: T0 + n, durationMs: 5, outcome: 'retry', ...overrides };
}
