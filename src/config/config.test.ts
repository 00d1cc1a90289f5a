import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig, type ConfigFlags } from './config.js';

const folders: string[] = [];
after(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** Writes `content` as a config file named `name` in a fresh folder; answers its path. */
function configFile(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'opendispatch-config-'));
  folders.push(dir);
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** The ConfigError's problems, one per line, for a load that must fail. */
function problemsOf(flags: ConfigFlags, env: Record<string, string | undefined> = {}): readonly string[] {
  try {
    loadConfig(flags, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.code, 'OD_CONFIG');
    return error.problems;
  }
  assert.fail('the configuration was accepted');
}

test('without flags, environment or file: the defaults, frozen', () => {
  const config = loadConfig({}, {});
  assert.equal(config.port, 3000);
  assert.equal(config.host, '127.0.0.1');
  assert.deepEqual(config.database, { kind: 'sqlite', path: resolve('./data/opendispatch.db'), synchronous: 'NORMAL' });
  assert.equal(config.clock, 'real');
  assert.deepEqual(config.engine, { concurrency: 64, pollIntervalMs: 1000, leaseMs: 60_000 });
  assert.deepEqual(config.sends, { concurrency: 64, concurrencyPerProvider: 32, timeoutMs: 30_000 });
  assert.deepEqual(config.webhooks, { timeoutMs: 10_000, concurrency: 128, concurrencyPerOrigin: 32, concurrencyPerAccount: 48, allowNetworks: ['127.0.0.0/8', '::1/128'] });
  assert.deepEqual(config.http, { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 72_000, maxConnections: 4_096, trustProxy: [] });
  assert.deepEqual(config.auth, { maxFailures: 10, failureWindowMs: 60_000 });
  assert.deepEqual(config.applications, { maxPerAccount: 1000 });
  assert.deepEqual(config.receipts, { unmatchedTtlMs: 3_600_000 });
  assert.deepEqual(config.retention, { keepMs: 7 * 86_400_000 }, 'finished records are kept 7 days');
  assert.deepEqual(config.dispatch, { ceilingMs: 86_400_000 });
  assert.deepEqual(config.pricing, { currency: 'EUR', dispatchFee: '0', channels: {} });
  assert.equal(config.seedAccount, undefined);
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.engine) && Object.isFrozen(config.pricing.channels));
});

test('flags win over the environment, which wins over the file', () => {
  const path = configFile('opendispatch.json', JSON.stringify({ port: 1111, host: '127.0.0.2', clock: 'virtual', log: { level: 'debug' }, engine: { concurrency: 7 } }));
  const fromFile = loadConfig({ config: path }, {});
  assert.deepEqual([fromFile.port, fromFile.host, fromFile.clock, fromFile.log.level, fromFile.engine.concurrency], [1111, '127.0.0.2', 'virtual', 'debug', 7]);
  const env = { PORT: '2222', HOST: '127.0.0.3', OPENDISPATCH_CLOCK: 'real', LOG_LEVEL: 'warn', DATABASE_URL: 'sqlite:./env.db' };
  const fromEnv = loadConfig({ config: path }, env);
  assert.deepEqual([fromEnv.port, fromEnv.host, fromEnv.clock, fromEnv.log.level, fromEnv.engine.concurrency], [2222, '127.0.0.3', 'real', 'warn', 7]);
  assert.deepEqual(fromEnv.database, { kind: 'sqlite', path: resolve('./env.db'), synchronous: 'NORMAL' });
  const fromFlags = loadConfig({ config: path, port: '3333', host: '127.0.0.4', clock: 'virtual', database: 'sqlite::memory:' }, env);
  assert.deepEqual([fromFlags.port, fromFlags.host, fromFlags.clock], [3333, '127.0.0.4', 'virtual']);
  assert.deepEqual(fromFlags.database, { kind: 'sqlite', path: ':memory:', synchronous: 'NORMAL' });
  // OPENDISPATCH_CONFIG names the file when no flag does.
  assert.equal(loadConfig({}, { OPENDISPATCH_CONFIG: path }).port, 1111);
});

