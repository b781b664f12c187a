/**
 * Durable actor state in the Store: one key per actor, `<kind>.<id token>`, holding the XState persisted snapshot,
 * pending timers and the per-sender dedupe marks. Every write is compare-and-set on the revision the writer last saw:
 * that revision is the fencing token, so a stale instance (an old owner after a migration or a partition) gets a
 * ConflictError instead of overwriting newer state.
 */
import { decode, encode } from '../../bus/codec.js';
import type { KvBucket } from '../../bus/store.js';
import { encodeId } from '../../bus/subjects.js';
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

export class SnapshotStore {
  constructor(private readonly bucket: KvBucket) {}

  static key(kind: string, id: string): string {
    return `${kind}.${encodeId(id)}`;
  }

  async load(kind: string, id: string): Promise<{ record: StoredActor; revision: number } | null> {
    const e = await this.bucket.get(SnapshotStore.key(kind, id));
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
    return expected === 0 ? this.bucket.create(key, bytes) : this.bucket.update(key, bytes, expected);
  }

  remove(kind: string, id: string, expected: number): Promise<void> {
    return this.bucket.delete(SnapshotStore.key(kind, id), expected === 0 ? undefined : expected);
  }
}
