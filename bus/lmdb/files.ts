/**
 * The LMDB environment of one data directory, shared by every store handle of this process that opens it (nodes of
 * one embedded process, tests), as MemoryKvServer's state is: one environment, one write queue, one lock file, one
 * set of bucket states. Closed when its last handle closes.
 *
 * Group commit: one batch in flight at a time. Writes queued meanwhile, in any bucket, wait for it to commit and then
 * go together in the next: with `overlappingSync: false` lmdb-js commits (and fsyncs) one transaction after the other
 * anyway (it merges batches queued behind a running commit into one transaction; this hands it one batch instead of
 * several). The first writes after an idle moment go at the end of their event turn (a microtask), as before.
 */
import { mkdirSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { Clock } from '../../common/clock.js';
import { ClosedError, GatehouseError, ErrorCode, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { BucketState, type LmdbFiles, type WriteOp } from './bucket.js';
import { lockDataDir, type DirLock } from './lock.js';

/**
 * Transactions committed by this process's environments, the writes they held and the milliseconds from hand-over to
 * commit, summed: what bench store reports per durable turn (writes a transaction, how long one takes). Three
 * additions a transaction.
 */
export const commitStats = { transactions: 0, writes: 0, commitMs: 0 };

export class LmdbEnv implements LmdbFiles {
  failure: unknown = null;
  closing = false;
  refs = 0;
  private readonly states = new Map<string, BucketState>();
  /** Buckets with writes queued for the next transaction. */
  private readonly pending = new Set<BucketState>();
  /** A transaction is in flight, or a microtask will start one: queued writes wait for it. */
  private busy = false;

  constructor(
    readonly dir: string,
    readonly root: RootDatabase<Buffer, string>,
    readonly data: Database<Buffer, string>,
    readonly meta: Database<Buffer, string>,
    private readonly lock: DirLock,
    readonly clock: Clock,
    readonly log: Logger,
  ) {}

  /** The shared state of a bucket; the first opener's TTL holds (as JetStream and the memory store). */
  state(full: string, ttlMs: number): BucketState {
    let s = this.states.get(full);
    if (!s) this.states.set(full, (s = new BucketState(full, ttlMs, this, this.clock, this.log)));
    return s;
  }

  /** A closing handle's watchers stop; other handles' go on. */
  dropWatchers(owner: object): void {
    for (const s of this.states.values()) for (const w of s.watchers) if (w.owner === owner) s.watchers.delete(w);
  }

  assertWritable(): void {
    if (this.closing) throw new ClosedError(`store ${this.dir} closed`);
    if (this.failure !== null) {
      throw new GatehouseError(
        ErrorCode.StoreError,
        `store ${this.dir} refused the write: an earlier commit failed (${errorMessage(this.failure)}); restart to reopen`,
        { cause: this.failure },
      );
    }
  }

  fail(e: unknown): void {
    if (this.failure !== null) return;
    this.failure = e;
    this.log.error({ err: e, dir: this.dir }, 'LMDB commit failed: the store refuses writes until reopened');
  }

  wantCommit(state: BucketState): void {
    this.pending.add(state);
    if (this.busy) return;
    this.busy = true;
    queueMicrotask(() => this.commit());
  }

  /** Hands every queued write to lmdb-js in one batch (one transaction); the next starts when it has committed. */
  private commit(): void {
    if (this.pending.size === 0) {
      this.busy = false;
      return;
    }
    const batches: Array<[BucketState, WriteOp[]]> = [];
    let writes = 0;
    for (const s of this.pending) {
      const batch = s.takeQueued();
      writes += batch.length;
      batches.push([s, batch]);
    }
    this.pending.clear();
    const start = performance.now();
    let done: Promise<boolean>;
    try {
      done = this.root.batch(() => {
        for (const [s, batch] of batches) s.putAll(batch);
      });
    } catch (e) {
      done = Promise.reject(e);
    }
    done.then(
      () => {
        commitStats.transactions++;
        commitStats.writes += writes;
        commitStats.commitMs += performance.now() - start;
        this.commit(); // the writes queued meanwhile start their fsync before this batch's callers run
        for (const [s, batch] of batches) s.committed(batch);
      },
      (e: unknown) => {
        this.fail(e);
        this.commit();
        for (const [s, batch] of batches) s.committed(batch, true, e);
      },
    );
  }

  /** Waits for queued writes (lmdb-js close does), then releases the directory. */
  async close(): Promise<void> {
    // Writes still queued go to disk: into lmdb-js's queue now, behind a transaction in flight if there is one.
    if (this.pending.size > 0) this.commit();
    this.closing = true;
    for (const s of this.states.values()) s.stop();
    this.states.clear();
    try {
      await this.root.close();
    } finally {
      this.lock.release();
    }
  }
}

const opened = new Map<string, LmdbEnv>();
/** Directories whose environment is closing: a new open waits for the close (LMDB must not be opened twice). */
const closing = new Map<string, Promise<void>>();

export async function acquireEnv(path: string, clock: Clock, log: Logger): Promise<LmdbEnv> {
  mkdirSync(path, { recursive: true });
  const dir = realpathSync(resolve(path));
  await closing.get(dir);
  let env = opened.get(dir);
  if (!env) {
    const lock = lockDataDir(dir, log); // throws StoreLockedError when another process holds it
    try {
      // overlappingSync off: the commit promise then resolves after the fsync (see bucket.ts). encoding 'binary': we
      // lay out the bytes ourselves (record.ts). maxDbs: data and meta. noSubdir false: lmdb-js takes a path whose last
      // part has a dot (mktemp's /tmp/tmp.X, ./data.old) for a file and fails with "Is a directory"; ours is always one.
      const root = open<Buffer, string>({ path: dir, encoding: 'binary', overlappingSync: false, maxDbs: 4, noSubdir: false });
      const data = root.openDB<Buffer, string>({ name: 'data', encoding: 'binary' });
      const meta = root.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' });
      env = new LmdbEnv(dir, root, data, meta, lock, clock, log);
    } catch (e) {
      lock.release();
      throw new GatehouseError(ErrorCode.StoreError, `cannot open the LMDB store in ${dir}: ${errorMessage(e)}`, {
        cause: e,
      });
    }
    opened.set(dir, env);
    log.debug({ dir }, 'LMDB store opened'); // the banner names the data directory
  }
  env.refs++;
  return env;
}

export async function releaseEnv(env: LmdbEnv): Promise<void> {
  if (--env.refs > 0) return;
  opened.delete(env.dir);
  const done = env.close().finally(() => closing.delete(env.dir));
  closing.set(env.dir, done);
  await done;
}
