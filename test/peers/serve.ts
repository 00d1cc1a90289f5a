/**
 * A fake peer to try a provider by hand (docs/channels.md): starts one, prints the config that
 * points a provider at it, then prints what it receives.
 *
 *   node dist/test/peers/serve.js smsc
 *       an SMSC that accepts system_id "try" / password "try" and delivers every SMS (DELIVRD) after 1 s
 *   node dist/test/peers/serve.js graph --webhook http://127.0.0.1:3000/webhooks/fb [--read-after 5]
 *       a Graph API for page 107083064136738 (token "try-token", app secret "try-secret") that
 *       reports each message delivered after 1 s, and read after --read-after seconds if given
 */
import { FakeGraphApi } from './fake-graph-api.js';
import { FakeSmsc } from './fake-smsc.js';

// `npm test` runs every module under dist/ as a test file (node --test DIR): this one only when asked by hand.
const runByTestRunner = process.env.NODE_TEST_CONTEXT !== undefined;
const [kind, ...rest] = runByTestRunner ? ['none'] : process.argv.slice(2);
const flag = (name: string) => {
  const at = rest.indexOf(name);
  return at === -1 ? undefined : rest[at + 1];
};
const PAGE = '107083064136738';

if (kind === 'smsc') {
  const smsc = await FakeSmsc.start({ systemId: 'try', password: 'try', autoReceipt: 'DELIVRD', receiptDelayMs: 1000 });
  process.stdout.write(`fake SMSC on 127.0.0.1:${smsc.port}; in your config:

providers:
  smsc: { type: smpp, host: 127.0.0.1, port: ${smsc.port}, system_id: try, password: try }
channels:
  sms: [ { via: [smsc] } ]

`);
  let shown = 0;
  setInterval(() => {
    for (const submit of smsc.submits.slice(shown)) process.stdout.write(`submit_sm to ${submit.destination} (data_coding ${submit.dataCoding}${submit.concat ? `, part ${submit.concat.seq}/${submit.concat.total}` : ''}): ${submit.text}\n`);
    shown = smsc.submits.length;
  }, 200);
} else if (kind === 'graph') {
  const webhook = flag('--webhook');
  if (!webhook) {
    process.stderr.write('give --webhook, the URL of your server\'s /webhooks/{name} (e.g. http://127.0.0.1:3000/webhooks/fb)\n');
    process.exit(1);
  }
  const readAfter = flag('--read-after');
  const graph = await FakeGraphApi.start({ appSecret: 'try-secret', pages: { [PAGE]: 'try-token' } });
  graph.webhookUrl = webhook;
  process.stdout.write(`fake Graph API at ${graph.baseUrl}; in your config:

providers:
  fb: { type: messenger, app_secret: try-secret, verify_token: try-verify, base_url: ${graph.baseUrl},
        pages: { "${PAGE}": { access_token: try-token } } }
channels:
  messenger: [ { via: [fb] } ]

Send from {"type": "messenger", "id": "${PAGE}"} to any id.
`);
  let shown = 0;
  setInterval(() => {
    for (const send of graph.sends.slice(shown)) {
      const user = send.recipient.id ?? '';
      process.stdout.write(`Send API: to ${user}: ${JSON.stringify(send.message)}\n`);
      setTimeout(() => void graph.deliver(PAGE, user, { mids: [send.mid] }).then((status) => process.stdout.write(`  delivery webhook → ${status}\n`)), 1000);
      if (readAfter !== undefined) setTimeout(() => void graph.read(PAGE, user).then((status) => process.stdout.write(`  read webhook → ${status}\n`)), Number(readAfter) * 1000);
    }
    shown = graph.sends.length;
  }, 200);
} else if (!runByTestRunner) {
  process.stderr.write('usage: node dist/test/peers/serve.js smsc | graph --webhook URL [--read-after SECONDS]\n');
  process.exit(1);
}
