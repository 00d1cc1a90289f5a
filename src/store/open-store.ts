import { ConfigError, type DatabaseConfig } from '../config/config.js';
import type { Store } from './store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

export async function openStore(database: DatabaseConfig): Promise<Store> {
  switch (database.kind) {
    case 'sqlite':
      return new SqliteStore({ path: database.path, synchronous: database.synchronous });
    case 'postgres':
      throw new ConfigError('database', 'postgres:// is not supported yet (it comes with the scale-out work); use sqlite:PATH');
  }
}
