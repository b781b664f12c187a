/**
 * One process per data directory. LMDB itself lets several processes share an environment, but the LMDB store keeps
 * per-bucket revision counters and not-yet-committed writes in this process's memory (bus/lmdb/bucket.ts): a second
 * writer would hand out the same revisions. So the directory is claimed with a lock file holding the owner's pid,
 * created with O_EXCL. A lock whose pid is dead (the owner was killed with -9) is taken over, and that is logged.
 *
 * Limits: a stale lock whose pid was meanwhile reused by an unrelated process is refused (the error names the file to
 * remove); two processes taking over the same stale lock at the same instant can both succeed (a window of one
 * unlink and one open, at start-up only).
 */
import { openSync, readFileSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { GatehouseError, ErrorCode, StoreLockedError, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';

export const LOCK_FILE = 'gatehouse.lock';

export interface DirLock {
  readonly file: string;
  /** Removes the lock file if it is still ours. */
  release(): void;
}

interface LockInfo {
  pid: number;
  host?: string;
  since?: string;
}

export function lockDataDir(dir: string, log: Logger): DirLock {
  const file = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new GatehouseError(ErrorCode.StoreError, `cannot create lock file ${file}: ${errorMessage(e)}`, { cause: e });
      }
      const holder = readLock(file);
      if (holder === null) continue; // removed between our open and our read: try again
      // Our own pid is stale too: the caller shares one environment per directory within a process and only locks a
      // directory it has not opened, so it is a previous process's (containers restart with the same small pids).
      if (holder.pid > 0 && holder.pid !== process.pid && isAlive(holder.pid)) {
        throw new StoreLockedError(
          dir,
          holder.pid,
          `data directory ${dir} is in use by process ${holder.pid}` +
            `${holder.since ? `, which opened it at ${holder.since}` : ''}. ` +
            `Stop that process, or use another store.path; if no gatehouse runs as pid ${holder.pid}, remove ${file}`,
        );
      }
      log.warn({ file, stalePid: holder.pid }, `taking over the stale lock of process ${holder.pid} (not running)`);
      try {
        unlinkSync(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw storeError(file, err);
      }
      continue;
    }
    const info: LockInfo = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
    try {
      writeSync(fd, JSON.stringify(info) + '\n');
    } finally {
      closeSync(fd);
    }
    return {
      file,
      release() {
        if (readLock(file)?.pid !== process.pid) return;
        try {
          unlinkSync(file);
        } catch {
          // Already gone: nothing to release.
        }
      },
    };
  }
  throw new GatehouseError(ErrorCode.StoreError, `cannot take the lock ${file}: it keeps changing (another process starting?)`);
}

/** The holder, or null when the file is gone. A file we cannot parse (a crash mid-write) counts as stale: pid 0. */
function readLock(file: string): LockInfo | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw storeError(file, e);
  }
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    return typeof v.pid === 'number' ? (v as LockInfo) : { pid: 0 };
  } catch {
    return { pid: 0 };
  }
}

/** Signal 0 checks existence without sending anything; EPERM means it exists under another user. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function storeError(file: string, e: unknown): GatehouseError {
  return new GatehouseError(ErrorCode.StoreError, `lock file ${file}: ${errorMessage(e)}`, { cause: e });
}