test('YAML and JSON files read alike; numbers may be numeric strings', () => {
  const yaml = configFile(
    'opendispatch.yaml',
    ['port: "4000"', 'engine:', '  concurrency: 8', 'webhooks: { timeout_ms: 2000, concurrency_per_origin: "4" }', 'pricing:', '  dispatch_fee: "0.002"', '  channels:', '    sms: { default: "0.0333", prefixes: { "1": "0.0075" } }', ''].join('\n'),
  );
  const config = loadConfig({ config: yaml }, {});
  assert.equal(config.port, 4000);
  assert.equal(config.engine.concurrency, 8);
  assert.deepEqual(config.webhooks, { timeoutMs: 2000, concurrency: 128, concurrencyPerOrigin: 4, concurrencyPerAccount: 48, allowNetworks: ['127.0.0.0/8', '::1/128'] });
  assert.deepEqual(config.pricing, { currency: 'EUR', dispatchFee: '0.002', channels: { sms: { default: '0.0333', prefixes: { 1: '0.0075' } } } });
  assert.deepEqual(loadConfig({ config: configFile('empty.yml', '') }, {}).port, 3000, 'an empty YAML file is no settings');
});

test('${NAME} takes the environment variable, in any string value, after parsing', () => {
  const path = configFile('c.yaml', ['host: "${BIND}"', 'pricing:', '  currency: "${CUR}-x"', '  dispatch_fee: "$${LITERAL}"', ''].join('\n'));
  const problems = problemsOf({ config: path }, { BIND: '0.0.0.0', CUR: 'GBP' });
  // `$${` is a literal `${`, which then is not a decimal price: the value is checked after substitution.
  assert.deepEqual(problems, ['pricing.dispatch_fee must be a decimal string such as "0.002" (got "${LITERAL}")']);
  const quoted = configFile('q.json', JSON.stringify({ host: '${BIND}', pricing: { currency: '${CUR}' } }));
  const config = loadConfig({ config: quoted }, { BIND: 'a "quoted"\nvalue', CUR: '${NOT_EXPANDED_AGAIN}' });
  assert.equal(config.host, 'a "quoted"\nvalue', 'quotes and newlines stay one value');
  assert.equal(config.pricing.currency, '${NOT_EXPANDED_AGAIN}', 'substituted values are not substituted again');
});

test('a ${NAME} that is not set stops the start, naming the variable and the key', () => {
  const path = configFile('c.json', JSON.stringify({ host: '${NOT_SET}', pricing: { currency: 'x${ALSO_NOT_SET}' } }));
  assert.deepEqual(problemsOf({ config: path }), [
    'host names the environment variable NOT_SET, which is not set',
    'pricing.currency names the environment variable ALSO_NOT_SET, which is not set',
  ]);
});

test('every unknown key is an error that names it and says what its object takes', () => {
  const path = configFile('c.json', JSON.stringify({ engine: { concurency: 3 }, webhook: {}, pricing: { channels: { fax: { default: '1' } } } }));
  assert.deepEqual(problemsOf({ config: path }), [
    'pricing.channels.fax is not a setting: pricing.channels takes sms, mms, whatsapp, messenger, viber_service_msg',
    'engine.concurency is not a setting: engine takes concurrency, poll_interval_ms, lease_ms',
    'webhook is not a setting: the configuration takes port, host, database, sqlite_synchronous, postgres_pool_size, clock, pricing, public_url, providers, channels, sandbox, engine, sends, webhooks, http, auth, applications, dispatch, receipts, retention, log',
  ]);
});

