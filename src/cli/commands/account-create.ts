import type { Command } from 'commander';
import { loadConfig, withoutSeedAccount } from '../../config/config.js';
import { isHttpUrl } from '../../core/url.js';
import { createAccount } from '../../engine/accounts/create-account.js';
import { systemClock } from '../../engine/clock.js';
import { openStore } from '../../store/open-store.js';
import { UsageError } from '../usage-error.js';

interface AccountCreateFlags {
  json?: boolean;
  database?: string;
  config?: string;
  statusUrl?: string;
  inboundUrl?: string;
}

export function registerAccountCreate(program: Command): void {
  program
    .command('account:create')
    .description('create an account in the database and print its credentials once')
    .option('--json', 'print the credentials as JSON')
    .option('--database <url>', 'sqlite:PATH or postgres://… (env DATABASE_URL)')
    .option('--config <file>', 'config file, JSON or YAML (env OPENDISPATCH_CONFIG)')
    .option('--status-url <url>', 'default status webhook for Basic-auth sends')
    .option('--inbound-url <url>', 'default inbound webhook for Basic-auth sends')
    .action(async (flags: AccountCreateFlags) => {
      for (const [name, value] of [['--status-url', flags.statusUrl], ['--inbound-url', flags.inboundUrl]] as const) {
        if (value !== undefined && !isHttpUrl(value)) throw new UsageError(`${name} must be an http(s) URL`);
      }
      // Only the database settings matter here; the seed-account variables belong to `start`.
      const config = loadConfig({ database: flags.database, config: flags.config }, withoutSeedAccount());
      const { store } = await openStore(config.database, systemClock);
      try {
        const account = await createAccount(store, { statusUrl: flags.statusUrl, inboundUrl: flags.inboundUrl }, systemClock.wallNow());
        const printable = {
          api_key: account.apiKey,
          api_secret: account.apiSecret,
          signature_secret: account.signatureSecret,
          ...(account.statusUrl && { status_url: account.statusUrl }),
          ...(account.inboundUrl && { inbound_url: account.inboundUrl }),
        };
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(printable)}\n`);
        } else {
          process.stdout.write('Account created. The secret is shown only now:\n');
          for (const [key, value] of Object.entries(printable)) process.stdout.write(`  ${key.padEnd(17)} ${value}\n`);
        }
      } finally {
        await store.close();
      }
    });
}
