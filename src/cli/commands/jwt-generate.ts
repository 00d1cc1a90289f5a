import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { generateApplicationJwt } from '../generate-jwt.js';
import { UsageError } from '../usage-error.js';

export function registerJwtGenerate(program: Command): void {
  program
    .command('jwt:generate')
    .description("print an RS256 JWT for an application, signed with its private key")
    .requiredOption('--private-key <file>', 'the private key file written by app:create')
    .requiredOption('--application-id <id>', 'the application id')
    .option('--ttl <seconds>', 'lifetime in seconds (max 86400)', '900')
    .action(async (flags: { privateKey: string; applicationId: string; ttl: string }) => {
      const ttlSeconds = Number(flags.ttl);
      if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 86400) throw new UsageError('--ttl must be an integer from 1 to 86400');
      let privateKeyPem: string;
      try {
        privateKeyPem = readFileSync(flags.privateKey, 'utf8');
      } catch (error) {
        throw new UsageError(`cannot read --private-key ${flags.privateKey}: ${(error as Error).message}`);
      }
      try {
        process.stdout.write(`${await generateApplicationJwt({ privateKeyPem, applicationId: flags.applicationId, ttlSeconds })}\n`);
      } catch (error) {
        throw new UsageError(`cannot sign with ${flags.privateKey}: ${(error as Error).message}`);
      }
    });
}