test('bad values name their setting and quote the value; every problem is reported at once', () => {
  const path = configFile(
    'c.json',
    JSON.stringify({
      sqlite_synchronous: 'OFF',
      engine: { concurrency: 0, poll_interval_ms: 'soon' },
      webhooks: { concurrency: 2.5, allow_networks: ['10.0.0.0/8', '10.0.0.1/33'] },
      sends: { concurrency_per_provider: -1 },
      dispatch: { ceiling_seconds: 0 },
      receipts: { unmatched_ttl_seconds: 0 },
      pricing: { dispatch_fee: 0.002, channels: { sms: { default: '0.05', prefixes: { '+44': '0.04' } } } },
      log: { level: 'loud' },
    }),
  );
  assert.deepEqual(problemsOf({ config: path }), [
    'sqlite_synchronous must be NORMAL or FULL (got "OFF")',
    'pricing.dispatch_fee must be a decimal string such as "0.002" (got "0.002")',
    'pricing.channels.sms.prefixes.+44 is not a prefix of digits',
    'engine.concurrency must be a whole number >= 1 (got "0")',
    'engine.poll_interval_ms must be a number >= 10 (got "soon")',
    'sends.concurrency_per_provider must be a whole number >= 1 (got "-1")',
    'webhooks.concurrency must be a whole number >= 1 (got "2.5")',
    'webhooks.allow_networks.1 must be a network such as "10.0.0.0/8" or "fd00::/8" (got "10.0.0.1/33")',
    'dispatch.ceiling_seconds must be a number >= 1 (got "0")',
    'receipts.unmatched_ttl_seconds must be a number >= 1 (got "0")',
    'log.level must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
  ]);
});

test('flags and environment variables are checked like the file', () => {
  assert.deepEqual(problemsOf({ clock: 'fast' }), ['clock must be real or virtual (got "fast")']);
  assert.deepEqual(problemsOf({ port: '70000' }), ['port must be a whole number from 0 to 65535 (got "70000")']);
  assert.deepEqual(problemsOf({}, { PORT: 'http' }), ['port must be a whole number from 0 to 65535 (got "http")']);
  assert.deepEqual(problemsOf({}, { LOG_LEVEL: 'loud' }), ['log.level must be one of fatal, error, warn, info, debug, trace, silent (got "loud")']);
  assert.deepEqual(problemsOf({ database: 'mysql://root:hunter2@db/x' }), ['database must start with sqlite: or postgres://'], 'a mistyped URL is not repeated: it may hold a password');
  assert.deepEqual(problemsOf({ database: 'sqlite:' }), ['database needs a path after sqlite:']);
  assert.deepEqual(problemsOf({}, { OPENDISPATCH_API_KEY: 'abcd1234' }), ['OPENDISPATCH_API_KEY/OPENDISPATCH_API_SECRET must be set together']);
  assert.deepEqual(problemsOf({}, { OPENDISPATCH_STATUS_URL: 'ftp://x' }), ['OPENDISPATCH_STATUS_URL must be an http(s) URL (got "ftp://x")']);
  assert.deepEqual(loadConfig({}, { OPENDISPATCH_API_KEY: 'abcd1234', OPENDISPATCH_API_SECRET: 's3cr3t' }).seedAccount, { apiKey: 'abcd1234', apiSecret: 's3cr3t' });
  assert.deepEqual(loadConfig({ database: 'postgres://db/x' }, {}).database, { kind: 'postgres', url: 'postgres://db/x', poolSize: 10 });
  assert.deepEqual(problemsOf({ database: 'postgres://db/x', clock: 'virtual' }), [
    "clock virtual needs a sqlite: database: its time is one process's, and the nodes of a postgres:// database would each keep their own",
  ]);
});

test('rules across settings: a lease outlasts two of the longest job; the virtual clock stays on loopback', () => {
  const path = configFile('c.json', JSON.stringify({ engine: { lease_ms: 5000 }, webhooks: { timeout_ms: 3000 }, sends: { timeout_ms: 1000 } }));
  assert.deepEqual(problemsOf({ config: path }), ['engine.lease_ms must be at least twice webhooks.timeout_ms and sends.timeout_ms (6000)']);
  const slowSends = configFile('s.json', JSON.stringify({ sends: { timeout_ms: 40_000 } }));
  assert.deepEqual(problemsOf({ config: slowSends }), ['engine.lease_ms must be at least twice webhooks.timeout_ms and sends.timeout_ms (80000)']);
  assert.deepEqual(problemsOf({ clock: 'virtual', host: '0.0.0.0' }), ['clock virtual needs a loopback host (127.0.0.1, ::1 or localhost): its time is the whole server\'s (got "0.0.0.0")']);
  for (const host of ['127.0.0.1', '127.9.9.9', '::1', 'localhost']) assert.equal(loadConfig({ clock: 'virtual', host }, {}).host, host);
});

