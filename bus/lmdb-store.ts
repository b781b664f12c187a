/**
 * On-disk Store for embedded mode, on LMDB (the `lmdb` package: crash-safe, MVCC, prebuilt binaries in the registry
 * package). Same contract as JetStream KV and the memory store (test/contract/store.contract.test.ts): per-bucket
 * revisions that only grow, compare-and-set, watch, TTL on an injected clock, listing by pattern, prefix isolation.
 *
 * One process per data directory (bus/lmdb/lock.ts: a second one gets StoreLockedError naming the holder's pid);
 * within a process, every handle on a directory shares one environment (bus/lmdb/files.ts). Layout on disk:
 * bus/lmdb/record.ts. Writes, durability, watch and expiry: bus/lmdb/bucket.ts; the handle: bus/lmdb/handle.ts.
 */
import type { Clock } from '../common/clock.js';
import { systemClock } from '../common/clock.js';
import { isMainThread } from 'node:worker_threads';
import { ClosedError, ErrorCode, GatehouseError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { silentLogger } from '../common/logger.js';
import { LmdbBucket } from './lmdb/handle.js';
import { acquireEnv, releaseEnv, type LmdbEnv } from './lmdb/files.js';
import { type BucketOptions, type KvBucket, type Store, assertBucketName } from './store.js';

export { LOCK_FILE } from './lmdb/lock.js';

export interface LmdbStoreOptions {
  /** The data directory (created if missing). Config `store.path`, default `./data`. */
  path: string;
  /** Scopes bucket names, as the NATS prefix does: `<prefix>_<bucket>`. */
  prefix: string;
  /** Drives TTL expiry. Shared by all handles on the directory: the first opener's counts. */
  clock?: Clock;
  log?: Logger;
}

/** The LMDB store also lists its buckets (gatehouse export walks them). */
export interface LmdbStoreHandle extends Store {
  bucketNames(): Promise<string[]>;
}

class LmdbStore implements LmdbStoreHandle {
  readonly kind = 'lmdb' as const;
  closed = false;

  constructor(
    private readonly env: LmdbEnv,
    private readonly prefix: string,
  ) {}

  async bucket(name: string, opts?: BucketOptions): Promise<KvBucket> {
    assertBucketName(name);
    if (this.closed) throw new ClosedError(`store closed (bucket ${name})`);
    return new LmdbBucket(name, this.env.state(`${this.prefix}_${name}`, opts?.ttlMs ?? 0), this);
  }

  /** This prefix's buckets that were ever written (each has a revision counter in the meta database). */
  async bucketNames(): Promise<string[]> {
    const head = `${this.prefix}_`;
    const out: string[] = [];
    for (const full of this.env.meta.getKeys({ start: head })) {
      if (!full.startsWith(head)) break;
      out.push(full.slice(head.length));
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.env.dropWatchers(this);
    await releaseEnv(this.env);
  }
}

/**
 * Opens the store in `path`. Rejects with StoreLockedError (code STORE_LOCKED) while another live process holds the
 * directory; a lock left by a dead process is taken over (logged at warn).
 */
export async function openLmdbStore(opts: LmdbStoreOptions): Promise<LmdbStoreHandle> {
  // A worker thread is a separate JS realm: it would get its own environment map, revision counters and in-flight
  // compare-and-set state while lmdb-js shares the native environment (checked with lmdb 3.5: a worker's open() of
  // the main thread's path succeeds and each side reads the other's puts), and our lock file names this same pid, so
  // the lock would be taken over as stale. Two writers handing out the same revisions: refused instead. Embedded mode
  // runs its nodes in the main thread (`--threads` needs NATS).
  if (!isMainThread) {
    throw new GatehouseError(
      ErrorCode.StoreError,
      `the LMDB store in ${opts.path} opens in the main thread only (a worker thread would be a second writer); ` +
        'run embedded nodes in the main thread, or use NATS for worker threads',
    );
  }
  const env = await acquireEnv(opts.path, opts.clock ?? systemClock, opts.log ?? silentLogger);
  return new LmdbStore(env, opts.prefix);
}
