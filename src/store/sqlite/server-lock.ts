import Database from 'better-sqlite3';
import { OpenDispatchError } from '../../core/errors.js';

/**
 * One server per SQLite file: a second would free the first's leases at its start and run its
 * jobs again at once. The running server holds an exclusive SQLite lock on a file beside the
 * database for as long as it lives; the operating system drops the lock when the process ends,
 * however it ends (SIGKILL included), so a restart never waits for a stale lock. CLI commands
 * do not take it: they may use the database while the server runs.
 */
export class ServerLock {
  private constructor(private readonly lock: Database.Database) {}

  /** Takes the lock of the database at `databasePath`, or throws OD_DATABASE_IN_USE at once. */
  static take(databasePath: string): ServerLock {
    const lock = new Database(`${databasePath}.lock`, { timeout: 0 });
    try {
      lock.pragma('locking_mode = EXCLUSIVE');
      lock.exec('BEGIN EXCLUSIVE');
      return new ServerLock(lock);
    } catch (error) {
      lock.close();
      if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
      throw new OpenDispatchError('OD_DATABASE_IN_USE', `another OpenDispatch server is using ${databasePath}; stop it first (one server per SQLite database)`);
    }
  }

  release(): void {
    if (this.lock.open) this.lock.close();
  }
}