test('a file that cannot be read or parsed, or holds no object, is one clear problem that says where, not what', () => {
  assert.match(problemsOf({ config: '/nonexistent/opendispatch.json' })[0]!, /^--config cannot be read: ENOENT/);
  assert.deepEqual(problemsOf({ config: configFile('bad.json', '{"port": 3000,') }), ['--config is not valid JSON (MISSING_CHAR at line 1, column 15)']);
  assert.deepEqual(problemsOf({ config: configFile('bad.yaml', 'port: 3000\nengine:\n  concurrency: [1,\n') }), ['--config is not valid YAML (BAD_INDENT at line 4, column 1)']);
  // A parser's own message quotes the text near the error; a secret written there must not be printed.
  for (const [name, text] of [['secret.json', '{"api_secret": hunter2xyz}'], ['secret.yaml', 'api_secret: "hunter2xyz\n  other: [']] as const) {
    const [only] = problemsOf({ config: configFile(name, text) });
    assert.ok(!only!.includes('hunter2'), only);
  }
  assert.deepEqual(problemsOf({ config: configFile('list.json', '[1]') }), ['--config must hold an object of settings at its top level']);
});

test('secret-looking settings never have their value repeated in an error', async () => {
  const { describeIssues } = await import('./config-schema.js');
  const { z } = await import('zod');
  const schema = z.strictObject({ api_secret: z.number({ error: 'must be a number' }), name: z.number({ error: 'must be a number' }) });
  const input = { api_secret: 'hunter2', name: 'shown' };
  const parsed = schema.safeParse(input);
  assert.ok(!parsed.success);
  assert.deepEqual(describeIssues(parsed.error, input), ['api_secret must be a number', 'name must be a number (got "shown")']);
});

test('providers and routes: each type takes its keys, routes name existing providers, the sandbox serves the unrouted only in the laptop default', () => {
  assert.deepEqual(loadConfig({}, {}).routing, { routes: {}, unrouted: 'sandbox' }, 'no provider at all: the sandbox serves every channel');

  const path = configFile(
    'routes.yaml',
    [
      'providers:',
      '  sim-uk: { type: sandbox }',
      '  smsc: { type: smpp, host: smsc.example.net, port: "2775", system_id: acme, password: "${SMPP_PASSWORD}" }',
      'channels:',
      '  sms: [ { prefix: ["44", "353"], via: [smsc, sim-uk] }, { via: [sandbox] } ]',
      '',
    ].join('\n'),
  );
  const config = loadConfig({ config: path }, { SMPP_PASSWORD: 'hunter2' });
  assert.deepEqual(config.routing, { routes: { sms: [{ prefixes: ['44', '353'], via: ['smsc', 'sim-uk'] }, { prefixes: [], via: ['sandbox'] }] } });
  assert.deepEqual(config.providers.smsc, { type: 'smpp', host: 'smsc.example.net', port: 2775, system_id: 'acme', password: 'hunter2' });
  const serving = configFile('serve.json', JSON.stringify({ providers: { 'sim-uk': { type: 'sandbox' } }, sandbox: { serve_unrouted: true } }));
  assert.equal(loadConfig({ config: serving }, {}).routing.unrouted, 'sandbox');

  const bad = configFile(
    'bad.json',
    JSON.stringify({
      providers: { sandbox: { type: 'sandbox' }, tw: { type: 'twilio', account_sid: 'AC1', auth_token: 'very-secret-token', region: 'x' }, q: { type: 'fax' } },
      channels: { sms: [{ prefix: ['+44'], via: ['tw'] }] },
    }),
  );
  const problems = problemsOf({ config: bad });
  assert.ok(problems.includes('providers.tw.region is not a setting: providers.tw takes type, base_url, rate_per_second, account_sid, auth_token, messaging_service_sid'), problems.join('\n'));
  assert.ok(problems.includes('providers.q.type must be one of messenger, whatsapp, smpp, twilio, vonage-sms, vonage-messages, sandbox (got "fax")'), problems.join('\n'));
  assert.ok(problems.includes('channels.sms.0.prefix.0 must be a prefix of digits such as "44" (got "+44")'), problems.join('\n'));
  assert.ok(!problems.join('\n').includes('very-secret-token'));
  const noPublicUrl = configFile('no-public-url.json', JSON.stringify({ providers: { tw: { type: 'twilio', account_sid: 'AC1', auth_token: 't' } }, channels: { sms: [{ via: ['tw'] }] } }));
  assert.deepEqual(problemsOf({ config: noPublicUrl }), ['providers.tw (twilio) needs public_url: each message tells twilio to report to {public_url}/webhooks/tw']);

  const unknownVia = configFile('via.json', JSON.stringify({ public_url: 'https://gw.example.com', providers: { sandbox: { type: 'twilio', account_sid: 'AC1', auth_token: 't' }, a: { type: 'sandbox' } }, channels: { sms: [{ via: ['b'] }] } }));
  assert.deepEqual(problemsOf({ config: unknownVia }), [
    "providers.sandbox is the built-in sandbox's name: it must be of type sandbox, or give this provider another name",
    'channels.sms.0.via names "b", which is not a provider: providers has sandbox, a',
  ]);
  const builtIn = configFile('built-in.json', JSON.stringify({ providers: { sandbox: { type: 'sandbox', default_delivered_after: 3 } }, channels: { sms: [{ via: ['sandbox'] }] } }));
  assert.deepEqual(loadConfig({ config: builtIn }, {}).routing, { routes: { sms: [{ prefixes: [], via: ['sandbox'] }] } }, 'naming it configures the built-in sandbox');
});

