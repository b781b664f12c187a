/**
 * Key/value buckets with revisions: the durable side of gatehouse (actor snapshots, shard leases, membership,
 * sessions). Three implementations pass one contract suite (test/contract/store.contract.test.ts): JetStream KV
 * (bus/nats/nats-store.ts), in-memory (bus/memory-store.ts) and on-disk LMDB for embedded mode (bus/lmdb-store.ts).
 *
 * Revisions are per-bucket sequence numbers that only grow. Every write that says which revision it expects is a
 * compare-and-set; that revision is the fencing token for leases and snapshots.
 */
import { GatehouseError, ErrorCode } from '../common/errors.js';

export interface KvEntry {
  key: string;
  value: Uint8Array;
  revision: number;
}

export interface KvChange {
  key: string;
  op: 'put' | 'delete';
  /** Empty for deletes. */
  value: Uint8Array;
  revision: number;
}

export interface BucketOptions {
  /** Entries expire this long after their last write. 0 or absent: never. JetStream's minimum is 100 ms. */
  ttlMs?: number;
}

export interface KvWatcher {
  stop(): void;
}

export interface WatchOptions {
  /** Key or NATS-style pattern ('*' one token, '>' the rest). Default: every key. */
  key?: string;
  /** Deliver the current value of every matching key first (in revision order), then changes. Default false. */
  initial?: boolean;
}

export interface KvBucket {
  readonly name: string;
  get(key: string): Promise<KvEntry | null>;
  /** Writes unconditionally; returns the new revision. */
  put(key: string, value: Uint8Array): Promise<number>;
  /** Writes only if the key does not exist (or was deleted); else ConflictError. */
  create(key: string, value: Uint8Array): Promise<number>;
  /** Writes only if the key's current revision is `expected`; else ConflictError. */
  update(key: string, value: Uint8Array, expected: number): Promise<number>;
  /** Deletes; with `expected`, only if the current revision matches (else ConflictError). */
  delete(key: string, expected?: number): Promise<void>;
  /** Live keys (not deleted, not expired) matching `pattern` ('*' one token, '>' the rest; default every key). */
  keys(pattern?: string): Promise<string[]>;
  /** The current entry of every live key matching `pattern`, in no particular order. */
  entries(pattern?: string): Promise<KvEntry[]>;
  /**
   * The revision of the bucket's latest write (put or delete; 0 when never written). Expiry does not change it. A
   * reader that has seen this revision through `watch` has seen every change, so it can skip re-reading the bucket.
   */
  lastRevision(): Promise<number>;
  /**
   * Calls `onChange` for each change, in revision order. Expiry (TTL) produces no event on JetStream, and a JetStream
   * watcher can go quiet for seconds after a leader fail-over: callers that must not miss a change also reconcile.
   */
  watch(onChange: (c: KvChange) => void, opts?: WatchOptions): Promise<KvWatcher>;
}

export interface Store {
  readonly kind: 'memory' | 'nats' | 'lmdb';
  /** Opens (creating if needed) a bucket scoped to this store's prefix. */
  bucket(name: string, opts?: BucketOptions): Promise<KvBucket>;
  close(): Promise<void>;
}

const KEY_RE = /^[-/_=.a-zA-Z0-9]+$/;
const BUCKET_RE = /^[a-zA-Z0-9_-]+$/;

/** Both implementations accept exactly the keys JetStream KV accepts. */
export function assertKey(key: string): void {
  if (typeof key !== 'string' || !KEY_RE.test(key) || key.startsWith('.') || key.endsWith('.')) {
    throw new GatehouseError(
      ErrorCode.BadKey,
      `bad key ${JSON.stringify(key)}: keys use A-Z a-z 0-9 - / _ = . and do not start or end with '.'`,
    );
  }
}

export function assertBucketName(name: string): void {
  if (!BUCKET_RE.test(name)) {
    throw new GatehouseError(ErrorCode.BadKey, `bad bucket name ${JSON.stringify(name)}: use A-Z a-z 0-9 - _`);
  }
}
