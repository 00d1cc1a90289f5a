import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { MessageRecord } from '../core/records.js';
import { openSqliteDatabase } from '../store/sqlite/sqlite-database.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { VirtualClock } from './clock.js';
import { newId } from './ids.js';
import { RetentionSweeper } from './retention-sweeper.js';

const DAY = 86_400_000;
const T0 = 1_800_000_000_000;

function sent(at: number): MessageRecord {
  return {
    uuid: newId(at),
    apiKey: 'key-1',
    direction: 'outbound',
    channel: 'sms',
    to: { type: 'sms', number: '447700900001' },
    from: { type: 'sms', number: 'BIZ' },
    message: { content: { type: 'text', text: 'hello' } },
    status: 'delivered',
    reported: ['submitted', 'delivered'],
    version: 3,
    createdAt: at,
    updatedAt: at,
  };
}

test('a sweep deletes, batch after batch, what is older than the retention time, and nothing newer', async () => {
  const clock = new VirtualClock(T0);
  const store = new SqliteStore({ db: openSqliteDatabase({ path: ':memory:', synchronous: 'NORMAL' }), clock });
  const old = Array.from({ length: 1200 }, (_, n) => sent(T0 + n));
  const recent = Array.from({ length: 30 }, (_, n) => sent(T0 + 6 * DAY + n));
  await store.commit({ messages: [...old, ...recent] });
  const sweeper = new RetentionSweeper({ store, clock, log: pino({ level: 'silent' }), keepMs: 7 * DAY, batch: 500 });

  assert.equal(await sweeper.sweep(), 0, 'nothing is seven days old yet');
  clock.advance(7 * DAY + 5000);
  assert.equal(await sweeper.sweep(), 1200, 'three batches: 500, 500, 200');
  assert.equal(await store.findMessage(old[1199]!.uuid), undefined);
  for (const message of recent) assert.ok(await store.findMessage(message.uuid), 'a message six days old stays');
  await sweeper.stop();
  await store.close();
});
