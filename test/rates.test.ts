/**
 * `rate_per_second` (DESIGN §3): a provider's rate is never exceeded; messages beyond it wait
 * and are all sent, none refused. Real time: the fake SMSC stamps each submit as it arrives.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeSmsc } from './peers/fake-smsc.js';
import { getJson, postJson } from './support/api-client.js';
import { startTestServer, type TestServer } from './support/test-server.js';

const RATE = 20;
const MESSAGES = 30;

let smsc: FakeSmsc;
let server: TestServer;
before(async () => {
  smsc = await FakeSmsc.start({ systemId: 'paced', password: 'pw', autoReceipt: 'DELIVRD' });
  server = await startTestServer({
    configFile: { providers: { paced: { type: 'smpp', host: '127.0.0.1', port: smsc.port, system_id: 'paced', password: 'pw', window: 10, rate_per_second: RATE } }, channels: { sms: [{ via: ['paced'] }] } },
  });
  await smsc.waitForBinds(1);
});
after(async () => {
  await server.close();
  await smsc.close();
});

test(`a provider with rate_per_second ${RATE} gets no more than ${RATE} submits in any second, and every message is sent`, { timeout: 30_000 }, async () => {
  const uuids = await Promise.all(
    Array.from({ length: MESSAGES }, async (_, index) => {
      const { status, json } = await postJson(`${server.url}/v0.1/messages`, server.basicAuth, { to: { type: 'sms', number: String(447700930000 + index) }, from: { type: 'sms', number: '447700900000' }, message: { content: { type: 'text', text: `paced ${index}` } } });
      assert.equal(status, 202);
      return json.message_uuid as string;
    }),
  );
  const submits = (await smsc.waitForSubmits(MESSAGES, 20_000)).map((submit) => submit.at).sort((a, b) => a - b);
  // Sends are given slots 1/rate apart; timers and sockets on a loaded machine may shift one by
  // tens of ms. Unpaced, the window of 10 would put all 30 through in well under 100 ms.
  for (let i = 0; i + RATE < submits.length; i += 1) assert.ok(submits[i + RATE]! - submits[i]! >= 900, `submits ${i} and ${i + RATE} are ${submits[i + RATE]! - submits[i]!} ms apart`);
  for (const uuid of uuids) {
    for (let i = 0; i < 200; i += 1) {
      const { json } = await getJson(`${server.url}/v0.1/messages/${uuid}`, server.basicAuth);
      if (json.status === 'delivered') break;
      assert.ok(['accepted', 'submitted'].includes(json.status), json.status);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
});
