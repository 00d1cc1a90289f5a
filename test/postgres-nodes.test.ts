import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { WallClock } from '../src/core/clock.js';
import type { MessageRecord } from '../src/core/records.js';
import { createPostgresPool } from '../src/store/postgres/postgres-pool.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { migrations } from '../src/store/postgres/migrations/index.js';
import type { ClaimedJob } from '../src/core/records.js';
import { createTestSchema, type TestSchema } from './support/postgres-schema.js';
import { message as queuedMessage } from './support/store-conformance.js';

const message = (uuid: string, overrides: Partial<MessageRecord> = {}) => queuedMessage(uuid, { status: 'submitted', reported: ['submitted'], ...overrides });

/**
 * What only several nodes on one PostgreSQL database can get wrong: each "node" here is a store
 * with a pool of its own, as separate processes would have, on one shared schema.
 */

const T0 = 1_700_000_000_000;

class ManualWall implements WallClock {
  constructor(public now: number) {}
  wallNow(): number {
    return this.now;
  }
}

let schema: TestSchema;
const opened: PostgresStore[] = [];

async function node(options: { wall?: WallClock; leaseClock?: 'database' | WallClock } = {}): Promise<PostgresStore> {
  const store = await PostgresStore.open({ pool: createPostgresPool({ url: schema.url }, () => undefined), clock: options.wall ?? new ManualWall(T0), leaseClock: options.leaseClock });
  opened.push(store);
  return store;
}

async function query(text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: schema.url });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

/** Each test starts on a migrated, empty schema. */
async function emptyTables(): Promise<void> {
  await node();
  await query('TRUNCATE jobs, messages, message_events, receipt_inbox, accounts, nodes CASCADE');
}

const job = (name: string, dueAt = T0) => ({ kind: 'test.job', lane: 'engine', payload: { name }, dueAt });

