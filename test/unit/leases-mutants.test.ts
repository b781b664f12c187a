/**
 * The lease cache (cluster/leases.ts) without a cluster: it follows the store's watch, re-reads only when the watch
 * may have missed something, writes by compare-and-set (a conflict answers undefined and refreshes the cache with the
 * winner's lease), and ignores unreadable entries. Written for mutation testing (docs/TESTING.md): before, LeaseTable
 * was exercised only by cluster tests that start processes.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LeaseTable } from '../../cluster/leases.js';
import { encodeRecord, type Lease } from '../../cluster/records.js';
import { createMemoryStore } from '../../bus/memory-store.js';
import type { KvBucket, KvChange, KvEntry } from '../../bus/store.js';
import { silentLogger } from '../../common/logger.js';
import { eventually } from '../../dev/wait.js';

const lease = (o: string, st: Lease['st'] = 'owned', t = 1): Lease => ({ o, st, t });

async function rig() {
  const bucket = await createMemoryStore('lt').bucket('shards');
  const table = new LeaseTable(bucket, silentLogger);
  return { bucket, table };
}

describe('LeaseTable', () => {
  const stops: Array<() => void> = [];
  afterEach(() => {
    for (const s of stops.splice(0)) s();
  });

  it('starts with what the bucket holds and follows writes and deletes by others, telling onChange the key', async () => {
    const { bucket, table } = await rig();
    const r1 = await bucket.put('room.1', encodeRecord(lease('a')));
    await table.start();
    stops.push(() => table.stop());
    expect(table.get('room.1')).toEqual({ lease: lease('a'), revision: r1 });
    expect(table.size).toBe(1);
    const changed: string[] = [];
    table.onChange = (k) => changed.push(k);
    const r2 = await bucket.put('room.2', encodeRecord(lease('b', 'moving', 5)));
    await eventually(() => table.get('room.2'), { what: 'the watched write' });
    expect(table.get('room.2')).toEqual({ lease: lease('b', 'moving', 5), revision: r2 });
    await bucket.delete('room.1');
    await eventually(() => table.get('room.1') === undefined, { what: 'the watched delete' });
    expect(changed).toEqual(['room.2', 'room.1']);
    expect([...table.entries()].map(([k]) => k)).toEqual(['room.2']);
  });

  it('writes by compare-and-set: 0 creates; a conflict answers undefined and caches the winner', async () => {
    const { bucket, table } = await rig();
    await table.start();
    stops.push(() => table.stop());
    const changed: string[] = [];
    table.onChange = (k) => changed.push(k);
    const r1 = await table.write('room.1', lease('a'), 0);
    expect(r1).toBeGreaterThan(0);
    expect(table.get('room.1')).toEqual({ lease: lease('a'), revision: r1 });
    expect(changed).toContain('room.1');
    // Someone else wrote meanwhile: our write on the old revision loses, and the cache shows theirs.
    table.stop(); // no watch: only the conflict path can bring their lease in
    const theirs = await bucket.update('room.1', encodeRecord(lease('b')), r1!);
    expect(await table.write('room.1', lease('c'), r1!)).toBeUndefined();
    expect(table.get('room.1')).toEqual({ lease: lease('b'), revision: theirs });
    expect(await table.write('room.1', lease('c'), 0)).toBeUndefined(); // exists: a create conflicts too
    const r3 = await table.write('room.1', lease('c'), theirs);
    expect(r3).toBeGreaterThan(theirs);
    expect(table.get('room.1')).toEqual({ lease: lease('c'), revision: r3 });
  });

  it('rethrows a failure that is not a conflict', async () => {
    const { bucket } = await rig();
    const failing = Object.create(bucket) as KvBucket;
    failing.create = () => Promise.reject(Object.assign(new Error('store down'), { code: 'STORE_ERROR' }));
    const table = new LeaseTable(failing, silentLogger);
    await expect(table.write('room.1', lease('a'), 0)).rejects.toThrow('store down');
    expect(table.get('room.1')).toBeUndefined();
  });

  it('re-reads only when the watch may have missed something, and always when asked for a full read', async () => {
    const { bucket, table } = await rig();
    await bucket.put('room.1', encodeRecord(lease('a')));
    const entries = vi.spyOn(bucket, 'entries');
    await table.start();
    stops.push(() => table.stop());
    const afterStart = entries.mock.calls.length;
    await bucket.put('room.2', encodeRecord(lease('b')));
    await eventually(() => table.get('room.2'), { what: 'the watched write' });
    await table.refresh();
    expect(entries.mock.calls.length).toBe(afterStart); // the watch has shown the latest revision
    await table.refresh({ full: true });
    expect(entries.mock.calls.length).toBe(afterStart + 1);
  });

  it('drops what left the bucket while the watch was silent, and takes what came in', async () => {
    const { bucket, table } = await rig();
    await bucket.put('room.1', encodeRecord(lease('a')));
    await bucket.put('room.2', encodeRecord(lease('a')));
    await table.start();
    table.stop(); // the watch goes quiet (as after a leader fail-over)
    await bucket.delete('room.1');
    const r3 = await bucket.put('room.3', encodeRecord(lease('c')));
    await table.refresh();
    expect(table.get('room.1')).toBeUndefined();
    expect(table.get('room.2')?.lease).toEqual(lease('a'));
    expect(table.get('room.3')).toEqual({ lease: lease('c'), revision: r3 });
    expect(table.size).toBe(2);
  });

  it('ignores an unreadable lease, logging it', async () => {
    const { bucket } = await rig();
    const warn = vi.fn();
    const t2 = new LeaseTable(bucket, { ...silentLogger, warn } as unknown as typeof silentLogger);
    await bucket.put('room.1', Uint8Array.from([0x92, 0x01])); // truncated MessagePack
    await bucket.put('room.2', encodeRecord(lease('a')));
    await t2.refresh();
    expect(t2.get('room.1')).toBeUndefined();
    expect(t2.get('room.2')?.lease).toEqual(lease('a'));
    expect(warn).toHaveBeenCalledTimes(1);
  });
});

/** A bucket whose watch events, reads and write results the test decides, to order races exactly. */
function scripted() {
  let deliver: ((c: KvChange) => void) | undefined;
  const state = { last: 0, entries: [] as KvEntry[], get: null as KvEntry | null, writeRev: 1, conflict: false, reads: 0, stopped: 0 };
  const conflict = () => Promise.reject(Object.assign(new Error('conflict'), { code: 'CONFLICT' }));
  const bucket = {
    name: 'shards',
    watch: async (cb: (c: KvChange) => void) => {
      deliver = cb;
      return { stop: () => void state.stopped++ };
    },
    lastRevision: async () => state.last,
    entries: async () => (state.reads++, state.entries),
    get: async () => state.get,
    create: async () => (state.conflict ? conflict() : state.writeRev),
    update: async () => (state.conflict ? conflict() : state.writeRev),
  } as unknown as KvBucket;
  const event = (key: string, l: Lease, revision: number, op: 'put' | 'delete' = 'put') =>
    deliver!({ key, value: encodeRecord(l), revision, op } as KvChange);
  const entry = (key: string, l: Lease, revision: number) => ({ key, value: encodeRecord(l), revision }) as KvEntry;
  return { bucket, state, event, entry };
}

