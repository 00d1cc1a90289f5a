/**
 * The `opendispatch` command line (DESIGN §4), run as users run it: `node bin/opendispatch.js …`
 * in a temp working directory, against real servers started by `opendispatch start`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startServerProcess, type CliResult, type ServerProcess } from './support/server-process.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

const HEX8 = /^[0-9a-f]{8}$/;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'opendispatch-cli-'));
}

function basic(apiKey: string, apiSecret: string): string {
  return `Basic ${Buffer.from(`${apiKey}:${apiSecret}`).toString('base64')}`;
}

/** A failure the user can fix: exit 1, one line on stderr starting `opendispatch:`, no stack. */
function assertUsageFailure(result: CliResult, mentions: string | RegExp): void {
  assert.equal(result.code, 1, `exit code; stdout: ${result.stdout} stderr: ${result.stderr}`);
  const lines = result.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('opendispatch: building'));
  assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0]!, /^opendispatch: /);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  if (typeof mentions === 'string') assert.ok(lines[0]!.includes(mentions), `"${lines[0]}" should mention ${mentions}`);
  else assert.match(lines[0]!, mentions);
  assert.equal(result.stdout, '');
}

async function applicationsStatus(url: string, authorization: string): Promise<number> {
  const response = await fetch(`${url}/v2/applications`, { headers: { authorization } });
  await response.arrayBuffer();
  return response.status;
}

function smsBody(text: string) {
  return {
    to: { type: 'sms', number: '447700900000' },
    from: { type: 'sms', number: '447700900001' },
    message: { content: { type: 'text', text } },
  };
}

