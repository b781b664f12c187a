/**
 * The snapshot store (actors/runtime/snapshots.ts), written against mutations that the integration tests catch only
 * by a timeout or not at all (docs/TESTING.md): an actor's first write is a create (compare-and-set on "absent"),
 * later writes are compare-and-set on the revision, a record in an unknown format is refused, and actors spread
 * over the buckets by shard.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../bus/memory-store.js';
import { encode } from '../../bus/codec.js';
import { SnapshotStore, snapshotBucketIndex, snapshotBucketNames, SNAPSHOT_BUCKET, type StoredActor } from '../../actors/runtime/snapshots.js';

const rec = (n: number): StoredActor => ({ v: 1, s: { value: 'idle', context: { n } }, t: [], d: [['s', n]] }) as unknown as StoredActor;

async function rig(n = 2, shards = 8) {
  const store = createMemoryStore('snap');
  const names = snapshotBucketNames(n);
  const buckets = await Promise.all(names.map((b) => store.bucket(b)));
  return { store, buckets, snaps: new SnapshotStore(buckets, shards) };
}

describe('SnapshotStore', () => {
  it("an actor's first write must create it: a second first write gets CONFLICT and leaves the winner's record", async () => {
    const { snaps } = await rig();
    const r1 = await snaps.save('counter', 'new-1', rec(1), 0);
    expect(r1).toBeGreaterThan(0);
    await expect(snaps.save('counter', 'new-1', rec(2), 0)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await snaps.load('counter', 'new-1'))!.record).toEqual(rec(1));
  });

  it('later writes are compare-and-set on the revision', async () => {
    const { snaps } = await rig();
    const r1 = await snaps.save('counter', 'a', rec(1), 0);
    const r2 = await snaps.save('counter', 'a', rec(2), r1);
    expect(r2).toBeGreaterThan(r1);
    await expect(snaps.save('counter', 'a', rec(3), r1)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await snaps.load('counter', 'a')).toEqual({ record: rec(2), revision: r2 });
  });

  it('removes with compare-and-set on the revision, or unconditionally with 0', async () => {
    const { snaps } = await rig();
    const r1 = await snaps.save('counter', 'a', rec(1), 0);
    await expect(snaps.remove('counter', 'a', r1 + 5)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await snaps.load('counter', 'a')).not.toBeNull();
    await snaps.remove('counter', 'a', r1);
    expect(await snaps.load('counter', 'a')).toBeNull();
    await snaps.save('counter', 'b', rec(1), 0);
    await snaps.remove('counter', 'b', 0);
    expect(await snaps.load('counter', 'b')).toBeNull();
  });

  it('refuses a stored record in an unknown format, naming the actor and revision', async () => {
    const { snaps, buckets } = await rig(1);
    for (const bad of [null, { v: 2, s: {}, t: [], d: [] }, { v: 1, s: {}, t: 'x', d: [] }, { v: 1, s: {}, t: [], d: {} }]) {
      const key = SnapshotStore.key('counter', 'odd');
      await buckets[0]!.put(key, encode(bad));
      await expect(snaps.load('counter', 'odd')).rejects.toThrow(/counter\/odd \(revision \d+\) has an unknown format/);
    }
    expect(await snaps.load('counter', 'absent')).toBeNull();
  });

  it('names its buckets and keeps each actor in the bucket of its shard', async () => {
    expect(snapshotBucketNames(1)).toEqual([SNAPSHOT_BUCKET]);
    expect(snapshotBucketNames(3)).toEqual([`${SNAPSHOT_BUCKET}-0`, `${SNAPSHOT_BUCKET}-1`, `${SNAPSHOT_BUCKET}-2`]);
    const { snaps, buckets } = await rig(3, 8);
    const ids = Array.from({ length: 30 }, (_, i) => `id-${i}`);
    for (const id of ids) await snaps.save('k', id, rec(1), 0);
    const used = new Set<number>();
    for (const id of ids) {
      const i = snapshotBucketIndex(id, 8, 3);
      expect(snaps.bucketIndex(id)).toBe(i);
      used.add(i);
      expect(await buckets[i]!.get(SnapshotStore.key('k', id))).not.toBeNull();
      for (const [j, b] of buckets.entries()) if (j !== i) expect(await b.get(SnapshotStore.key('k', id))).toBeNull();
    }
    expect(used.size).toBe(3);
  });
});
