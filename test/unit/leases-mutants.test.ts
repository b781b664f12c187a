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
import type { KvBucket } from '../../bus/store.js';
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
    const theirs = await bucket.update('room.1', encodeRecord(lease('b')), r1!);
    table.stop(); // no watch: only the conflict path can bring their lease in
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
