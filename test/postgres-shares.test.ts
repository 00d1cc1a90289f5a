/**
 * Two nodes on one PostgreSQL schema keep to one webhook receiver's share together (issue #10:
 * per-node shares that add up to the limit). `webhooks.concurrency_per_origin` is 4; each node
 * takes its part, 2, once it knows of the other, so the receiver never has more than 4 webhooks
 * of the two open at once, and still gets every one.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson } from './support/api-client.js';
import { createTestSchema, type TestSchema } from './support/postgres-schema.js';
import { startTestServer, type TestServer } from './support/test-server.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

const PER_ORIGIN = 4;
const MESSAGES_PER_NODE = 12;
const ANSWER_AFTER_MS = 250;

let schema: TestSchema;
let receiver: WebhookReceiver;
const nodes: TestServer[] = [];
let open = 0;
let mostOpen = 0;

before(async () => {
  schema = await createTestSchema();
  receiver = await new WebhookReceiver().start();
  receiver.respondWith = () => {
    open += 1;
    mostOpen = Math.max(mostOpen, open);
    // Counted closed just before the answer leaves (this timer is set first).
    setTimeout(() => (open -= 1), ANSWER_AFTER_MS);
    return { status: 200, afterMs: ANSWER_AFTER_MS };
  };
  const configFile = { sandbox: { default_delivered_after: 0 }, webhooks: { concurrency_per_origin: PER_ORIGIN } };
  for (let n = 0; n < 2; n += 1) nodes.push(await startTestServer({ databaseUrl: schema.url, statusUrl: `${receiver.url}/status`, configFile }));
});

after(async () => {
  await Promise.all(nodes.map((node) => node.close()));
  await receiver?.close();
  await schema?.drop();
});

/** Resolves once every node has heard that `count` nodes share the database (each heartbeat, 1.5 s). */
async function nodesKnow(count: number): Promise<void> {
  await Promise.all(
    nodes.map(
      (node) =>
        new Promise<void>((resolve) => {
          node.store.onNodesChanged((liveNodes) => {
            if (liveNodes === count) resolve();
          });
        }),
    ),
  );
}

test(`two nodes keep to one receiver's concurrency_per_origin (${PER_ORIGIN}) together, and deliver every webhook`, { timeout: 60_000 }, async () => {
  await nodesKnow(2);
  const sends = nodes.flatMap((node, n) =>
    Array.from({ length: MESSAGES_PER_NODE }, (_, i) =>
      postJson(`${node.url}/v0.1/messages`, node.basicAuth, {
        to: { type: 'sms', number: `4477009${n}${String(i).padStart(4, '0')}` },
        from: { type: 'sms', number: '447700900001' },
        message: { content: { type: 'text', text: `message ${i}` } },
      }),
    ),
  );
  for (const { status } of await Promise.all(sends)) assert.equal(status, 202);
  // Each message: submitted and delivered.
  await receiver.waitFor(() => true, 2 * 2 * MESSAGES_PER_NODE, 50_000);
  assert.ok(mostOpen <= PER_ORIGIN, `at most ${PER_ORIGIN} open at once; saw ${mostOpen}`);
  assert.ok(mostOpen >= PER_ORIGIN / 2, `each node used its part (saw ${mostOpen} at most)`);
});
