/**
 * Shard leases with a local cache. The cache follows a store watch for speed and is re-read in full periodically,
 * because a JetStream watcher can go quiet for seconds after a leader fail-over. All writes are compare-and-set on
 * the cached revision; a conflict means someone else decided first, and the cache is refreshed.
 */
import type { Logger } from 'pino';
import type { KvBucket, KvWatcher } from '../bus/store.js';
import { decodeRecord, encodeRecord, type Lease } from './records.js';

export interface CachedLease {
  lease: Lease;
  revision: number;
}

export class LeaseTable {
  private readonly cache = new Map<string, CachedLease>();
  private watcher?: KvWatcher;
  /** Highest revision the watch has delivered. */
  private watched = 0;
  /** Called after any change seen (watch or write), with the unit key. */
  onChange?: (key: string) => void;

  constructor(
    private readonly bucket: KvBucket,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.watcher = await this.bucket.watch((c) => {
      this.watched = Math.max(this.watched, c.revision);
      if (c.op === 'delete') this.cache.delete(c.key);
      else {
        const cur = this.cache.get(c.key);
        if (!cur || cur.revision < c.revision) this.set(c.key, c.value, c.revision);
      }
      this.onChange?.(c.key);
    });
    await this.refresh();
  }

  stop(): void {
    this.watcher?.stop();
  }

  /**
   * Re-reads every lease unless the watch has already shown the bucket's latest revision (then nothing was missed).
   * The check is one request; the full read is one get per lease, which a large cluster should not pay every round.
   * `full` always re-reads: after a lapse, when the watch itself cannot be trusted to have kept up.
   */
  async refresh(opts?: { full?: boolean }): Promise<void> {
    const last = await this.bucket.lastRevision();
    if (!opts?.full && last > 0 && last <= this.watched) return;
    const entries = await this.bucket.entries();
    const seen = new Set<string>();
    for (const e of entries) {
      seen.add(e.key);
      const cur = this.cache.get(e.key);
      // A watch event newer than this read may have landed meanwhile.
      if (!cur || cur.revision <= e.revision) this.set(e.key, e.value, e.revision);
    }
    // Gone from the bucket, unless the watch brought it in after the read (newer than `last`).
    for (const [k, c] of [...this.cache]) if (!seen.has(k) && c.revision <= last) this.cache.delete(k);
    this.watched = Math.max(this.watched, last);
  }

  private set(key: string, bytes: Uint8Array, revision: number): void {
    try {
      this.cache.set(key, { lease: decodeRecord<Lease>(bytes), revision });
    } catch (err) {
      this.log.warn({ err, key }, 'unreadable lease ignored');
    }
  }

  get(key: string): CachedLease | undefined {
    return this.cache.get(key);
  }

  entries(): IterableIterator<[string, CachedLease]> {
    return this.cache.entries();
  }

  get size(): number {
    return this.cache.size;
  }

  /** Compare-and-set write; `expected` 0 creates. Returns the new revision, or undefined on conflict. */
  async write(key: string, lease: Lease, expected: number): Promise<number | undefined> {
    const bytes = encodeRecord(lease);
    try {
      const rev = expected === 0 ? await this.bucket.create(key, bytes) : await this.bucket.update(key, bytes, expected);
      const cur = this.cache.get(key);
      if (!cur || cur.revision < rev) this.cache.set(key, { lease, revision: rev });
      this.onChange?.(key);
      return rev;
    } catch (err) {
      if ((err as { code?: string }).code !== 'CONFLICT') throw err;
      const e = await this.bucket.get(key).catch(() => null);
      if (e) this.set(key, e.value, e.revision);
      return undefined;
    }
  }
}
