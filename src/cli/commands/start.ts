import type { Command } from 'commander';
import { loadConfig, type ConfigFlags } from '../../config/config.js';
import { routingTableText } from '../../config/routing-table-text.js';
import { startServer } from '../../server.js';
import { UsageError } from '../usage-error.js';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run the server (SQLite and the sandbox by default)')
    .option('--port <port>', 'port to listen on (env PORT)', undefined)
    .option('--host <host>', 'address to bind (env HOST)', undefined)
    .option('--database <url>', 'sqlite:PATH or postgres://… (env DATABASE_URL)', undefined)
    .option('--config <file>', 'config file, JSON or YAML (env OPENDISPATCH_CONFIG)', undefined)
    .option('--clock <kind>', 'real, or virtual to drive time with POST /sandbox/clock/advance', undefined)
    .action(async (flags: ConfigFlags) => {
      const config = loadConfig(flags);
      const server = await startServer(config).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'EADDRINUSE') throw new UsageError(`port ${config.port} on ${config.host} is in use; choose another with --port or PORT`);
        if (error.code === 'EACCES' || error.code === 'EADDRNOTAVAIL') throw new UsageError(`cannot listen on ${config.host}:${config.port} (${error.code})`);
        throw error;
      });
      // Where it listens goes to stdout with the log, as before. The first account's credentials
      // are for the person who started the server: stderr, shown once, so a log shipper reading
      // stdout never carries a secret.
      const out = (line = '') => process.stdout.write(`${line}\n`);
      const say = (line = '') => process.stderr.write(`${line}\n`);
      out(`OpenDispatch listening on ${server.url} (${config.database.kind}, ${config.clock} clock)`);
      if (server.seededAccount) {
        const { apiKey, apiSecret, signatureSecret, generated } = server.seededAccount;
        say();
        say(generated ? 'Created the first account. Keep these; the secret is not shown again:' : 'Created the first account from OPENDISPATCH_API_KEY:');
        say(`  api_key:    ${apiKey}`);
        if (generated) say(`  api_secret: ${apiSecret}`);
        say(`  signature_secret: ${signatureSecret}   (verifies the webhooks' signatures)`);
        say();
        say(`  curl -u "${apiKey}:${generated ? apiSecret : '$OPENDISPATCH_API_SECRET'}" ${server.url}/v2/applications`);
      }
      out();
      out(routingTableText(config));
      out('Ctrl-C stops the server.');

      // Graceful: no new work is claimed, jobs in flight finish and are recorded, providers
      // unbind, the node leaves. An operator who cannot wait sends a second signal.
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) {
          server.log.warn({ signal }, 'second signal: exiting at once; jobs in flight run again elsewhere or at the next start');
          process.exit(1);
        }
        stopping = true;
        server.log.info({ signal }, 'stopping: jobs in flight finish first (a second signal exits at once)');
        server.close().then(
          () => process.exit(0),
          (error: unknown) => {
            server.log.error({ err: error }, 'stopping failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
}
