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
  /** Called after any change seen (watch or write), with the unit key. */
  onChange?: (key: string) => void;

  constructor(
    private readonly bucket: KvBucket,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.watcher = await this.bucket.watch((c) => {
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

  async refresh(): Promise<void> {
    const entries = await this.bucket.entries();
    const seen = new Set<string>();
    for (const e of entries) {
      seen.add(e.key);
      this.set(e.key, e.value, e.revision);
    }
    for (const k of [...this.cache.keys()]) if (!seen.has(k)) this.cache.delete(k);
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
