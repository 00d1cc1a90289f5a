/**
 * Issue #10: "Three nodes on one PostgreSQL, each on its own port, a load of at least 2 000
 * dispatches with mixed scripted sandbox outcomes spread over all three; SIGKILL one node
 * mid-run and restart it, twice: every accepted dispatch reaches exactly one final report with
 * the right status, no step is skipped, duplicate sends are counted and limited to what was in
 * flight on the killed node."
 *
 * Receipts, timers and webhooks of a dispatch accepted by one node are run by whichever node
 * claims them; the killed node's leases are rescued by the others once its heartbeat is stale.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workspace } from './support/crash-workspace.js';
import { assertOutcomes, awaitFinalReports, countResends, dispatchBody, OUTCOMES, scriptRecipients, sendWindowMissedAt } from './support/dispatch-load.js';
import type { ServerProcess } from './support/server-process.js';

const DISPATCHES = Number(process.env.CLUSTER_DISPATCHES ?? 2000);
const NODES = 3;
const KILLS = 2;
const EXPIRY = 15;
/** Sends running at once in one node (config sends.concurrency): what a kill can leave unanswered. */
const SENDS_CONCURRENCY = 64;
/** Webhook POSTs at once in one node (config webhooks.concurrency): what a kill can leave unrecorded. */
const WEBHOOKS_CONCURRENCY = 128;
/** Requests the test keeps in flight, spread over the nodes. */
const SENDERS = 24;

test(`${NODES} nodes on one PostgreSQL: ${DISPATCHES} dispatches survive ${KILLS} SIGKILLs of one node`, { timeout: 300_000 }, async () => {
  const space = await workspace({ database: 'postgres' });
  const { receiver, account: { auth } } = space;
  try {
    const nodes: ServerProcess[] = [];
    for (let n = 0; n < NODES; n += 1) nodes.push(await space.start());
    assert.equal(new Set(nodes.map((node) => node.url)).size, NODES, 'each node on its own port');
    await scriptRecipients(nodes[0]!.url, auth);

    const accepted = new Map<string, number>(); // dispatch uuid → outcome index
    const acceptedBy = new Array<number>(NODES).fill(0);
    let next = 0;
    let cutOff = 0;
    const KILLED = 1;
    let killedDown = false;
    const sendOne = async (): Promise<void> => {
      const index = next++;
      const outcome = index % OUTCOMES.length;
      // Round robin over the nodes; the killed node's share goes to the others while it is down.
      let target = index % NODES;
      if (target === KILLED && killedDown) target = (target + 1) % NODES;
      try {
        const response = await fetch(`${nodes[target]!.url}/v0.1/dispatch`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(dispatchBody(outcome, EXPIRY)) });
        const body = (await response.json()) as { dispatch_uuid?: string };
        assert.equal(response.status, 202, JSON.stringify(body));
        accepted.set(body.dispatch_uuid!, outcome);
        acceptedBy[target]! += 1;
      } catch (error) {
        if (error instanceof assert.AssertionError) throw error;
        cutOff += 1; // the request was in flight on the node that was killed
      }
    };
    const killAndRestart = async () => {
      killedDown = true;
      await nodes[KILLED]!.kill('SIGKILL');
      // Down for a moment while the others carry the load (and, after its heartbeat goes stale, its leases).
      await new Promise((resolve) => setTimeout(resolve, 1000));
      nodes[KILLED] = await space.start();
      killedDown = false;
    };
    const senders = Array.from({ length: SENDERS }, async () => {
      while (next < DISPATCHES) await sendOne();
    });
    // The first kill lands while requests are in flight, the second while the dispatches wait on their timers.
    while (next < DISPATCHES * 0.5) await new Promise((resolve) => setTimeout(resolve, 5));
    await killAndRestart();
    await Promise.all(senders);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await killAndRestart();

    const describe = async (uuid: string) => {
      const dispatch = await (await fetch(`${nodes[0]!.url}/v0.1/dispatch/${uuid}`, { headers: { authorization: auth } })).text();
      const webhooks = receiver.received.filter((webhook) => webhook.raw.includes(uuid)).map((webhook) => webhook.raw);
      return `${dispatch}; webhooks: ${webhooks.join(' | ')}`;
    };
    const { reports, repeated } = await awaitFinalReports(receiver, accepted, 120_000, describe);
    const missedWindows = await assertOutcomes(accepted, reports, sendWindowMissedAt(nodes[0]!.url, auth));
    const resent = await countResends(nodes[0]!.url, auth);
    const unacknowledged = [...reports.keys()].filter((uuid) => !accepted.has(uuid)).length;
    console.log(
      `accepted ${accepted.size} of ${DISPATCHES} (per node ${acceptedBy.join(' / ')}; cut off by kills: ${cutOff}, of them committed anyway: ${unacknowledged}); ` +
        `messages sent twice: ${resent}; final reports delivered twice: ${repeated}; first steps whose send was held past its window by a kill: ${missedWindows}`,
    );
    assert.ok(acceptedBy.every((count) => count > DISPATCHES / (4 * NODES)), `the load was spread over every node (${acceptedBy.join(' / ')})`);
    assert.ok(cutOff <= SENDERS, `${cutOff} requests cut off by the kill while sending; at most ${SENDERS} were in flight`);
    assert.ok(unacknowledged <= cutOff, `${unacknowledged} dispatches ran that no 202 acknowledged, more than the ${cutOff} requests cut off`);
    assert.ok(missedWindows <= KILLS * SENDS_CONCURRENCY, `${missedWindows} sends held past their window, more than were in flight on the killed node`);
    assert.ok(resent <= KILLS * SENDS_CONCURRENCY, `${resent} resends for ${KILLS} kills of a node running at most ${SENDS_CONCURRENCY} sends`);
    assert.ok(repeated <= KILLS * WEBHOOKS_CONCURRENCY, `${repeated} final reports POSTed again for ${KILLS} kills of a node POSTing at most ${WEBHOOKS_CONCURRENCY} at once`);
  } finally {
    await space.dispose();
  }
});
