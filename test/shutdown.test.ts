/**
 * Graceful shutdown (issue #10): on SIGTERM the server stops claiming, lets the jobs in flight
 * finish and records them, closes its providers and exits 0; a second signal exits at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workspace } from './support/crash-workspace.js';

const sms = {
  to: { type: 'sms', number: '447700900123' },
  from: { type: 'sms', number: '447700900001' },
  message: { content: { type: 'text', text: 'shutting down' } },
};

async function sendMessage(url: string, auth: string): Promise<string> {
  const answer = await fetch(`${url}/v0.1/messages`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(sms) });
  assert.equal(answer.status, 202);
  return ((await answer.json()) as { message_uuid: string }).message_uuid;
}

test('SIGTERM lets a webhook in flight finish and records it, then exits 0; after a restart it is not sent again', { timeout: 60_000 }, async () => {
  const space = await workspace();
  const { receiver, account: { auth } } = space;
  try {
    // The first status webhook takes 2 s to be answered: it is in flight when the signal comes.
    let first = true;
    receiver.respondWith = () => (first ? ((first = false), { status: 200, afterMs: 2000 }) : 200);
    const server = await space.start();
    const uuid = await sendMessage(server.url, auth);
    const deadline = Date.now() + 10_000;
    while (first && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(first, false, 'the webhook reached the receiver');

    const signalledAt = Date.now();
    const stopped = await server.kill('SIGTERM');
    assert.equal(stopped.code, 0, server.stderr);
    assert.ok(Date.now() - signalledAt >= 1500, 'it waited for the webhook in flight');
    assert.equal(receiver.received.length, 1, 'the webhook was answered before the exit');

    const again = await space.start();
    const resource = (await (await fetch(`${again.url}/v0.1/messages/${uuid}`, { headers: { authorization: auth } })).json()) as { webhooks: Array<{ state: string; attempts: number }> };
    assert.deepEqual([resource.webhooks[0]?.state, resource.webhooks[0]?.attempts], ['delivered', 1], 'recorded as delivered on its one attempt');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(receiver.received.filter((webhook) => webhook.json.status === 'submitted').length, 1, 'not sent again after the restart');
  } finally {
    await space.dispose();
  }
});

test('a second signal exits at once, whatever is in flight', { timeout: 60_000 }, async () => {
  const space = await workspace();
  const { receiver, account: { auth } } = space;
  try {
    receiver.respondWith = () => 'hang';
    const server = await space.start();
    await sendMessage(server.url, auth);
    // The webhook hangs (for the whole webhook timeout): a graceful stop would wait for it.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    server.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const signalledAt = Date.now();
    const stopped = await server.kill('SIGTERM', 5000);
    assert.ok(Date.now() - signalledAt < 2000, `exited ${Date.now() - signalledAt} ms after the second signal`);
    assert.equal(stopped.code, 1);
    assert.match(server.stdout, /second signal/);
  } finally {
    await space.dispose();
  }
});
