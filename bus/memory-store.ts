/**
 * In-memory Store: the embedded default and the reference for the store contract suite. Expiry follows an injected
 * clock, so tests move time instead of waiting. Like JetStream, an expired entry simply disappears (no watch event).
 */
import type { Clock } from '../common/clock.js';
import { systemClock } from '../common/clock.js';
import { ConflictError } from '../common/errors.js';
import { matches } from './subject-match.js';
import {
  type BucketOptions,
  type KvBucket,
  type KvChange,
  type KvEntry,
  type KvWatcher,
  type Store,
  type WatchOptions,
  assertBucketName,
  assertKey,
} from './store.js';

interface Slot {
  value: Uint8Array;
  revision: number;
  writtenAt: number;
}

export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  private readonly buckets = new Map<string, MemoryBucket>();

  constructor(
    private readonly prefix: string,
    private readonly clock: Clock = systemClock,
  ) {}

  async bucket(name: string, opts?: BucketOptions): Promise<KvBucket> {
    assertBucketName(name);
    const full = `${this.prefix}_${name}`;
    let b = this.buckets.get(full);
    if (!b) this.buckets.set(full, (b = new MemoryBucket(name, opts?.ttlMs ?? 0, this.clock)));
    return b;
  }

  async close(): Promise<void> {
    for (const b of this.buckets.values()) b.stopAll();
  }
}

/** Several nodes in one process share the store the way they would share JetStream. */
export function createMemoryStore(prefix: string, clock?: Clock): Store {
  return new MemoryStore(prefix, clock);
}

interface MemWatcher {
  pattern: string;
  fn: (c: KvChange) => void;
  queue: KvChange[];
}

class MemoryBucket implements KvBucket {
  private readonly slots = new Map<string, Slot>();
  private seq = 0;
  private readonly watchers = new Set<MemWatcher>();

  constructor(
    readonly name: string,
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {}

  private live(key: string): Slot | undefined {
    const s = this.slots.get(key);
    if (!s) return undefined;
    if (this.ttlMs > 0 && this.clock.now() - s.writtenAt >= this.ttlMs) {
      this.slots.delete(key);
      return undefined;
    }
    return s;
  }

  async get(key: string): Promise<KvEntry | null> {
    assertKey(key);
    const s = this.live(key);
    return s ? { key, value: s.value, revision: s.revision } : null;
  }

  async put(key: string, value: Uint8Array): Promise<number> {
    assertKey(key);
    return this.write(key, value);
  }

  async create(key: string, value: Uint8Array): Promise<number> {
    assertKey(key);
    const s = this.live(key);
    if (s) throw new ConflictError(`create ${this.name}/${key}: key exists at revision ${s.revision}`);
    return this.write(key, value);
  }

  async update(key: string, value: Uint8Array, expected: number): Promise<number> {
    assertKey(key);
    const s = this.live(key);
    const current = s?.revision ?? 0;
    if (current !== expected) {
      throw new ConflictError(`update ${this.name}/${key}: expected revision ${expected}, found ${current}`);
    }
    return this.write(key, value);
  }

  async delete(key: string, expected?: number): Promise<void> {
    assertKey(key);
    const s = this.live(key);
    if (expected !== undefined && (s?.revision ?? 0) !== expected) {
      throw new ConflictError(`delete ${this.name}/${key}: expected revision ${expected}, found ${s?.revision ?? 0}`);
    }
    if (!s) return;
    this.slots.delete(key);
    this.notify({ key, op: 'delete', value: new Uint8Array(0), revision: ++this.seq });
  }

  async keys(pattern = '>'): Promise<string[]> {
    const out: string[] = [];
    for (const key of [...this.slots.keys()]) if (this.live(key) && matches(pattern, key)) out.push(key);
    return out;
  }

  async watch(onChange: (c: KvChange) => void, opts?: WatchOptions): Promise<KvWatcher> {
    const pattern = opts?.key ?? '>';
    const w: MemWatcher = { pattern, fn: onChange, queue: [] };
    if (opts?.initial) {
      const current: KvChange[] = [];
      for (const [key] of this.slots) {
        const s = this.live(key);
        if (s && matches(pattern, key)) current.push({ key, op: 'put', value: s.value, revision: s.revision });
      }
      current.sort((a, b) => a.revision - b.revision);
      for (const c of current) this.schedule(w, c);
    }
    this.watchers.add(w);
    return { stop: () => void this.watchers.delete(w) };
  }

  stopAll(): void {
    this.watchers.clear();
  }

  private write(key: string, value: Uint8Array): number {
    const revision = ++this.seq;
    this.slots.set(key, { value, revision, writtenAt: this.clock.now() });
    this.notify({ key, op: 'put', value, revision });
    return revision;
  }

  private notify(c: KvChange): void {
    for (const w of this.watchers) if (matches(w.pattern, c.key)) this.schedule(w, c);
  }

  /** Watch callbacks run later and in order, as they would arriving from a server. */
  private schedule(w: MemWatcher, c: KvChange): void {
    w.queue.push(c);
    if (w.queue.length === 1) {
      queueMicrotask(() => {
        const batch = w.queue.splice(0);
        for (const change of batch) {
          if (!this.watchers.has(w)) return; // stopped meanwhile
          w.fn(change);
        }
      });
    }
  }
}
