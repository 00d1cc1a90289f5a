import type { Command } from 'commander';
import { CHANNELS } from '../../core/channel.js';
import { callServer, type ServerFlags, withServerFlags } from '../server-call.js';

interface LinkFlags extends ServerFlags {
  channel: string;
}

const linkPath = (applicationId: string, channel: string, address: string) =>
  `/v2/applications/${encodeURIComponent(applicationId)}/links/${encodeURIComponent(channel)}/${encodeURIComponent(address)}`;

/** `link:app` / `unlink:app`: route a business address's inbound messages to an application (DESIGN §4 "Links"), over the running server's API. */
export function registerLinkApp(program: Command): void {
  withServerFlags(program.command('link:app'))
    .description("route inbound messages to this business address (a number, a page id) to an application")
    .argument('<address>', 'the business address: a number (digits) or a page id')
    .argument('<application_id>', 'the application')
    .requiredOption('--channel <channel>', `the channel: ${CHANNELS.join(', ')}`)
    .action(async (address: string, applicationId: string, flags: LinkFlags) => {
      await callServer(flags, { method: 'PUT', path: linkPath(applicationId, flags.channel, address), expected: 204 });
      process.stdout.write(`Linked ${flags.channel} ${address} to application ${applicationId}\n`);
    });

  withServerFlags(program.command('unlink:app'))
    .description('stop routing this business address to an application')
    .argument('<address>', 'the business address')
    .argument('<application_id>', 'the application')
    .requiredOption('--channel <channel>', `the channel: ${CHANNELS.join(', ')}`)
    .action(async (address: string, applicationId: string, flags: LinkFlags) => {
      await callServer(flags, { method: 'DELETE', path: linkPath(applicationId, flags.channel, address), expected: 204 });
      process.stdout.write(`Unlinked ${flags.channel} ${address} from application ${applicationId}\n`);
    });
}
