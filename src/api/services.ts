import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { SandboxNetwork } from '../channels/sandbox/sandbox-network.js';
import type { Clock } from '../engine/clock.js';
import type { ReceiptIntake } from '../engine/receipt-intake.js';
import type { Store } from '../store/store.js';

/** What the HTTP layer is given to work with; built once by the server. */
export interface Services {
  config: Readonly<Config>;
  store: Store;
  clock: Clock;
  log: Logger;
  sandbox: SandboxNetwork;
  intake: ReceiptIntake;
  /** Present with the virtual clock: advances it one due time at a time, running what comes due. */
  advanceClock?: (ms: number) => Promise<number>;
}
