/**
 * One bucket of the LMDB store: its revision counter, the writes in flight, its watchers and its expiry sweep,
 * shared by every handle on it (like MemoryKvServer's state). The `KvBucket` handle over it: bus/lmdb/handle.ts.
 *
 * Writes. This process is the only writer of its data directory (bus/lmdb/lock.ts), so the authoritative state of a
 * key is its newest write in flight, else its newest durable write remembered here (a bounded number of keys), else
 * what LMDB has committed. Compare-and-set checks that state synchronously,
 * takes the next revision and queues the write; lmdb-js applies queued writes in call order, so the check and the
 * write cannot be separated by another writer. No read-modify-write transaction is needed.
 *
 * Group commit. The environment hands lmdb-js one batch at a time (bus/lmdb/files.ts): the writes of every bucket
 * queued while a commit is in flight go together into the next one, one fsync for all of them. Before, each event
 * turn's writes went as their own batch (~10 writes each on durable turns, 64 asks in flight) and lmdb-js merged the
 * batches queued behind a running commit into its next transaction: strace counted ~63 writes an fdatasync then, 64
 * now. What changed is fewer batch hand-overs (less CPU a write), not fewer fsyncs.
 *
 * Acknowledged means durable: a write's promise resolves once its transaction is committed with the environment
 * opened `overlappingSync: false`, where LMDB's commit includes the fsync. With lmdb-js's Linux default
 * (`overlappingSync: true`) the put promise resolves at commit, before the flush: measured 11 648 of 11 648 writes
 * resolved before their `flushed` promise (64 in flight, 1 KiB values). Checked with strace on this store: every
 * acknowledgement follows an fdatasync of data.mdb issued after the call, and 32 concurrent puts shared one fdatasync.
 *
 * Watchers and `lastRevision` see a write once it is durable, in revision order; `get`, `keys` and `entries` read
 * committed data. Expired entries read as absent, are removed lazily when met, and by a sweep on the injected clock
 * that looks at a bounded number of entries each time.
 */
