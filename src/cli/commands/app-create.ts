import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { commandDefaults } from '../../config/config.js';
import { UsageError } from '../usage-error.js';

interface AppCreateFlags {
  messagesInboundUrl: string;
  messagesStatusUrl: string;
  keyfile?: string;
  publicKeyfile?: string;
  url: string;
  apiKey?: string;
  apiSecret?: string;
  json?: boolean;
}

/** Calls the Applications API of a running server, like nexmo-cli's app:create. */
export function registerAppCreate(program: Command): void {
  const defaults = commandDefaults();
  program
    .command('app:create')
    .description('create an application with messages webhooks on a running server')
    .argument('<name>', 'application name')
    .requiredOption('--messages-inbound-url <url>', 'where inbound messages are POSTed')
    .requiredOption('--messages-status-url <url>', 'where message statuses are POSTed')
    .option('--keyfile <file>', 'write the generated private key here', 'private.key')
    .option('--public-keyfile <file>', 'use this public key instead of generating a pair')
    .option('--url <url>', 'server URL (env OPENDISPATCH_URL)', defaults.url ?? 'http://127.0.0.1:3000')
    .option('--api-key <key>', 'account api key (env OPENDISPATCH_API_KEY)', defaults.apiKey)
    .option('--api-secret <secret>', 'account api secret (env OPENDISPATCH_API_SECRET)', defaults.apiSecret)
    .option('--json', 'print the created application as JSON')
    .action(async (name: string, flags: AppCreateFlags) => {
      if (!flags.apiKey || !flags.apiSecret) throw new UsageError('give --api-key and --api-secret (or OPENDISPATCH_API_KEY / OPENDISPATCH_API_SECRET)');
      const body = {
        name,
        capabilities: {
          messages: {
            webhooks: {
              inbound_url: { address: flags.messagesInboundUrl, http_method: 'POST' },
              status_url: { address: flags.messagesStatusUrl, http_method: 'POST' },
            },
          },
        },
        ...(flags.publicKeyfile && { keys: { public_key: readFileSync(flags.publicKeyfile, 'utf8') } }),
        privacy: { improve_ai: true },
      };
      const response = await fetch(new URL('/v2/applications', flags.url), {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${flags.apiKey}:${flags.apiSecret}`).toString('base64')}`,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: JSON.stringify(body),
      }).catch((error: Error) => {
        throw new UsageError(`cannot reach ${flags.url}: ${error.cause instanceof Error ? error.cause.message : error.message}`);
      });
      const created = (await response.json().catch(() => ({}))) as Record<string, any>;
      if (response.status !== 201) {
        const details = (created.invalid_parameters as Array<{ name: string; reason: string }> | undefined)?.map((p) => `\n  ${p.name}: ${p.reason}`).join('') ?? '';
        throw new UsageError(`the server answered ${response.status}: ${created.detail ?? created.title ?? 'no details'}${details}`);
      }
      const privateKey = created.keys?.private_key as string | undefined;
      if (privateKey && flags.keyfile) {
        writeFileSync(flags.keyfile, privateKey, { mode: 0o600 });
        chmodSync(flags.keyfile, 0o600); // `mode` applies only when the file is created
      }
      if (flags.json) {
        const { keys, ...shown } = created;
        process.stdout.write(`${JSON.stringify({ ...shown, keys: { public_key: keys?.public_key } })}\n`);
        return;
      }
      process.stdout.write(`Application created: ${created.id}\n`);
      if (privateKey && flags.keyfile) process.stdout.write(`Private Key saved to: ${flags.keyfile}\n`);
    });
}
