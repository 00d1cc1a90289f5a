import type { Logger } from 'pino';
import type { ProviderRegistry } from '../channels/provider-registry.js';
import type { SandboxNetwork } from '../channels/sandbox/sandbox-network.js';
import type { Clock } from '../core/clock.js';
import type { UseCases } from '../engine/use-cases/index.js';
import type { AuthLimits } from './authenticate.js';

export interface HttpLimits {
  /** A client must have sent its headers this long after connecting (or after its previous request). */
  headersTimeoutMs: number;
  /** … and its whole request this long after. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: number;
  /** Connections beyond this many at once are refused. */
  maxConnections: number;
  /** Proxies whose X-Forwarded-For names the client (addresses or CIDR networks); none by default. */
  trustProxy: readonly string[];
}

/** What the HTTP layer is given to work with; built once by the server. */
export interface Services {
  useCases: UseCases;
  clock: Clock;
  log: Logger;
  /** The providers, whose adapters verify and parse their own callbacks at /webhooks/{provider}. */
  providers: ProviderRegistry;
  /** The sandbox network behind /sandbox/… */
  sandbox: SandboxNetwork;
  /** Limits on what one client connection may hold (config `http`). */
  http: HttpLimits;
  auth: AuthLimits;
  /** Present with the virtual clock: advances it one due time at a time, running what comes due. */
  advanceClock?: (ms: number) => Promise<number>;
}