import type { Database, RootDatabase } from 'lmdb';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { GatehouseError, ErrorCode, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { matches } from '../subject-match.js';
import type { KvChange, KvEntry, KvWatcher, WatchOptions } from '../store.js';
import { bucketRange, dataKey, decodeRec, decodeSeq, encodeRec, encodeSeq, keyOf, peekRec } from './record.js';

/** What a bucket needs of its environment (bus/lmdb/files.ts). */
export interface LmdbFiles {
  readonly dir: string;
  readonly root: RootDatabase<Buffer, string>;
  readonly data: Database<Buffer, string>;
  readonly meta: Database<Buffer, string>;
  /** The first failed commit: later writes are refused (in-flight revisions may be lost), reopen to go on. */
  readonly failure: unknown;
  readonly closing: boolean;
  assertWritable(): void;
  fail(e: unknown): void;
  /** `state` has writes queued: the environment takes them (`takeQueued`, `putAll`) into its next transaction. */
  wantCommit(state: BucketState): void;
}

/** Entries one sweep looks at, so a large TTL bucket never holds the event loop for long (~1 µs each). */
const SWEEP_BATCH = 1000;
/** Sweeps run every TTL, but never more often than this. */
const MIN_SWEEP_MS = 1000;

/**
 * Durable writes remembered per generation, so compare-and-set on a hot key reads no B-tree: at most two generations
 * (2 × this many keys). Two maps swapped whole, rather than evicting one key at a time from one Map: deleting from the
 * front of a V8 Map leaves holes every later front-to-back walk steps over (measured: 10 k-key puts went from 18 to 48
 * µs of CPU per write).
 */
const KNOWN_REVISIONS = 8192;

/**
 * One write from the call to its acknowledgement. One object per write: the snapshot path allocates as little as it
 * can. Once durable it lets go of its record and value (see `retire`): an op remembered in `known` survives into the
 * old generation, and a 1 KiB record (with the 8 KiB Buffer pool chunk it is cut from) retained there is freed only by
 * a full collection. Measured before: ~8x the main thread's GC time of raw lmdb doing the same puts.
 */
export class WriteOp {
  done = false;
  error: unknown = undefined;
  resolve: (revision: number) => void = noop;
  reject: (e: unknown) => void = noop;
  constructor(
    readonly key: string,
    readonly revision: number,
    readonly writtenAt: number,
    /** The value written; null for a delete, or for the removal of an expired entry (revision 0). */
    public value: Uint8Array | null,
    public rec: Buffer | null,
    /** Remember the revision once durable: the write was a compare-and-set, whose caller will likely do another. */
    readonly cas: boolean,
  ) {}

  /** Drops what a durable write no longer needs; `value` stays null for a delete, non-null (empty) for a put. */
  retire(): void {
    this.rec = null;
    if (this.value !== null) this.value = EMPTY;
    this.resolve = this.reject = noop;
  }
}

const EMPTY = new Uint8Array(0);
const noop = (): void => undefined;

export interface Watcher {
  owner: object;
  pattern: string;
  fn: (c: KvChange) => void;
  queue: KvChange[];
}

export class BucketState {
  /** Last revision handed out. */
  private seq: number;
  /** Last revision durable and announced: what `lastRevision` answers and watchers have been given. */
  durableSeq: number;
  /** Per key: the newest write in flight. */
  private readonly overlay = new Map<string, WriteOp>();
  /**
   * The newest durable write of recently written keys (see KNOWN_REVISIONS); a key in neither is read from LMDB. In a
   * bucket without TTL just its revision (0: deleted), which allocates nothing per write; with TTL the retired op,
   * whose writtenAt says when it expires.
   */
  private known = new Map<string, WriteOp | number>();
  private knownBefore = new Map<string, WriteOp | number>();
  private readonly inflight: WriteOp[] = [];
  /** Writes not yet handed to lmdb-js: they wait for the environment's next transaction (see takeQueued). */
  private queued: WriteOp[] = [];
  readonly watchers = new Set<Watcher>();
  private sweepTimer: TimerHandle | undefined;
  private sweepFrom: string | undefined;

  constructor(
    readonly full: string,
    readonly ttlMs: number,
    private readonly files: LmdbFiles,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.seq = this.durableSeq = decodeSeq(files.meta.getBinary(full));
    if (ttlMs > 0) this.armSweep();
  }

  stop(): void {
    if (this.sweepTimer !== undefined) this.clock.clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.watchers.clear();
  }

  expired(writtenAt: number): boolean {
    return this.ttlMs > 0 && this.clock.now() - writtenAt >= this.ttlMs;
  }

  /** The live record of `key` as committed, or undefined; an expired one is scheduled for removal. */
  read(key: string): KvEntry | undefined {
    const b = this.files.data.getBinary(dataKey(this.full, key));
    if (!b) return undefined;
    const r = decodeRec(b);
    if (this.expired(r.writtenAt)) {
      this.removeExpired(key);
      return undefined;
    }
    return { key, value: r.value, revision: r.revision };
  }

  /** The revision a compare-and-set compares with: the newest write in flight, else the committed one; 0 if none. */
  current(key: string): number {
    const p = this.overlay.get(key) ?? this.known.get(key) ?? this.knownBefore.get(key);
    if (typeof p === 'number') return p;
    if (p) return p.value === null || this.expired(p.writtenAt) ? 0 : p.revision;
    // getBinaryFast: a reused buffer, valid until the next read; only the header is looked at.
    const b = this.files.data.getBinaryFast(dataKey(this.full, key));
    if (!b) return 0;
    const h = peekRec(b);
    if (this.expired(h.writtenAt)) {
      this.removeExpired(key);
      return 0;
    }
    return h.revision;
  }

  /**
   * Queues a put (value) or delete (null); resolves with its revision once durable. `cas`: the caller compared
   * revisions (create, update, delete) and will likely again, so the revision is remembered (see `known`); a plain put's
   * is not: remembering it kept every put's key string alive for the next 8-16 k writes, into V8's old generation.
   */
  write(key: string, value: Uint8Array | null, cas: boolean): Promise<number> {
    this.files.assertWritable();
    const revision = ++this.seq;
    const writtenAt = this.clock.now();
    const op = new WriteOp(key, revision, writtenAt, value, value ? encodeRec(revision, writtenAt, value) : null, cas);
    this.overlay.set(key, op);
    const promise = new Promise<number>((resolve, reject) => {
      op.resolve = resolve;
      op.reject = reject;
    });
    this.inflight.push(op);
    this.queued.push(op);
    if (this.queued.length === 1) this.files.wantCommit(this);
    return promise;
  }

  /** Takes the writes queued for the environment's next transaction (see `putAll`). */
  takeQueued(): WriteOp[] {
    const batch = this.queued;
    this.queued = [];
    return batch;
  }

  /**
   * Called inside the environment's batch with what `takeQueued` gave: the writes and one write of the bucket's counter.
   * The entries and the counter commit together, so a revision is never handed out twice after a crash, and a counter
   * write per entry would have cost the write thread a second B-tree update per write.
   */
  putAll(batch: WriteOp[]): void {
    if (batch.length === 0) return;
    const { data, meta } = this.files;
    for (const w of batch) void (w.rec ? data.put(dataKey(this.full, w.key), w.rec) : data.remove(dataKey(this.full, w.key)));
    void meta.put(this.full, encodeSeq(batch[batch.length - 1]!.revision));
  }

  /** The transaction holding `batch` (from takeQueued) committed, or failed with `error` when `failed`. */
  committed(batch: WriteOp[], failed = false, error?: unknown): void {
    for (const w of batch) {
      if (failed) w.error = error ?? new Error('commit failed');
      this.settle(w);
    }
  }

  /** Transactions commit in queue order; settling in order keeps watch events in revision order regardless. */
  private settle(op: WriteOp): void {
    op.done = true;
    while (this.inflight.length > 0 && this.inflight[0]!.done) {
      const it = this.inflight.shift()!;
      const key = it.key;
      if (this.overlay.get(key) === it) this.overlay.delete(key);
      if (it.error !== undefined) {
        // What the key holds now is unknown here: the next compare-and-set reads LMDB.
        this.forget(key);
        it.reject(
          new GatehouseError(ErrorCode.StoreError, `write ${this.full}/${key} failed: ${errorMessage(it.error)}`, {
            cause: it.error,
          }),
        );
        continue;
      }
      this.durableSeq = it.revision;
      if (it.cas) this.remember(key, it);
      else this.forget(key); // a revision remembered from an earlier compare-and-set is stale now
      if (this.watchers.size > 0) {
        const change: KvChange = { key, op: it.value ? 'put' : 'delete', value: it.value ?? new Uint8Array(0), revision: it.revision };
        for (const w of this.watchers) if (matches(w.pattern, key)) this.schedule(w, change);
      }
      const resolve = it.resolve;
      it.retire();
      resolve(it.revision);
    }
  }

  private remember(key: string, op: WriteOp): void {
    if (this.known.size >= KNOWN_REVISIONS && !this.known.has(key)) {
      this.knownBefore = this.known;
      this.known = new Map();
    }
    this.known.set(key, this.ttlMs > 0 ? op : op.value === null ? 0 : op.revision);
  }

  private forget(key: string): void {
    this.known.delete(key);
    this.knownBefore.delete(key);
  }

  /** Removes an expired entry: no revision, no watch event (as JetStream). Only when no write to it is in flight. */
  private removeExpired(key: string): void {
    if (this.overlay.has(key) || this.files.failure !== null || this.files.closing) return;
    this.forget(key);
    const marker = new WriteOp(key, 0, 0, null, null, false);
    this.overlay.set(key, marker);
    const clear = () => {
      if (this.overlay.get(key) === marker) this.overlay.delete(key);
    };
    this.files.data.remove(dataKey(this.full, key)).then(clear, (e: unknown) => {
      clear();
      this.log.warn({ err: e, bucket: this.full, key }, 'removing an expired entry failed');
    });
  }

  /**
   * Calls `fn` with the stored record of each committed live entry matching `pattern`. Keys fixed up to the first
   * wildcard narrow the range: listing `lease.city.*` reads only that part of the bucket.
   */
  scan(pattern: string, fn: (key: string, record: Uint8Array) => void): void {
    const range = bucketRange(this.full);
    const fixed = literalPrefix(pattern);
    if (fixed.exact) {
      const b = this.files.data.getBinary(dataKey(this.full, fixed.prefix));
      if (!b) return;
      if (this.expired(peekRec(b).writtenAt)) this.removeExpired(fixed.prefix);
      else fn(fixed.prefix, b);
      return;
    }
    const start = dataKey(this.full, fixed.prefix);
    for (const { key, value } of this.files.data.getRange({ start, end: range.end })) {
      const stored = key as string;
      if (!stored.startsWith(start)) break;
      const k = keyOf(this.full, stored);
      const h = peekRec(value);
      if (this.expired(h.writtenAt)) {
        this.removeExpired(k);
        continue;
      }
      if (matches(pattern, k)) fn(k, value);
    }
  }

  watch(owner: object, fn: (c: KvChange) => void, opts?: WatchOptions): KvWatcher {
    const w: Watcher = { owner, pattern: opts?.key ?? '>', fn, queue: [] };
    if (opts?.initial) {
      // Writes committed but not yet settled are left out: they arrive as changes right after.
      const current: KvChange[] = [];
      this.scan(w.pattern, (key, b) => {
        const r = decodeRec(b);
        if (r.revision > this.durableSeq) return;
        current.push({ key, op: 'put', value: r.value.slice(), revision: r.revision });
      });
      current.sort((a, b) => a.revision - b.revision);
      for (const c of current) this.schedule(w, c);
    }
    this.watchers.add(w);
    return { stop: () => void this.watchers.delete(w) };
  }

  /** Watch callbacks run later and in order, as they would arriving from a server (as MemoryStore's). */
  private schedule(w: Watcher, c: KvChange): void {
    w.queue.push(c);
    if (w.queue.length !== 1) return;
    queueMicrotask(() => {
      const batch = w.queue.splice(0);
      for (const change of batch) {
        if (!this.watchers.has(w)) return; // stopped meanwhile
        try {
          w.fn(change);
        } catch (e) {
          this.log.error({ err: e, bucket: this.full, key: change.key }, 'a store watcher threw');
        }
      }
    });
  }

  private armSweep(): void {
    this.sweepTimer = this.clock.setTimeout(() => {
      try {
        this.sweep();
      } catch (e) {
        this.log.warn({ err: e, bucket: this.full }, 'expiry sweep failed');
      }
      if (this.sweepTimer !== undefined) this.armSweep();
    }, Math.max(this.ttlMs, MIN_SWEEP_MS));
  }

  private sweep(): void {
    if (this.files.closing) return;
    const range = bucketRange(this.full);
    let seen = 0;
    let last: string | undefined;
    for (const { key, value } of this.files.data.getRange({ start: this.sweepFrom ?? range.start, end: range.end })) {
      last = key as string;
      if (++seen > SWEEP_BATCH) break;
      if (this.expired(peekRec(value).writtenAt)) this.removeExpired(keyOf(this.full, last));
    }
    // Resume after the last entry looked at; start over once the end is reached.
    this.sweepFrom = seen > SWEEP_BATCH ? last : undefined;
  }
}

/** The fixed part of a pattern (`lease.city.` for `lease.city.*`), or the key itself when it has no wildcard. */
function literalPrefix(pattern: string): { prefix: string; exact: boolean } {
  const tokens = pattern.split('.');
  const i = tokens.findIndex((t) => t === '*' || t === '>');
  if (i === -1) return { prefix: pattern, exact: true };
  return { prefix: tokens.slice(0, i).map((t) => `${t}.`).join(''), exact: false };
}
