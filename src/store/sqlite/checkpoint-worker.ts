/**
 * The thread of BackgroundCheckpoints: its own connection to the server's database, copying the
 * WAL's committed pages into the database file every `intervalMs`. A PASSIVE checkpoint never
 * waits for a lock and never holds up the writer; what it cannot copy now, the next one does.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface CheckpointWorkerData {
  path: string;
  /** The server connection's `synchronous` level (1 NORMAL, 2 FULL): a checkpoint syncs as it would. */
  synchronous: number;
  intervalMs: number;
}

const { path, synchronous, intervalMs } = workerData as CheckpointWorkerData;
const port = parentPort!;
const db = new Database(path, { fileMustExist: true });
db.pragma(`synchronous = ${synchronous}`);

// A checkpoint another connection is running makes this one report busy, not throw. What throws
// (an I/O error) ends the thread: BackgroundCheckpoints reports it once, and the server
// connection checkpoints by itself from then on.
const timer = setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), intervalMs);

port.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  port.close();
});
