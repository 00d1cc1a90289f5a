import type { Logger } from 'pino';
import type { ProviderRegistry } from '../channels/provider-registry.js';
import type { SandboxNetwork } from '../channels/sandbox/sandbox-network.js';
import type { Clock } from '../core/clock.js';
import type { UseCases } from '../engine/use-cases/index.js';

/** What the HTTP layer is given to work with; built once by the server. */
export interface Services {
  useCases: UseCases;
  clock: Clock;
  log: Logger;
  /** The providers, whose adapters verify and parse their own callbacks at /webhooks/{provider}. */
  providers: ProviderRegistry;
  /** The sandbox network behind /sandbox/… */
  sandbox: SandboxNetwork;
  /** Present with the virtual clock: advances it one due time at a time, running what comes due. */
  advanceClock?: (ms: number) => Promise<number>;
}
