/**
 * The `KvBucket` a caller holds: argument checks, compare-and-set decisions and a closed check, over the bucket's
 * shared state (bus/lmdb/bucket.ts), which owns writes, reads, watchers and expiry.
 */
import { ClosedError, ConflictError } from '../../common/errors.js';
import { type KvBucket, type KvChange, type KvEntry, type KvWatcher, type WatchOptions, assertKey } from '../store.js';
import type { BucketState } from './bucket.js';
import { decodeRec } from './record.js';

export class LmdbBucket implements KvBucket {
  constructor(
    readonly name: string,
    private readonly s: BucketState,
    private readonly owner: { readonly closed: boolean },
  ) {}

  private check(): void {
    if (this.owner.closed) throw new ClosedError(`store closed (bucket ${this.name})`);
  }

  // get, put, create and update are plain functions returning a promise rather than async ones: an async function
  // returning a promise adds a promise and two microtask hops to every call on the snapshot path.
  get(key: string): Promise<KvEntry | null> {
    try {
      assertKey(key);
      this.check();
      return Promise.resolve(this.s.read(key) ?? null);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  put(key: string, value: Uint8Array): Promise<number> {
    try {
      assertKey(key);
      this.check();
      return this.s.write(key, value, false);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  create(key: string, value: Uint8Array): Promise<number> {
    try {
      assertKey(key);
      this.check();
      const current = this.s.current(key);
      if (current !== 0) throw new ConflictError(`create ${this.name}/${key}: key exists at revision ${current}`);
      return this.s.write(key, value, true);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  update(key: string, value: Uint8Array, expected: number): Promise<number> {
    try {
      assertKey(key);
      this.check();
      const current = this.s.current(key);
      if (current !== expected) {
        throw new ConflictError(`update ${this.name}/${key}: expected revision ${expected}, found ${current}`);
      }
      return this.s.write(key, value, true);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  async delete(key: string, expected?: number): Promise<void> {
    assertKey(key);
    this.check();
    const current = this.s.current(key);
    if (expected !== undefined && current !== expected) {
      throw new ConflictError(`delete ${this.name}/${key}: expected revision ${expected}, found ${current}`);
    }
    if (current === 0) return;
    await this.s.write(key, null, true);
  }

  async keys(pattern = '>'): Promise<string[]> {
    this.check();
    const out: string[] = [];
    this.s.scan(pattern, (key) => out.push(key));
    return out;
  }

  async entries(pattern = '>'): Promise<KvEntry[]> {
    this.check();
    const out: KvEntry[] = [];
    this.s.scan(pattern, (key, b) => {
      const r = decodeRec(b);
      // Range values may share memory with the cursor: copy what leaves.
      out.push({ key, value: r.value.slice(), revision: r.revision });
    });
    return out;
  }

  async lastRevision(): Promise<number> {
    this.check();
    return this.s.durableSeq;
  }

  async watch(onChange: (c: KvChange) => void, opts?: WatchOptions): Promise<KvWatcher> {
    this.check();
    return this.s.watch(this.owner, onChange, opts);
  }
}
