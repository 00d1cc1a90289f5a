import type { WallClock } from '../core/clock.js';
import { OpenDispatchError } from '../core/errors.js';
import type { Store } from './store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

/** Where the data lives, as the configuration compiles `--database`. */
export type StoreLocation = { kind: 'sqlite'; path: string; synchronous: 'NORMAL' | 'FULL' } | { kind: 'postgres'; url: string };

export async function openStore(location: StoreLocation, clock: WallClock): Promise<Store> {
  switch (location.kind) {
    case 'sqlite':
      return new SqliteStore({ path: location.path, synchronous: location.synchronous, clock });
    case 'postgres':
      throw new OpenDispatchError('OD_DATABASE_UNSUPPORTED', 'database postgres:// is not supported yet (it comes with the scale-out work); use sqlite:PATH');
  }
}
