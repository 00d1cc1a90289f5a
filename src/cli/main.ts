import { Command, CommanderError } from 'commander';
import { isOpenDispatchError } from '../core/errors.js';
import { registerAccountCreate } from './commands/account-create.js';
import { registerAppCreate } from './commands/app-create.js';
import { registerConfigCheck } from './commands/config-check.js';
import { registerDemo } from './commands/demo.js';
import { registerJwtGenerate } from './commands/jwt-generate.js';
import { registerLinkApp } from './commands/link-app.js';
import { registerStart } from './commands/start.js';
import { registerWebhookListen } from './commands/webhook-listen.js';


export async function main(argv: string[]): Promise<void> {
  const program = new Command('opendispatch')
    .description('Self-hosted multi-channel messaging gateway (Nexmo Dispatch, Messages and Applications APIs)')
    .showHelpAfterError()
    .exitOverride();
  registerStart(program);
  registerAccountCreate(program);
  registerAppCreate(program);
  registerJwtGenerate(program);
  registerLinkApp(program);
  registerWebhookListen(program);
  registerDemo(program);
  registerConfigCheck(program);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode);
    // Our own errors are the user's to fix (a flag, the config, an existing account): one line, exit 1.
    if (isOpenDispatchError(error)) {
      process.stderr.write(`opendispatch: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
