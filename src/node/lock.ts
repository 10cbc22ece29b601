// An exclusive lock on a data directory held by the kernel: SQLite's own
// EXCLUSIVE lock (an fcntl record lock) on a small lock database, kept for as
// long as the connection is open. A process that dies, by kill -9 too, loses
// it with its file descriptors: nothing stale is ever left to take over.
import { closeSync, constants, openSync } from 'node:fs';
import Database from 'better-sqlite3';

/** Locks this process holds; also keeps each connection reachable (a collected connection closes, and its lock goes with it). */
const held = new Map<string, Database.Database>();

export type LockResult = { ok: true; release: () => void } | { ok: false; busy: true };

/**
 * Takes the lock on `path` (created 0600 if missing) or reports it busy.
 * A file system that refuses the lock file (EROFS, EACCES, ENOSPC …) throws
 * the errno error itself, so callers name the cause.
 */
export function tryLock(path: string): LockResult {
  // fcntl locks belong to the process: the kernel would not refuse a second connection of ours.
  if (held.has(path)) return { ok: false, busy: true };
  closeSync(openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600));
  const conn = new Database(path, { timeout: 0 });
  try {
    conn.pragma('journal_mode = OFF');
    conn.exec('BEGIN EXCLUSIVE');
  } catch (e) {
    conn.close();
    const code = (e as { code?: unknown }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return { ok: false, busy: true };
    throw e;
  }
  held.set(path, conn);
  let released = false;
  return {
    ok: true,
    release: () => {
      if (released) return;
      released = true;
      held.delete(path);
      try {
        conn.exec('ROLLBACK');
      } finally {
        conn.close();
      }
    },
  };
}
