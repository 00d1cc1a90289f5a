import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { callServer, type ServerFlags, withServerFlags } from '../server-call.js';

interface AppCreateFlags extends ServerFlags {
  messagesInboundUrl: string;
  messagesStatusUrl: string;
  keyfile?: string;
  publicKeyfile?: string;
  json?: boolean;
}

/** Calls the Applications API of a running server, like nexmo-cli's app:create. */
export function registerAppCreate(program: Command): void {
  withServerFlags(program.command('app:create'))
    .description('create an application with messages webhooks on a running server')
    .argument('<name>', 'application name')
    .requiredOption('--messages-inbound-url <url>', 'where inbound messages are POSTed')
    .requiredOption('--messages-status-url <url>', 'where message statuses are POSTed')
    .option('--keyfile <file>', 'write the generated private key here', 'private.key')
    .option('--public-keyfile <file>', 'use this public key instead of generating a pair')
    .option('--json', 'print the created application as JSON')
    .action(async (name: string, flags: AppCreateFlags) => {
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
      const created = await callServer(flags, { method: 'POST', path: '/v2/applications', body, expected: 201 });
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
