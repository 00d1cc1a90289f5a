import { CHANNELS } from '../core/channel.js';
import { BUILT_IN_SANDBOX } from '../core/routing.js';
import type { Config } from './config.js';

/**
 * The table of channel → routes → providers that `config:check` and the start print: provider
 * names and types only, never a setting (secrets live there).
 */
export function routingTableText(config: Pick<Config, 'providers' | 'routing'>): string {
  const typeOf = (name: string) => (name === BUILT_IN_SANDBOX ? 'sandbox, built in' : (config.providers[name]?.type ?? '?'));
  const providers = (names: readonly string[]) => names.map((name) => `${name} (${typeOf(name)})`).join(', ');
  const rows: Array<[string, string, string]> = [];
  for (const channel of CHANNELS) {
    const routes = config.routing.routes[channel] ?? [];
    routes.forEach((route, index) => rows.push([channel, route.prefixes.length > 0 ? `prefix ${route.prefixes.join(', ')}` : index === 0 ? 'any destination' : 'any other', providers(route.via)]));
    if (routes.some((route) => route.prefixes.length === 0)) continue;
    const rest = routes.length === 0 ? 'any destination' : 'any other';
    rows.push([channel, rest, config.routing.unrouted === undefined ? 'none: rejected 1250 (Unroutable)' : providers([config.routing.unrouted])]);
  }
  const header: [string, string, string] = ['channel', 'route', 'providers'];
  const width = (column: 0 | 1) => Math.max(...[header, ...rows].map((row) => row[column].length));
  return [header, ...rows].map(([channel, route, via]) => `${channel.padEnd(width(0))}  ${route.padEnd(width(1))}  ${via}`).join('\n');
}
