/**
 * `rate_per_second` (DESIGN §3): a provider's rate is never exceeded; messages beyond it wait
 * and are all sent, none refused. Real time: the fake SMSC, in a process of its own so that the
 * server's busy event loop does not delay its stamps, stamps each submit as it arrives.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeSmscProcess } from './peers/fake-smsc-process.js';
import { getJson, postJson } from './support/api-client.js';
import { startTestServer, type TestServer } from './support/test-server.js';

const RATE = 20;
const MESSAGES = 30;

let smsc: FakeSmscProcess;
let server: TestServer;
before(async () => {
  smsc = await FakeSmscProcess.start({ systemId: 'paced', password: 'pw', autoReceipt: 'DELIVRD' });
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
  const submits = (await smsc.submitTimes(MESSAGES, 20_000)).sort((a, b) => a - b);
  // The server starts no send within a second of the RATE-th before it (exactness is
  // send-pace.test.ts's); the socket and a loaded machine's scheduler may shift an arrival by tens
  // of ms. Unpaced, the window of 10 would put all 30 through in well under 100 ms.
  for (let i = 0; i + RATE < submits.length; i += 1) assert.ok(submits[i + RATE]! - submits[i]! >= 900, `submits ${i} and ${i + RATE} are ${submits[i + RATE]! - submits[i]!} ms apart`);
  // And one by one, as paced: with Nagle's algorithm on the bind's socket every other submit was
  // held back ~40 ms and went in one segment with the next (gaps of 88 and 12 ms, not 50).
  const bunched = submits.slice(1).filter((at, i) => at - submits[i]! < 500 / RATE).length;
  assert.ok(bunched <= 3, `${bunched} of ${MESSAGES - 1} submits came less than half an interval after the one before`);
  for (const uuid of uuids) {
    for (let i = 0; i < 200; i += 1) {
      const { json } = await getJson(`${server.url}/v0.1/messages/${uuid}`, server.basicAuth);
      if (json.status === 'delivered') break;
      assert.ok(['accepted', 'submitted'].includes(json.status), json.status);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
});
