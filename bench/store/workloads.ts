/**
 * The operations bench store times, each in two forms doing the same work: through the LMDB Store (bus/lmdb-store.ts)
 * and on raw `lmdb` with the same durability (overlappingSync off: a write resolves after its fsync, as the store's
 * do). A window runs one operation for `ms` and reports how many completed, CPU seconds and (reads) latencies.
 */
import { open, type Database, type RootDatabase } from 'lmdb';
import type { KvBucket } from '../../bus/store.js';
import { Histogram, cpuSeconds, type HistogramData } from '../harness/measure.js';

export const VALUE_BYTES = 1024;
export const KEYS = 10_000;
/** Awaited writes in flight at once: many actors committing turns at the same time. */
export const IN_FLIGHT = 64;

export interface WindowResult {
  count: number;
  seconds: number;
  cpu: number;
  hist?: HistogramData;
  /** LMDB transactions committed during the window, the writes they held, and their hand-over-to-commit ms summed. */
  commits?: { transactions: number; writes: number; commitMs: number };
}

export interface Side {
  /** Overwrites one of KEYS keys with a 1 KiB value (an actor snapshot), IN_FLIGHT awaited at a time. */
  put(key: string, value: Buffer): Promise<unknown>;
  /** Compare-and-set on the worker's own key: the update an actor's turn commits. */
  cas(worker: number, value: Buffer): Promise<unknown>;
  get(key: string): unknown;
  close(): Promise<void>;
}

const snapshotKey = (i: number) => `actor.${i % KEYS}`;

/** A Buffer (a Uint8Array), which raw lmdb's binary encoding stores as it is. */
export function value(seed: number): Buffer {
  const v = Buffer.alloc(VALUE_BYTES);
  for (let i = 0; i < v.length; i++) v[i] = (seed + i * 31) & 0xff;
  return v;
}

/** Fills KEYS snapshots (for reads) and one CAS key per worker. */
export async function preload(side: Side): Promise<void> {
  const v = value(1);
  let last: Promise<unknown> = Promise.resolve();
  for (let i = 0; i < KEYS; i++) last = side.put(snapshotKey(i), v);
  await last;
}

export async function timed(ms: number, run: (until: number) => Promise<number>): Promise<WindowResult> {
  const c0 = cpuSeconds();
  const t0 = performance.now();
  const count = await run(t0 + ms);
  return { count, seconds: (performance.now() - t0) / 1000, cpu: cpuSeconds() - c0 };
}

export function putWindow(side: Side, ms: number): Promise<WindowResult> {
  const v = value(2);
  let next = 0;
  return timed(ms, async (until) => {
    let done = 0;
    const worker = async () => {
      while (performance.now() < until) {
        await side.put(snapshotKey(next++), v);
        done++;
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    return done;
  });
}

export function casWindow(side: Side, ms: number): Promise<WindowResult> {
  const v = value(3);
  return timed(ms, async (until) => {
    let done = 0;
    const worker = async (w: number) => {
      while (performance.now() < until) {
        await side.cas(w, v);
        done++;
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, (_, w) => worker(w)));
    return done;
  });
}

/** Reads of random snapshots, one at a time, each timed from the call to its value in hand. */
export async function readWindow(side: Side, ms: number): Promise<WindowResult> {
  const hist = new Histogram();
  let x = 12345;
  const r = await timed(ms, async (until) => {
    let done = 0;
    while (performance.now() < until) {
      for (let i = 0; i < 256; i++) {
        x = (x * 1103515245 + 12345) & 0x7fffffff;
        const key = snapshotKey(x);
        const t = performance.now();
        const got = side.get(key);
        if (got instanceof Promise) await got;
        hist.record((performance.now() - t) * 1000);
        done++;
      }
    }
    return done;
  });
  return { ...r, hist: hist.toJSON() };
}

export function storeSide(bucket: KvBucket, close: () => Promise<void>): Side {
  const revs = new Map<number, number>();
  return {
    put: (key, v) => bucket.put(key, v),
    async cas(w, v) {
      const key = `cas.${w}`;
      const rev = revs.get(w) ?? 0;
      revs.set(w, rev === 0 ? await bucket.create(key, v) : await bucket.update(key, v, rev));
    },
    get: (key) => bucket.get(key),
    close,
  };
}

/**
 * Raw lmdb: the same environment options the store uses; CAS with lmdb's own entry versions (`ifVersion`), checked
 * inside the write transaction.
 */
export function rawSide(path: string): Side {
  const root: RootDatabase<Buffer, string> = open({ path, encoding: 'binary', overlappingSync: false, maxDbs: 4 });
  const data: Database<Buffer, string> = root.openDB({ name: 'data', encoding: 'binary' });
  const versioned: Database<Buffer, string> = root.openDB({ name: 'cas', encoding: 'binary', useVersions: true });
  const versions = new Map<number, number>();
  return {
    put: (key, v) => data.put(key, v),
    async cas(w, v) {
      const key = `cas.${w}`;
      const ver = versions.get(w) ?? 0;
      const ok = await (ver === 0 ? versioned.put(key, v, 1) : versioned.put(key, v, ver + 1, ver));
      if (!ok) throw new Error(`raw CAS on ${key} failed at version ${ver}`);
      versions.set(w, ver + 1);
    },
    get: (key) => data.get(key),
    close: () => root.close(),
  };
}
