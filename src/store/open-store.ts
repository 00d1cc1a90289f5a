import type { DatabaseConfig } from '../config/config.js';
import type { Store } from './store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

export async function openStore(database: DatabaseConfig): Promise<Store> {
  switch (database.kind) {
    case 'sqlite':
      return new SqliteStore({ path: database.path, synchronous: database.synchronous });
    case 'postgres':
      throw new Error('PostgreSQL support arrives with the scale-out issue; use sqlite:PATH for now');
  }
}
