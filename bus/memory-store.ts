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

interface MemWatcher {
  owner: object;
  pattern: string;
  fn: (c: KvChange) => void;
  queue: KvChange[];
}

/** One bucket's data, shared by every handle opened on it. */
class BucketState {
  readonly slots = new Map<string, Slot>();
  seq = 0;
  readonly watchers = new Set<MemWatcher>();
  constructor(
    readonly ttlMs: number,
    readonly clock: Clock,
  ) {}
}

/**
 * The shared state behind every MemoryStore handle, like a JetStream server: nodes in one process (embedded mode,
 * tests) each open their own handle and see the same buckets.
 */
export class MemoryKvServer {
  private readonly buckets = new Map<string, BucketState>();
  constructor(readonly clock: Clock = systemClock) {}

  store(prefix: string): Store {
    return new MemoryStore(this, prefix);
  }

  /** @internal */
  state(full: string, ttlMs: number): BucketState {
    let b = this.buckets.get(full);
    if (!b) this.buckets.set(full, (b = new BucketState(ttlMs, this.clock)));
    return b;
  }
}

class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  private readonly opened = new Set<BucketState>();

  constructor(
    private readonly server: MemoryKvServer,
    private readonly prefix: string,
  ) {}

  async bucket(name: string, opts?: BucketOptions): Promise<KvBucket> {
    assertBucketName(name);
    const state = this.server.state(`${this.prefix}_${name}`, opts?.ttlMs ?? 0);
    this.opened.add(state);
    return new MemoryBucket(name, state, this);
  }

  async close(): Promise<void> {
    for (const s of this.opened) for (const w of s.watchers) if (w.owner === this) s.watchers.delete(w);
    this.opened.clear();
  }
}

/** A store of its own (one node, or a test that needs no sharing). */
export function createMemoryStore(prefix: string, clock?: Clock): Store {
  return new MemoryKvServer(clock).store(prefix);
}

class MemoryBucket implements KvBucket {
  constructor(
    readonly name: string,
    private readonly s: BucketState,
    private readonly owner: object,
  ) {}

  private live(key: string): Slot | undefined {
    const slot = this.s.slots.get(key);
    if (!slot) return undefined;
    if (this.s.ttlMs > 0 && this.s.clock.now() - slot.writtenAt >= this.s.ttlMs) {
      this.s.slots.delete(key);
      return undefined;
    }
    return slot;
  }

  async get(key: string): Promise<KvEntry | null> {
    assertKey(key);
    const slot = this.live(key);
    return slot ? { key, value: slot.value, revision: slot.revision } : null;
  }

  async put(key: string, value: Uint8Array): Promise<number> {
    assertKey(key);
    return this.write(key, value);
  }

  async create(key: string, value: Uint8Array): Promise<number> {
    assertKey(key);
    const slot = this.live(key);
    if (slot) throw new ConflictError(`create ${this.name}/${key}: key exists at revision ${slot.revision}`);
    return this.write(key, value);
  }

  async update(key: string, value: Uint8Array, expected: number): Promise<number> {
    assertKey(key);
    const current = this.live(key)?.revision ?? 0;
    if (current !== expected) {
      throw new ConflictError(`update ${this.name}/${key}: expected revision ${expected}, found ${current}`);
    }
    return this.write(key, value);
  }

  async delete(key: string, expected?: number): Promise<void> {
    assertKey(key);
    const slot = this.live(key);
    if (expected !== undefined && (slot?.revision ?? 0) !== expected) {
      throw new ConflictError(`delete ${this.name}/${key}: expected revision ${expected}, found ${slot?.revision ?? 0}`);
    }
    if (!slot) return;
    this.s.slots.delete(key);
    this.notify({ key, op: 'delete', value: new Uint8Array(0), revision: ++this.s.seq });
  }

  async keys(pattern = '>'): Promise<string[]> {
    const out: string[] = [];
    for (const key of [...this.s.slots.keys()]) if (this.live(key) && matches(pattern, key)) out.push(key);
    return out;
  }

  async lastRevision(): Promise<number> {
    return this.s.seq;
  }

  async entries(pattern = '>'): Promise<KvEntry[]> {
    const out: KvEntry[] = [];
    for (const key of [...this.s.slots.keys()]) {
      const slot = this.live(key);
      if (slot && matches(pattern, key)) out.push({ key, value: slot.value, revision: slot.revision });
    }
    return out;
  }

  async watch(onChange: (c: KvChange) => void, opts?: WatchOptions): Promise<KvWatcher> {
    const w: MemWatcher = { owner: this.owner, pattern: opts?.key ?? '>', fn: onChange, queue: [] };
    if (opts?.initial) {
      const current: KvChange[] = [];
      for (const key of [...this.s.slots.keys()]) {
        const slot = this.live(key);
        if (slot && matches(w.pattern, key)) current.push({ key, op: 'put', value: slot.value, revision: slot.revision });
      }
      current.sort((a, b) => a.revision - b.revision);
      for (const c of current) this.schedule(w, c);
    }
    this.s.watchers.add(w);
    return { stop: () => void this.s.watchers.delete(w) };
  }

  private write(key: string, value: Uint8Array): number {
    const revision = ++this.s.seq;
    this.s.slots.set(key, { value, revision, writtenAt: this.s.clock.now() });
    this.notify({ key, op: 'put', value, revision });
    return revision;
  }

  private notify(c: KvChange): void {
    for (const w of this.s.watchers) if (matches(w.pattern, c.key)) this.schedule(w, c);
  }

  /** Watch callbacks run later and in order, as they would arriving from a server. */
  private schedule(w: MemWatcher, c: KvChange): void {
    w.queue.push(c);
    if (w.queue.length !== 1) return;
    queueMicrotask(() => {
      const batch = w.queue.splice(0);
      for (const change of batch) {
        if (!this.s.watchers.has(w)) return; // stopped meanwhile
        try {
          w.fn(change);
        } catch {
          // A watcher's bug must not stop delivery to the others (JetStream side logs it; memory has no logger).
        }
      }
    });
  }
}
