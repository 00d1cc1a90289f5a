import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { routingTableText } from '../../config/routing-table-text.js';

/** `opendispatch config:check [--config FILE]`: every problem (exit 1), or the routing table. */
export function registerConfigCheck(program: Command): void {
  program
    .command('config:check')
    .description('check the configuration and print channel → routes → providers (exit 1 on an error)')
    .option('--config <file>', 'config file, JSON or YAML (env OPENDISPATCH_CONFIG)', undefined)
    .action((flags: { config?: string }) => {
      // An invalid configuration throws a ConfigError listing every problem: main prints it, exit 1.
      const config = loadConfig({ config: flags.config });
      process.stdout.write(`${routingTableText(config)}\n`);
    });
}
