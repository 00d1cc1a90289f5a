import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { handsetStatus, type HandsetArrival, type SandboxState } from '../../src/channels/sandbox/sandbox-state.js';

/**
 * The behaviour every implementation of the sandbox's state port shows (SQLite, PostgreSQL).
 * Each test opens its own, empty state.
 */
export type OpenSandboxState = (now: number) => Promise<{ state: SandboxState; close(): Promise<void> }>;

const T0 = 1_700_000_000_000;

export function runSandboxStateConformance(name: string, open: OpenSandboxState): void {
  const withState = (fn: (state: SandboxState) => Promise<void>) => async () => {
    const opened = await open(T0);
    try {
      await fn(opened.state);
    } finally {
      await opened.close();
    }
  };

  describe(`Sandbox state conformance: ${name}`, () => {
    function arrival(providerRef: string, receivedAt: number, overrides: Partial<HandsetArrival> = {}): HandsetArrival {
      return {
        providerRef,
        messageUuid: `uuid-of-${providerRef}`,
        apiKey: 'key-1',
        channel: 'sms',
        to: { type: 'sms', number: '447700900001' },
        from: { type: 'sms', number: 'BIZ' },
        message: { content: { type: 'text', text: `text of ${providerRef}` } },
        receivedAt,
        timesReceived: 1,
        ...overrides,
      };
    }

    const page = { limit: 100, maxBytes: 1_000_000 };
    const refsOf = async (listing: Promise<{ items: Array<{ providerRef: string }> }>) => (await listing).items.map((item) => item.providerRef);

    test('recipient scripts are upserted per account, channel and address', withState(async (state) => {
      const key = (apiKey: string, channel: 'sms' | 'whatsapp', address: string) => ({ apiKey, channel, address });
      assert.equal(await state.findScript(key('key-1', 'sms', '447700900001')), undefined);
      await state.putScript(key('key-1', 'sms', '447700900001'), { delivered_after: 0.5, read_after: 2 }, T0);
      await state.putScript(key('key-1', 'whatsapp', '447700900001'), { silent: true }, T0);
      await state.putScript(key('key-2', 'sms', '447700900001'), { reject: { code: 1020, reason: 'Invalid params' } }, T0);
      assert.deepEqual(await state.findScript(key('key-1', 'sms', '447700900001')), { delivered_after: 0.5, read_after: 2 });
      await state.putScript(key('key-1', 'sms', '447700900001'), { undeliverable_after: 3 }, T0 + 1);
      assert.deepEqual(await state.findScript(key('key-1', 'sms', '447700900001')), { undeliverable_after: 3 });
      assert.deepEqual(await state.findScript(key('key-1', 'whatsapp', '447700900001')), { silent: true });
      assert.deepEqual(await state.findScript(key('key-2', 'sms', '447700900001')), { reject: { code: 1020, reason: 'Invalid params' } });
      assert.equal(await state.findScript(key('key-1', 'sms', '447700900002')), undefined);
    }));

    test('an arrival is recorded once per reference and found by its message, within its account only', withState(async (state) => {
      const first = arrival('ref-1', T0, { message: { content: { type: 'image', image: { url: 'https://example.test/a.png', caption: 'a' } } }, timesReceived: 2 });
      await state.recordArrival(first);
      await state.recordArrival({ ...first, receivedAt: T0 + 10, timesReceived: 7 });
      const found = await state.findHandsetMessage('key-1', 'uuid-of-ref-1');
      assert.deepEqual(found, { ...first, deliveredAt: undefined, readAt: undefined, undeliverableAt: undefined }, 'the repeated arrival (a re-run follow-up) changed nothing');
      assert.equal(await state.findHandsetMessage('key-2', 'uuid-of-ref-1'), undefined);
      assert.equal(await state.findHandsetMessage('key-1', 'uuid-unknown'), undefined);
    }));

    test('marks keep their first instant; reading implies delivery; a failed message is never read', withState(async (state) => {
      await state.recordArrival(arrival('ref-1', T0));
      await state.recordArrival(arrival('ref-2', T0));
      await state.recordArrival(arrival('ref-3', T0));
      const status = async (ref: string) => {
        const handset = await state.findHandsetMessage('key-1', `uuid-of-${ref}`);
        return handset && [handsetStatus(handset), handset.deliveredAt, handset.readAt, handset.undeliverableAt];
      };
      assert.deepEqual(await status('ref-1'), ['submitted', undefined, undefined, undefined]);
      await state.markDelivered('ref-1', T0 + 1);
      await state.markDelivered('ref-1', T0 + 2);
      assert.deepEqual(await status('ref-1'), ['delivered', T0 + 1, undefined, undefined]);
      await state.markRead('ref-1', T0 + 5);
      await state.markRead('ref-1', T0 + 6);
      assert.deepEqual(await status('ref-1'), ['read', T0 + 1, T0 + 5, undefined]);

      await state.markRead('ref-2', T0 + 3);
      assert.deepEqual(await status('ref-2'), ['read', T0 + 3, T0 + 3, undefined], 'read before any delivery: delivered then too');

      await state.markUndeliverable('ref-3', T0 + 4);
      await state.markRead('ref-3', T0 + 5);
      await state.markDelivered('ref-3', T0 + 5);
      assert.deepEqual(await status('ref-3'), ['undeliverable', undefined, undefined, T0 + 4]);
      await state.markUndeliverable('ref-1', T0 + 9);
      assert.deepEqual(await status('ref-1'), ['read', T0 + 1, T0 + 5, undefined], 'a read message does not fail afterwards');
      await state.markRead('ref-unknown', T0);
      assert.equal(await state.markUndeliverable('ref-not-arrived-yet', T0), true, 'a failure that came due before the arrival was recorded still counts');
      assert.equal(await state.markUndeliverable('ref-1', T0 + 10), false, 'a read message does not fail');
    }));

    test('handset messages are listed newest first, filtered by channel and recipient, limited', withState(async (state) => {
      for (const handset of [
        arrival('h-1', T0 + 1),
        arrival('h-3', T0 + 3),
        arrival('h-2', T0 + 2, { channel: 'whatsapp', to: { type: 'whatsapp', number: '447700900001' } }),
        arrival('h-fb', T0 + 4, { channel: 'messenger', to: { type: 'messenger', id: 'PSID-1' }, from: { type: 'messenger', id: 'PAGE' } }),
        arrival('h-other-to', T0 + 5, { to: { type: 'sms', number: '447700900002' } }),
        arrival('h-other-account', T0 + 6, { apiKey: 'key-2' }),
        // Same receivedAt as h-3 but recorded later: listed before it.
        arrival('h-3b', T0 + 3),
      ]) {
        await state.recordArrival(handset);
      }
      const list = (apiKey: string, filter: { channel?: 'sms' | 'whatsapp' | 'messenger'; to?: string }, limit = 100) => refsOf(state.listHandsetMessages(apiKey, filter, { ...page, limit }));
      assert.deepEqual(await list('key-1', {}), ['h-other-to', 'h-fb', 'h-3b', 'h-3', 'h-2', 'h-1']);
      assert.deepEqual(await list('key-1', {}, 2), ['h-other-to', 'h-fb']);
      assert.deepEqual(await list('key-1', { channel: 'sms' }), ['h-other-to', 'h-3b', 'h-3', 'h-1']);
      assert.deepEqual(await list('key-1', { to: '447700900001' }), ['h-3b', 'h-3', 'h-2', 'h-1']);
      assert.deepEqual(await list('key-1', { channel: 'sms', to: '447700900001' }, 2), ['h-3b', 'h-3']);
      assert.deepEqual(await list('key-1', { to: 'PSID-1' }), ['h-fb'], 'an id address filters like a number');
      assert.deepEqual(await list('key-2', {}), ['h-other-account']);
      assert.deepEqual(await list('key-3', {}), []);
    }));

    test('pages stop at the count or at the byte budget, and their cursors continue where they stopped', withState(async (state) => {
      const big = 'x'.repeat(1000);
      for (let n = 0; n < 7; n += 1) await state.recordArrival(arrival(`h-${n}`, T0 + n, { message: { content: { type: 'text', text: big } } }));
      const all: string[] = [];
      let after: string | undefined;
      const sizes: number[] = [];
      do {
        const result = await state.listHandsetMessages('key-1', {}, { limit: 100, maxBytes: 2500, ...(after !== undefined && { after }) });
        sizes.push(result.items.length);
        all.push(...result.items.map((item) => item.providerRef));
        after = result.next;
        if (after !== undefined) assert.ok(state.isCursor(after), after);
      } while (after !== undefined);
      assert.deepEqual(all, ['h-6', 'h-5', 'h-4', 'h-3', 'h-2', 'h-1', 'h-0']);
      assert.deepEqual(sizes, [2, 2, 2, 1], 'two bodies of ~1 kB fit 2.5 kB, a third does not');

      const tiny = await state.listHandsetMessages('key-1', {}, { limit: 100, maxBytes: 10 });
      assert.deepEqual(tiny.items.map((item) => item.providerRef), ['h-6'], 'at least one message, however large');
      const counted = await state.listHandsetMessages('key-1', {}, { limit: 3, maxBytes: 1_000_000 });
      assert.equal(counted.items.length, 3);
      assert.ok(counted.next);
      const rest = await state.listHandsetMessages('key-1', {}, { limit: 100, maxBytes: 1_000_000, after: counted.next });
      assert.deepEqual(rest.items.map((item) => item.providerRef), ['h-3', 'h-2', 'h-1', 'h-0']);
      assert.equal(rest.next, undefined, 'the last page has no next');
    }));
  });
}