function decodeJwtPart(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

test('--help lists the commands', async () => {
  const dir = tempDir();
  try {
    const result = await runCli(['--help'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    for (const command of ['start', 'account:create', 'app:create', 'jwt:generate']) {
      assert.match(result.stdout, new RegExp(`^\\s+${command}\\b`, 'm'), `--help lists ${command}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('account:create --json prints credentials whose secret works for Basic auth', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const database = `sqlite:${join(dir, 'x.db')}`;
  let server: ServerProcess | undefined;
  try {
    const result = await runCli(['account:create', '--json', '--database', database], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim().split('\n').length, 1, 'one line of JSON');
    const created = JSON.parse(result.stdout) as Record<string, string>;
    assert.deepEqual(Object.keys(created).sort(), ['api_key', 'api_secret', 'signature_secret']);
    assert.match(created.api_key!, HEX8);
    assert.ok(created.api_secret!.length >= 8, 'a secret');
    assert.ok(created.signature_secret!.length >= 32, 'a signature secret');

    server = await startServerProcess({ database, cwd: dir });
    assert.equal(await applicationsStatus(server.url, basic(created.api_key!, created.api_secret!)), 200);
    assert.equal(await applicationsStatus(server.url, basic(created.api_key!, `${created.api_secret}x`)), 401);
    const stopped = await server.kill('SIGTERM');
    assert.equal(stopped.code, 0, `SIGTERM stops the server cleanly; stderr: ${server.stderr}`);
    // The database had an account, so start seeded none and printed no credentials.
    assert.doesNotMatch(server.stdout + server.stderr, /api_secret|Created the first account/);
  } finally {
    await server?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('account:create without --json prints a readable block with the webhook URLs', async () => {
  const dir = tempDir();
  try {
    const result = await runCli(
      ['account:create', '--database', `sqlite:${join(dir, 'x.db')}`, '--status-url', 'https://example.com/status', '--inbound-url', 'http://example.com/inbound'],
      { cwd: dir },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.throws(() => JSON.parse(result.stdout), 'not JSON');
    const field = (name: string) => result.stdout.match(new RegExp(`^\\s*${name}:?\\s+(\\S+)\\s*$`, 'm'))?.[1];
    assert.match(field('api_key') ?? '', HEX8, result.stdout);
    assert.ok(field('api_secret'), result.stdout);
    assert.ok(field('signature_secret'), result.stdout);
    assert.equal(field('status_url'), 'https://example.com/status');
    assert.equal(field('inbound_url'), 'http://example.com/inbound');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('account:create with a bad --status-url fails with one line and touches no database', async () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'x.db');
    const result = await runCli(['account:create', '--json', '--database', `sqlite:${path}`, '--status-url', 'not a url'], { cwd: dir });
    assertUsageFailure(result, '--status-url');
    assert.equal(existsSync(path), false, 'the database is not created');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('app:create writes a PKCS#8 key and jwt:generate signs tokens the server accepts', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const receiver = await new WebhookReceiver().start();
  const apiKey = 'c0ffee01';
  const apiSecret = 'cliTestSecret123';
  let server: ServerProcess | undefined;
  try {
    server = await startServerProcess({
      database: `sqlite:${join(dir, 'x.db')}`,
      cwd: dir,
      env: { OPENDISPATCH_API_KEY: apiKey, OPENDISPATCH_API_SECRET: apiSecret },
    });
    const seeded = await server.waitForOutput(/api_key:\s+(\S+)/);
    assert.equal(seeded[1], apiKey);
    assert.doesNotMatch(server.stdout + server.stderr, new RegExp(apiSecret), 'a secret from the environment is not echoed');

    const keyfile = join(dir, 'private.key');
    const created = await runCli(
      [
        'app:create', 'cli test app',
        '--messages-inbound-url', `${receiver.url}/inbound`,
        '--messages-status-url', `${receiver.url}/status`,
        '--keyfile', keyfile,
        '--url', server.url,
        '--api-key', apiKey,
        '--api-secret', apiSecret,
      ],
      { cwd: dir },
    );
    assert.equal(created.code, 0, created.stderr);
    const applicationId = created.stdout.match(/Application created: (\S+)/)?.[1];
    assert.match(applicationId ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, created.stdout);
    assert.ok(created.stdout.includes(keyfile), 'names the key file');
    const pem = readFileSync(keyfile, 'utf8');
    assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n/, 'PKCS#8 PEM');
    assert.equal(createPrivateKey(pem).asymmetricKeyType, 'rsa');
    assert.equal(statSync(keyfile).mode & 0o077, 0, 'the private key is readable by its owner only');

    const generated = await runCli(['jwt:generate', '--private-key', keyfile, '--application-id', applicationId!], { cwd: dir });
    assert.equal(generated.code, 0, generated.stderr);
    const jwt = generated.stdout.trim();
    const parts = jwt.split('.');
    assert.equal(parts.length, 3, jwt);
    assert.deepEqual(decodeJwtPart(parts[0]!), { alg: 'RS256', typ: 'JWT' });
    const claims = decodeJwtPart(parts[1]!);
    assert.equal(claims.application_id, applicationId);
    assert.equal(Number(claims.exp) - Number(claims.iat), 900, 'default ttl 900 s');
    assert.ok(typeof claims.jti === 'string' && claims.jti.length > 0);

    const sent = await fetch(`${server.url}/v0.1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify(smsBody('signed by the cli')),
    });
    assert.equal(sent.status, 202, await sent.clone().text());
    const { message_uuid } = (await sent.json()) as { message_uuid: string };
    // With a JWT the application's status URL gets the webhooks.
    const [submitted] = await receiver.waitFor((w) => w.path === '/status' && w.json.message_uuid === message_uuid && w.json.status === 'submitted', 1, 20_000);
    assert.match(String(submitted!.headers.authorization), /^Bearer /);

    const shortLived = await runCli(['jwt:generate', '--private-key', keyfile, '--application-id', applicationId!, '--ttl', '60'], { cwd: dir });
    assert.equal(shortLived.code, 0, shortLived.stderr);
    const shortClaims = decodeJwtPart(shortLived.stdout.trim().split('.')[1]!);
    assert.equal(Number(shortClaims.exp) - Number(shortClaims.iat), 60);

    // link:app / unlink:app route a business address's inbound messages to the application.
    const credentials = ['--url', server.url, '--api-key', apiKey, '--api-secret', apiSecret];
    const linksOf = async () => ((await (await fetch(`${server!.url}/v2/applications/${applicationId}/links`, { headers: { authorization: `Basic ${Buffer.from(`${apiKey}:${apiSecret}`).toString('base64')}` } })).json()) as { links: unknown[] }).links;
    const linked = await runCli(['link:app', '+447700900000', applicationId!, '--channel', 'sms', ...credentials], { cwd: dir });
    assert.equal(linked.code, 0, linked.stderr);
    assert.match(linked.stdout, /^Linked sms \+447700900000 to application /);
    assert.deepEqual(await linksOf(), [{ channel: 'sms', address: '447700900000', application_id: applicationId }]);
    assertUsageFailure(await runCli(['link:app', '447700900000', applicationId!, '--channel', 'fax', ...credentials], { cwd: dir }), 'channel: must be one of');
    const unlinked = await runCli(['unlink:app', '447700900000', applicationId!, '--channel', 'sms', ...credentials], { cwd: dir });
    assert.equal(unlinked.code, 0, unlinked.stderr);
    assert.deepEqual(await linksOf(), []);
    assertUsageFailure(await runCli(['unlink:app', '447700900000', applicationId!, '--channel', 'sms', ...credentials], { cwd: dir }), '404');

    // The default --keyfile is ./private.key in the working directory.
    const second = await runCli(
      ['app:create', 'second', '--messages-inbound-url', `${receiver.url}/in`, '--messages-status-url', `${receiver.url}/st`, '--url', server.url, '--api-key', apiKey, '--api-secret', apiSecret],
      { cwd: dir },
    );
    assert.equal(second.code, 0, second.stderr);
    assert.notEqual(readFileSync(join(dir, 'private.key'), 'utf8'), '', 'written to ./private.key');

    // A wrong secret is the server's 401, reported in one line.
    const refused = await runCli(
      ['app:create', 'x', '--messages-inbound-url', `${receiver.url}/in`, '--messages-status-url', `${receiver.url}/st`, '--keyfile', join(dir, 'no.key'), '--url', server.url, '--api-key', apiKey, '--api-secret', 'wrong'],
      { cwd: dir },
    );
    assertUsageFailure(refused, '401');
    assert.equal(existsSync(join(dir, 'no.key')), false);
  } finally {
    await server?.dispose();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('jwt:generate rejects a bad --ttl, a missing key file and a file that is no key', async () => {
  const dir = tempDir();
  try {
    const { generateKeyPairSync } = await import('node:crypto');
    const keyfile = join(dir, 'private.key');
    writeFileSync(keyfile, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const appId = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';

    for (const ttl of ['0', '-5', '1.5', 'soon', '86401']) {
      assertUsageFailure(await runCli(['jwt:generate', '--private-key', keyfile, '--application-id', appId, '--ttl', ttl], { cwd: dir }), '--ttl');
    }
    const missing = join(dir, 'missing.key');
    assertUsageFailure(await runCli(['jwt:generate', '--private-key', missing, '--application-id', appId], { cwd: dir }), missing);

    const notAKey = join(dir, 'not-a.key');
    writeFileSync(notAKey, 'hello\n');
    assertUsageFailure(await runCli(['jwt:generate', '--private-key', notAKey, '--application-id', appId], { cwd: dir }), notAKey);

    const ok = await runCli(['jwt:generate', '--private-key', keyfile, '--application-id', appId, '--ttl', '86400'], { cwd: dir });
    assert.equal(ok.code, 0, ok.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('start on an empty database prints generated credentials once; the next start does not', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const database = `sqlite:${join(dir, 'x.db')}`;
  let server: ServerProcess | undefined;
  try {
    server = await startServerProcess({ database, cwd: dir });
    const apiKey = (await server.waitForOutput(/api_key:\s+(\S+)/))[1]!;
    const apiSecret = (await server.waitForOutput(/api_secret:\s+(\S+)/))[1]!;
    assert.match(apiKey, HEX8);
    assert.equal(await applicationsStatus(server.url, basic(apiKey, apiSecret)), 200, 'the printed credentials work');
    assert.equal((await server.kill('SIGTERM')).code, 0);
    assert.equal(server.stderr.split(apiSecret).length - 1, 2, 'the secret appears on its line and in the curl example only');
    assert.ok(!server.stdout.includes(apiSecret), 'stdout (the log) never carries it');
    assert.match(server.stdout, /OpenDispatch listening on http/, 'where it listens stays on stdout');

    server = await startServerProcess({ database, cwd: dir });
    assert.equal(await applicationsStatus(server.url, basic(apiKey, apiSecret)), 200, 'the same account, kept in the database');
    assert.equal((await server.kill('SIGTERM')).code, 0);
    assert.doesNotMatch(server.stdout + server.stderr, /api_key|api_secret|Created the first account/);
    assert.ok(!server.stdout.includes(apiSecret) && !server.stderr.includes(apiSecret));
  } finally {
    await server?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('start rejects a bad --clock, naming the field', async () => {
  const dir = tempDir();
  try {
    const result = await runCli(['start', '--port', '0', '--database', `sqlite:${join(dir, 'x.db')}`, '--clock', 'nonsense'], { cwd: dir });
    assertUsageFailure(result, /clock/);
    assert.ok(result.stderr.includes('nonsense'), 'quotes the bad value');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('config:check prints channel → routes → providers, names and types only; an error is exit 1 naming the setting', async () => {
  const dir = tempDir();
  try {
    writeFileSync(
      join(dir, 'gw.yaml'),
      ['providers:', '  sim-uk: { type: sandbox }', '  smsc: { type: smpp, host: h, port: 2775, system_id: acme, password: "${SMPP_PASSWORD}" }', 'channels:', '  sms: [ { prefix: ["44"], via: [smsc, sim-uk] } ]', ''].join('\n'),
    );
    const ok = await runCli(['config:check', '--config', 'gw.yaml'], { cwd: dir, env: { SMPP_PASSWORD: 'pa55-secret' } });
    assert.equal(ok.code, 0, ok.stderr);
    const lines = ok.stdout.trim().split('\n');
    assert.match(lines[0]!, /^channel\s+route\s+providers$/);
    assert.match(lines[1]!, /^sms\s+prefix 44\s+smsc \(smpp\), sim-uk \(sandbox\)$/);
    assert.match(lines[2]!, /^sms\s+any other\s+none: rejected 1250 \(Unroutable\)$/);
    assert.match(lines[3]!, /^mms\s+any destination\s+none: rejected 1250 \(Unroutable\)$/);
    assert.ok(!ok.stdout.includes('pa55-secret') && !ok.stdout.includes('acme'), 'no setting is printed');

    const unset = await runCli(['config:check', '--config', 'gw.yaml'], { cwd: dir, env: { SMPP_PASSWORD: undefined } });
    assert.equal(unset.code, 1);
    assert.match(unset.stderr, /SMPP_PASSWORD/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