describe('LeaseTable races, scripted', () => {
  it('applies a watch event only if newer than the cached revision; works without onChange; stop stops the watch', async () => {
    const b = scripted();
    const t = new LeaseTable(b.bucket, silentLogger);
    await t.start();
    b.event('k', lease('a'), 5);
    b.event('k', lease('old'), 3);
    expect(t.get('k')).toEqual({ lease: lease('a'), revision: 5 });
    b.event('k', lease('same-rev'), 5);
    expect(t.get('k')?.lease).toEqual(lease('a'));
    b.event('k', lease('b'), 7);
    expect(t.get('k')).toEqual({ lease: lease('b'), revision: 7 });
    t.stop();
    expect(b.state.stopped).toBe(1);
    expect(() => new LeaseTable(b.bucket, silentLogger).stop()).not.toThrow(); // stopped before it started
  });

  it('a full read replaces a cached lease at the same or a newer revision, never with an older one', async () => {
    const b = scripted();
    const t = new LeaseTable(b.bucket, silentLogger);
    await t.start();
    b.event('old', lease('a'), 5);
    b.event('same', lease('a'), 5);
    b.event('new', lease('a'), 5);
    b.state.last = 6;
    b.state.entries = [b.entry('old', lease('x'), 4), b.entry('same', lease('y'), 5), b.entry('new', lease('z'), 6)];
    await t.refresh({ full: true });
    expect(t.get('old')).toEqual({ lease: lease('a'), revision: 5 });
    expect(t.get('same')).toEqual({ lease: lease('y'), revision: 5 });
    expect(t.get('new')).toEqual({ lease: lease('z'), revision: 6 });
  });

  it('forgets a lease missing from the read only if it is not newer than the read', async () => {
    const b = scripted();
    const t = new LeaseTable(b.bucket, silentLogger);
    await t.start();
    b.event('at-last', lease('a'), 8);
    b.event('after', lease('a'), 9); // the watch brought it in after the read was taken
    b.state.last = 8;
    b.state.entries = [];
    await t.refresh({ full: true });
    expect(t.get('at-last')).toBeUndefined();
    expect(t.get('after')).toEqual({ lease: lease('a'), revision: 9 });
  });

  it('reads an empty bucket, then skips while the watch has seen the latest revision', async () => {
    const b = scripted();
    const t = new LeaseTable(b.bucket, silentLogger);
    await t.start(); // last 0: nothing proves the watch current, so it reads
    expect(b.state.reads).toBe(1);
    b.state.last = 10;
    await t.refresh(); // 10 > watched 0: reads, and remembers 10
    expect(b.state.reads).toBe(2);
    await t.refresh();
    expect(b.state.reads).toBe(2);
    b.state.last = 11;
    await t.refresh();
    expect(b.state.reads).toBe(3);
  });

  it('after a write, keeps a newer lease the watch already delivered; a conflict with nothing stored changes nothing', async () => {
    const b = scripted();
    const t = new LeaseTable(b.bucket, silentLogger);
    await t.start();
    b.event('k', lease('watched'), 9);
    b.state.writeRev = 8; // our write landed at 8, the watch already showed 9
    expect(await t.write('k', lease('mine'), 5)).toBe(8);
    expect(t.get('k')).toEqual({ lease: lease('watched'), revision: 9 });
    b.state.writeRev = 9; // same revision: the watched one stays
    await t.write('k', lease('mine'), 5);
    expect(t.get('k')?.lease).toEqual(lease('watched'));
    b.state.conflict = true;
    b.state.get = null;
    expect(await t.write('gone', lease('mine'), 0)).toBeUndefined();
    expect(t.get('gone')).toBeUndefined();
  });
});

