/**
 * Durable actor state in the Store: one key per actor, `<kind>.<id token>`, holding the XState persisted snapshot,
 * pending timers and the per-sender dedupe marks. Every write is compare-and-set on the revision the writer last saw:
 * that revision is the fencing token, so a stale instance (an old owner after a migration or a partition) gets a
 * ConflictError instead of overwriting newer state.
 */
import { decode, encode } from '../../bus/codec.js';
import type { KvBucket } from '../../bus/store.js';
import { encodeId, shardOf } from '../../bus/subjects.js';
import { DecodeError } from '../../common/errors.js';
import type { PersistedTimer } from './timers.js';

export interface StoredActor {
  v: 1;
  /** XState persisted snapshot. */
  s: unknown;
  /** Pending timers. */
  t: PersistedTimer[];
  /** Last sequence seen per sender. */
  d: Array<[string, number]>;
}

export const SNAPSHOT_BUCKET = 'actors';

/**
 * The snapshot buckets of a deployment: `actors` alone, or `actors-0` … `actors-<n-1>`. Each is one JetStream stream
 * with its own Raft leader, so a nats-server's loss stalls only the snapshot writes of the streams it led.
 */
export function snapshotBucketNames(n: number): string[] {
  return n <= 1 ? [SNAPSHOT_BUCKET] : Array.from({ length: n }, (_, i) => `${SNAPSHOT_BUCKET}-${i}`);
}

/** Which of `n` snapshot buckets holds actor `id` (also what `gatehouse import` routes a dumped key by). */
export function snapshotBucketIndex(id: string, shards: number, n: number): number {
  return n <= 1 ? 0 : shardOf(id, shards) % n;
}

export class SnapshotStore {
  /** `buckets` from snapshotBucketNames; an actor's bucket is its shard mod their count (shards stay whole). */
  constructor(
    private readonly buckets: KvBucket[],
    private readonly shards: number,
  ) {}

  static key(kind: string, id: string): string {
    return `${kind}.${encodeId(id)}`;
  }

  /** Which of the buckets holds this actor (index into snapshotBucketNames). */
  bucketIndex(id: string): number {
    return snapshotBucketIndex(id, this.shards, this.buckets.length);
  }

  private bucket(id: string): KvBucket {
    return this.buckets[this.bucketIndex(id)]!;
  }

  async load(kind: string, id: string): Promise<{ record: StoredActor; revision: number } | null> {
    const e = await this.bucket(id).get(SnapshotStore.key(kind, id));
    if (!e) return null;
    const record = decode<StoredActor>(e.value);
    if (!record || record.v !== 1 || !Array.isArray(record.t) || !Array.isArray(record.d)) {
      throw new DecodeError(`stored snapshot of ${kind}/${id} (revision ${e.revision}) has an unknown format`);
    }
    return { record, revision: e.revision };
  }

  /** Writes with compare-and-set: `expected` 0 means "must not exist yet". Returns the new revision. */
  save(kind: string, id: string, record: StoredActor, expected: number): Promise<number> {
    const key = SnapshotStore.key(kind, id);
    const bytes = encode(record);
    const b = this.bucket(id);
    return expected === 0 ? b.create(key, bytes) : b.update(key, bytes, expected);
  }

  remove(kind: string, id: string, expected: number): Promise<void> {
    return this.bucket(id).delete(SnapshotStore.key(kind, id), expected === 0 ? undefined : expected);
  }
}
