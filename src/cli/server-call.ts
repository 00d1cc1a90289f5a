import type { Command } from 'commander';
import { commandDefaults } from '../config/config.js';
import { UsageError } from './usage-error.js';

/** The flags of every command that calls a running server's API with an account's credentials. */
export interface ServerFlags {
  url: string;
  apiKey?: string;
  apiSecret?: string;
}

export function withServerFlags(command: Command): Command {
  const defaults = commandDefaults();
  return command
    .option('--url <url>', 'server URL (env OPENDISPATCH_URL)', defaults.url ?? 'http://127.0.0.1:3000')
    .option('--api-key <key>', 'account api key (env OPENDISPATCH_API_KEY)', defaults.apiKey)
    .option('--api-secret <secret>', 'account api secret (env OPENDISPATCH_API_SECRET)', defaults.apiSecret);
}

/**
 * One call to the server with the account's Basic credentials. An unreachable server, or an
 * answer other than `expected`, is a one-line error with the server's detail and the fields it named.
 */
export async function callServer(flags: ServerFlags, call: { method: string; path: string; body?: unknown; expected: number }): Promise<Record<string, any>> {
  if (!flags.apiKey || !flags.apiSecret) throw new UsageError('give --api-key and --api-secret (or OPENDISPATCH_API_KEY / OPENDISPATCH_API_SECRET)');
  const response = await fetch(new URL(call.path, flags.url), {
    method: call.method,
    headers: {
      authorization: `Basic ${Buffer.from(`${flags.apiKey}:${flags.apiSecret}`).toString('base64')}`,
      accept: 'application/json',
      ...(call.body !== undefined && { 'content-type': 'application/json' }),
    },
    body: call.body === undefined ? undefined : JSON.stringify(call.body),
  }).catch((error: Error) => {
    throw new UsageError(`cannot reach ${flags.url}: ${error.cause instanceof Error ? error.cause.message : error.message}`);
  });
  const answer = (await response.json().catch(() => ({}))) as Record<string, any>;
  if (response.status !== call.expected) {
    // One line, as every usage error: the fields the server named follow its detail.
    const named = (answer.invalid_parameters as Array<{ name: string; reason: string }> | undefined)?.map((p) => `${p.name}: ${p.reason}`).join('; ');
    throw new UsageError(`the server answered ${response.status}: ${answer.detail ?? answer.title ?? 'no details'}${named ? ` (${named})` : ''}`);
  }
  return answer;
}
