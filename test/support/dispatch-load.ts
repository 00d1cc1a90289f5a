import assert from 'node:assert/strict';
import type { WebhookReceiver } from './webhook-receiver.js';

/**
 * A load of failover dispatches with mixed scripted sandbox outcomes, and the checks every one
 * must pass at its end: shared by the crash tests of one server (dispatch-crash.test.ts) and
 * of a cluster (cluster-kill.test.ts).
 */

/** Each outcome: how its recipients behave, and the final report it must end with. */
export const OUTCOMES = [
  { name: 'read in time', messenger: { delivered_after: 1, read_after: 2 }, sms: null, report: 'completed', messages: [['messenger', 'read']] },
  { name: 'not read', messenger: { delivered_after: 1 }, sms: { delivered_after: 1 }, report: 'completed', messages: [['messenger', 'delivered'], ['sms', 'delivered']] },
  { name: 'rejected', messenger: { reject: { code: 1020, reason: 'Invalid params' } }, sms: { delivered_after: 1 }, report: 'completed', messages: [['messenger', 'rejected'], ['sms', 'delivered']] },
  { name: 'all fail', messenger: { undeliverable_after: 1 }, sms: { undeliverable_after: 1 }, report: 'error', messages: [['messenger', 'undeliverable'], ['sms', 'undeliverable']] },
  { name: 'silent', messenger: { silent: true }, sms: { delivered_after: 0 }, report: 'completed', messages: [['messenger', 'submitted'], ['sms', 'delivered']] },
] as const;

const messengerId = (outcome: number) => `55500000${outcome}`;
const smsNumber = (outcome: number) => `4477009000${outcome}0`;

/** The tutorial's failover: Messenger, then an SMS unless it is read within `expirySeconds`. */
export function dispatchBody(outcome: number, expirySeconds: number) {
  return {
    template: 'failover',
    workflow: [
      {
        from: { type: 'messenger', id: '107083064136738' },
        to: { type: 'messenger', id: messengerId(outcome) },
        message: { content: { type: 'text', text: 'This is a Facebook Messenger Message sent via the Dispatch API' } },
        failover: { expiry_time: expirySeconds, condition_status: 'read' },
      },
      {
        from: { type: 'sms', number: '447700900000' },
        to: { type: 'sms', number: smsNumber(outcome) },
        message: { content: { type: 'text', text: 'This is an SMS sent via the Dispatch API' } },
      },
    ],
  };
}

/** Scripts the recipients of every outcome (through one server; the scripts live in the database). */
export async function scriptRecipients(url: string, auth: string): Promise<void> {
  for (const [index, outcome] of OUTCOMES.entries()) {
    for (const [channel, address, script] of [['messenger', messengerId(index), outcome.messenger], ['sms', smsNumber(index), outcome.sms]] as const) {
      if (!script) continue;
      const response = await fetch(`${url}/sandbox/recipients/${channel}/${address}`, { method: 'PUT', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(script) });
      assert.equal(response.status, 200);
    }
  }
}

/** Waits for a final report of every accepted dispatch; returns them (the last of each) and how many arrived more than once. */
export async function awaitFinalReports(
  receiver: WebhookReceiver,
  accepted: ReadonlyMap<string, number>,
  timeoutMs: number,
  /** What to say of a dispatch that has no report (its state, as the API shows it). */
  describe: (uuid: string) => Promise<string> = async () => '',
): Promise<{ reports: Map<string, Record<string, any>>; repeated: number }> {
  const reports = new Map<string, Record<string, any>>();
  const bodies = new Map<string, Set<string>>();
  let repeated = 0;
  const collect = () => {
    reports.clear();
    bodies.clear();
    repeated = 0;
    for (const webhook of receiver.received) {
      if (webhook.json.template !== 'failover') continue;
      const uuid = webhook.json.dispatch_uuid as string;
      if (reports.has(uuid)) repeated += 1;
      reports.set(uuid, webhook.json);
      bodies.set(uuid, (bodies.get(uuid) ?? new Set()).add(webhook.raw));
    }
    return [...accepted.keys()].filter((uuid) => reports.has(uuid)).length;
  };
  const deadline = Date.now() + timeoutMs;
  while (collect() < accepted.size && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
  const missing = [...accepted.keys()].filter((uuid) => !reports.has(uuid));
  if (missing.length > 0) assert.fail(`${missing.length} accepted dispatches have no final report, e.g. ${missing[0]}: ${await describe(missing[0]!)}`);
  // A report POSTed again (its delivery was in flight at a kill) is the same report: the same bytes.
  for (const [uuid, seen] of bodies) assert.equal(seen.size, 1, `dispatch ${uuid} got ${seen.size} different final reports`);
  return { reports, repeated };
}

/**
 * Each accepted dispatch ended as its outcome says: its status and each step's channel and
 * status. With `sendWindowMissed`, a first step whose send was held up past its window (it was in
 * flight on a node that died, and rescued only later) may instead have failed over as the
 * workflow says it must: rejected, then the SMS. Returns how many did; each is checked to be that.
 */
export async function assertOutcomes(
  accepted: ReadonlyMap<string, number>,
  reports: ReadonlyMap<string, Record<string, any>>,
  sendWindowMissed?: (messageUuid: string) => Promise<boolean>,
): Promise<number> {
  let missed = 0;
  for (const [uuid, outcomeIndex] of accepted) {
    const expected = OUTCOMES[outcomeIndex]!;
    const report = reports.get(uuid)!;
    const steps = report._links.messages.map((m: any) => [m.channel, m.status]);
    const first = report._links.messages[0];
    if (sendWindowMissed && first?.status === 'rejected' && expected.messages[0]![1] !== 'rejected' && (await sendWindowMissed(first.message_uuid))) {
      const sms = expected.sms !== null && 'undeliverable_after' in expected.sms ? 'undeliverable' : 'delivered';
      assert.deepEqual([report.status, steps], [sms === 'delivered' ? 'completed' : 'error', [['messenger', 'rejected'], ['sms', sms]]], `${expected.name}, window missed: ${JSON.stringify(report)}`);
      missed += 1;
      continue;
    }
    assert.equal(report.status, expected.report, `${expected.name}: ${JSON.stringify(report)}`);
    assert.deepEqual(steps, expected.messages, `${expected.name}: ${JSON.stringify(report)}`);
  }
  return missed;
}

/** Whether a message is a step its provider never accepted within the step's window (the code the workflow gives it), asked of a server. */
export function sendWindowMissedAt(url: string, auth: string): (messageUuid: string) => Promise<boolean> {
  return async (messageUuid) => {
    const message = (await (await fetch(`${url}/v0.1/messages/${messageUuid}`, { headers: { authorization: auth } })).json()) as { error?: { code: number } };
    return message.error?.code === 1100;
  };
}

/** Messages a handset got more than once (a try whose answer a kill lost, then its retry). */
export async function countResends(url: string, auth: string): Promise<number> {
  let resent = 0;
  for (const channel of ['messenger', 'sms']) {
    let page: string | undefined = `/sandbox/messages?channel=${channel}&limit=1000`;
    while (page) {
      const listing = await fetch(`${url}${page}`, { headers: { authorization: auth } });
      const { messages, _links } = (await listing.json()) as { messages: Array<{ times_received: number }>; _links?: { next: { href: string } } };
      resent += messages.reduce((sum, message) => sum + message.times_received - 1, 0);
      page = _links?.next.href;
    }
  }
  return resent;
}