describe('PostgreSQL: several nodes on one database', () => {
  before(async () => {
    schema = await createTestSchema();
  });
  // Each test's nodes stop with it (their heartbeats too).
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });
  after(async () => {
    await schema.drop();
  });

  test('nodes starting at once migrate the schema once, and each starts on the whole of it', async () => {
    const nodes = await Promise.all([node(), node(), node(), node()]);
    const applied = await query('SELECT version FROM schema_migrations ORDER BY version');
    assert.deepEqual(applied.rows.map((row) => row.version), migrations.map((migration) => migration.version));
    for (const store of nodes) assert.equal(await store.countJobs(), 0);
  });

  test('leases are taken on the database clock: nodes whose clocks disagree by hours agree on every lease', async () => {
    await emptyTables();
    const ahead = await node({ wall: new ManualWall(Date.UTC(2031, 0, 1)) });
    const behind = await node({ wall: new ManualWall(Date.UTC(2001, 0, 1)) });
    await ahead.commit({ jobs: [job('a')] });
    const [held] = await ahead.claimJobs({ owner: 'ahead', dueBy: T0, leaseMs: 30_000, limit: 10, lanes: ['engine'] });
    assert.ok(held);
    assert.deepEqual(await behind.claimJobs({ owner: 'behind', dueBy: T0, leaseMs: 30_000, limit: 10, lanes: ['engine'] }), [], 'the lease is live for the node whose clock is behind');
    assert.equal(await behind.nextDueAt({ lanes: ['engine'] }), undefined);
    const { rows } = await query('SELECT lease_expires_at - floor(extract(epoch FROM clock_timestamp()) * 1000) AS left_ms FROM jobs');
    assert.ok(rows[0].left_ms > 25_000 && rows[0].left_ms <= 30_000, `the lease ends 30 s after the database's now (${rows[0].left_ms} ms left)`);
  });

  test('nodes claiming side by side never take the same job, and together take every one', async () => {
    await emptyTables();
    const wall = new ManualWall(T0);
    const nodes = await Promise.all([node({ wall, leaseClock: wall }), node({ wall, leaseClock: wall }), node({ wall, leaseClock: wall })]);
    await nodes[0]!.commit({ jobs: Array.from({ length: 300 }, (_, n) => job(`j-${n}`)) });
    const claimedBy = new Map<string, string>();
    const worker = async (store: PostgresStore, owner: string) => {
      for (;;) {
        const batch: ClaimedJob[] = await store.claimJobs({ owner, dueBy: T0, leaseMs: 60_000, limit: 7, lanes: ['engine'] });
        if (batch.length === 0) return;
        for (const claimed of batch) {
          const name = (claimed.payload as { name: string }).name;
          assert.equal(claimedBy.get(name), undefined, `${name} claimed by ${claimedBy.get(name)} and ${owner}`);
          claimedBy.set(name, owner);
        }
      }
    };
    await Promise.all(nodes.flatMap((store, n) => [worker(store, `node-${n}/a`), worker(store, `node-${n}/b`)]));
    assert.equal(claimedBy.size, 300);
    assert.ok(new Set(claimedBy.values()).size > 1, 'the work was shared');
  });

  test('two nodes racing on one receipt: one transition wins, once', async () => {
    await emptyTables();
    const [a, b] = await Promise.all([node(), node()]);
    for (let round = 0; round < 20; round += 1) {
      const uuid = `m-${round}`;
      await a.commit({ messages: [message(uuid)] });
      const transition = (store: PostgresStore) =>
        store.commit({
          messageUpdates: [{ uuid, expectedVersion: 1, status: 'delivered', reported: ['submitted', 'delivered'], updatedAt: T0 + 1 }],
          events: [{ messageUuid: uuid, status: 'delivered', at: T0 + 1 }],
        });
      const outcomes = await Promise.all([transition(a), transition(b)]);
      assert.deepEqual(outcomes.sort(), ['committed', 'conflict'], `round ${round}`);
      assert.equal((await a.listMessageEvents(uuid)).filter((event) => event.status === 'delivered').length, 1);
    }
  });

  test('two nodes racing on one timer: the node whose lease expired cannot complete it after another claimed it', async () => {
    await emptyTables();
    const wall = new ManualWall(T0);
    const [a, b] = await Promise.all([node({ wall, leaseClock: wall }), node({ wall, leaseClock: wall })]);
    await a.commit({ jobs: [job('timer')] });
    const [first] = await a.claimJobs({ owner: 'a', dueBy: T0, leaseMs: 1000, limit: 1, lanes: ['engine'] });
    wall.now = T0 + 1001;
    const [second] = await b.claimJobs({ owner: 'b', dueBy: T0, leaseMs: 1000, limit: 1, lanes: ['engine'] });
    assert.ok(first && second);
    const outcomes = await Promise.all([a.commit({ complete: first.lease, jobs: [job('next-of-a')] }), b.commit({ complete: second.lease, jobs: [job('next-of-b')] })]);
    assert.deepEqual(outcomes, ['conflict', 'committed']);
    assert.equal(await a.countJobs(), 1, "only the winner's next job exists");
  });

  test('a receipt held by one node while another records its reference is never lost', async () => {
    await emptyTables();
    const [a, b] = await Promise.all([node(), node()]);
    for (let round = 0; round < 30; round += 1) {
      const uuid = `m-${round}`;
      const ref = `ref-${round}`;
      await a.commit({ messages: [message(uuid, { status: 'queued', reported: [], version: 1 })] });
      // Node a: the receipt finds no message with its reference yet, so it is held.
      const hold = a.commit({ inbox: [{ id: `r-${round}`, provider: 'smsc', providerRef: ref, status: 'delivered', at: T0, receivedAt: T0 }] });
      // Node b: the submit response records the reference, having seen no held receipt.
      const record = b.commit({
        messageUpdates: [{ uuid, expectedVersion: 1, status: 'submitted', reported: ['submitted'], provider: 'smsc', providerRef: ref, updatedAt: T0 }],
        inboxTaken: [{ provider: 'smsc', providerRef: ref, ids: [] }],
      });
      const outcomes = await Promise.all([hold, record]);
      assert.notDeepEqual(outcomes, ['committed', 'committed'], `round ${round}: both passed, the held receipt would never be applied`);
      assert.ok(outcomes.includes('committed'), `round ${round}: one of them goes through`);
    }
  });

  test("a dead node's leases are freed once its heartbeat is stale, by whichever node looks first; a live node's stay", async () => {
    await emptyTables();
    const [dead, alive] = await Promise.all([node(), node()]);
    // The dead node was a member (its heartbeat timer is not started here, so it cannot beat again).
    await query(`INSERT INTO nodes (id, started_at, seen_at) VALUES ('${dead.nodeId}', 0, floor(extract(epoch FROM clock_timestamp()) * 1000))`);
    await alive.recoverAtStart();
    await dead.commit({ jobs: [job('held-by-dead'), job('held-by-alive')] });
    await dead.claimJobs({ owner: 'dead/1', dueBy: T0, leaseMs: 60_000, limit: 1, lanes: ['engine'] });
    await alive.claimJobs({ owner: 'alive/1', dueBy: T0, leaseMs: 60_000, limit: 1, lanes: ['engine'] });
    // The dead node stops beating (SIGKILL): its last heartbeat ages past the timeout.
    await query(`UPDATE nodes SET seen_at = seen_at - 20000 WHERE id = '${dead.nodeId}'`);

    const woken: string[][] = [];
    const starting = await node();
    starting.onJobsAdded(({ lanes }) => woken.push([...lanes]));
    await starting.recoverAtStart();
    const freed = await starting.claimJobs({ owner: 'starting/1', dueBy: T0, leaseMs: 60_000, limit: 10, lanes: ['engine'] });
    assert.deepEqual(freed.map((claimed) => (claimed.payload as { name: string }).name), ['held-by-dead'], "only the dead node's lease was freed");
    assert.equal(freed[0]!.attempts, 2, 'the lost run counts as an attempt (a send knows it may have gone out)');
    assert.deepEqual(woken, [['engine']], 'the rescuing node looks for the freed work at once');
    const nodes = await query('SELECT id FROM nodes ORDER BY id');
    assert.deepEqual(nodes.rows.map((row) => row.id).sort(), [alive.nodeId, starting.nodeId].sort(), 'the dead node is gone from the table');
  });

  test('each node hears how many nodes share the database, so per-node shares of a limit add up to it', async () => {
    await emptyTables();
    const [a, b] = await Promise.all([node(), node()]);
    const heardByA: number[] = [];
    await a.recoverAtStart();
    a.onNodesChanged((n) => heardByA.push(n));
    assert.deepEqual(heardByA, [1], 'told at once what is known');
    const heardByB: number[] = [];
    b.onNodesChanged((n) => heardByB.push(n));
    await b.recoverAtStart();
    assert.deepEqual(heardByB, [2]);
    // A learns of B with its next heartbeat (every 1.5 s).
    const deadline = Date.now() + 10_000;
    while (heardByA.at(-1) !== 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(heardByA, [1, 2]);
  });

  test('nodes seeding an empty database at once create one first account', async () => {
    await emptyTables();
    const nodes = await Promise.all([node(), node(), node()]);
    const seeded = await Promise.all(
      nodes.map((store, n) => store.insertFirstAccount({ apiKey: `seed-${n}`, secretHash: 'h', signatureSecret: 's', createdAt: T0 })),
    );
    assert.equal(seeded.filter(Boolean).length, 1);
    assert.equal(await nodes[0]!.countAccounts(), 1);
  });
});