test("DESIGN §4's example configuration is read as written", () => {
  const example = [
    'public_url: https://gw.example.com',
    'providers:',
    '  fb:      { type: messenger, app_secret: "${FB_APP_SECRET}", verify_token: "${FB_VERIFY}",',
    '             pages: { "107083064136738": { access_token: "${FB_PAGE_TOKEN}" } },',
    '             base_url: https://graph.facebook.com, api_version: v21.0 }',
    '  smsc-uk: { type: smpp, host: smsc.example.net, port: 2775, system_id: acme,',
    '             password: "${SMPP_PASSWORD}", window: 10, rate_per_second: 50 }',
    '  twilio:  { type: twilio, account_sid: AC123, auth_token: "${TWILIO_TOKEN}", base_url: https://api.twilio.com }',
    '  vonage:  { type: vonage-sms, api_key: abc, api_secret: "${VONAGE_SECRET}", signature_secret: "${VONAGE_SIG}",',
    '             base_url: https://rest.nexmo.com }',
    'channels:',
    '  messenger: [ { via: [fb] } ]',
    '  sms:       [ { prefix: ["44"], via: [smsc-uk, twilio] }, { via: [vonage] } ]',
    'sandbox: { serve_unrouted: false }',
    'webhooks: { allow_networks: [] }',
    '',
  ].join('\n');
  const env = { FB_APP_SECRET: 'a', FB_VERIFY: 'b', FB_PAGE_TOKEN: 'c', SMPP_PASSWORD: 'd', TWILIO_TOKEN: 'e', VONAGE_SECRET: 'f', VONAGE_SIG: 'g' };
  const config = loadConfig({ config: configFile('design.yaml', example) }, env);
  assert.equal(config.publicUrl, 'https://gw.example.com');
  assert.deepEqual(Object.entries(config.providers).map(([name, { type }]) => [name, type]), [['fb', 'messenger'], ['smsc-uk', 'smpp'], ['twilio', 'twilio'], ['vonage', 'vonage-sms']]);
  assert.deepEqual(config.routing, {
    routes: { messenger: [{ prefixes: [], via: ['fb'] }], sms: [{ prefixes: ['44'], via: ['smsc-uk', 'twilio'] }, { prefixes: [], via: ['vonage'] }] },
  });
  assert.deepEqual(config.webhooks.allowNetworks, []);
});
