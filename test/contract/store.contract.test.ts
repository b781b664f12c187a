/**
 * Invariant 1 (contract), store half: the in-memory store, JetStream KV (real nats-server) and the on-disk LMDB store
 * pass the same tests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KvBucket, KvChange, Store } from '../../bus/store.js';
import { storeImpls, type Env } from '../support/impls.js';
import { collector, eventually } from '../../dev/wait.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

for (const impl of storeImpls) {
  describe(`store contract [${impl.name}]`, () => {
    let env: Env;
    let store: Store;
    let kv: KvBucket;
    beforeAll(async () => {
      env = await impl.setup();
      store = await env.store('sa');
      kv = await store.bucket('contract');
    });
    afterAll(async () => env?.teardown());

    it('returns null for a missing key and the value with its revision after put', async () => {
      expect(await kv.get('missing')).toBeNull();
      const r = await kv.put('k1', enc('v1'));
      const e = await kv.get('k1');
      expect(e && dec(e.value)).toBe('v1');
      expect(e?.revision).toBe(r);
    });

    it('create fails with CONFLICT when the key exists', async () => {
      const r = await kv.create('k2', enc('a'));
      expect(r).toBeGreaterThan(0);
      await expect(kv.create('k2', enc('b'))).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(dec((await kv.get('k2'))!.value)).toBe('a');
    });

    it('update is compare-and-set on the revision; revisions only grow', async () => {
      const r1 = await kv.create('k3', enc('1'));
      const r2 = await kv.update('k3', enc('2'), r1);
      expect(r2).toBeGreaterThan(r1);
      await expect(kv.update('k3', enc('stale'), r1)).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(dec((await kv.get('k3'))!.value)).toBe('2');
    });

    it('of concurrent writers holding the same revision, exactly one wins', async () => {
      const r = await kv.create('k4', enc('start'));
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => kv.update('k4', enc(`w${i}`), r)),
      );
      const won = results.filter((x) => x.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const x of results) if (x.status === 'rejected') expect(x.reason).toMatchObject({ code: 'CONFLICT' });
    });

    it('delete honours the expected revision; a deleted key can be created again', async () => {
      const r = await kv.create('k5', enc('x'));
      await expect(kv.delete('k5', r + 1000)).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await kv.get('k5')).not.toBeNull();
      await kv.delete('k5', r);
      expect(await kv.get('k5')).toBeNull();
      const r2 = await kv.create('k5', enc('again'));
      expect(r2).toBeGreaterThan(r);
      expect(dec((await kv.get('k5'))!.value)).toBe('again');
    });

    it('lists keys, optionally by pattern', async () => {
      const b = await store.bucket('keys');
      await b.put('lease.city.1', enc('a'));
      await b.put('lease.city.2', enc('b'));
      await b.put('lease.room.1', enc('c'));
      await b.put('other', enc('d'));
      await b.delete('other');
      expect((await b.keys()).sort()).toEqual(['lease.city.1', 'lease.city.2', 'lease.room.1']);
      expect((await b.keys('lease.city.*')).sort()).toEqual(['lease.city.1', 'lease.city.2']);
    });

    it('lists entries with their values and revisions, tombstones left out', async () => {
      const b = await store.bucket('entries');
      const r1 = await b.put('n.a', enc('a'));
      await b.put('n.b', enc('b'));
      const r3 = await b.update('n.b', enc('b2'), r1 + 1);
      await b.put('x', enc('x'));
      await b.delete('x');
      const all = (await b.entries()).sort((p, q) => (p.key < q.key ? -1 : 1));
      expect(all.map((e) => [e.key, dec(e.value), e.revision])).toEqual([['n.a', 'a', r1], ['n.b', 'b2', r3]]);
      expect((await b.entries('n.*')).length).toBe(2);
      expect(await (await store.bucket('entries-empty')).entries()).toEqual([]);
    });

    it('reports the revision of the latest write, deletes included', async () => {
      const b = await store.bucket('lastrev');
      expect(await b.lastRevision()).toBe(0);
      const r1 = await b.put('a', enc('1'));
      expect(await b.lastRevision()).toBe(r1);
      const r2 = await b.update('a', enc('2'), r1);
      expect(await b.lastRevision()).toBe(r2);
      await b.delete('a');
      expect(await b.lastRevision()).toBeGreaterThan(r2);
    });

    it('watch delivers every change in revision order, deletes included', async () => {
      const b = await store.bucket('watch');
      const n = 200;
      const got = collector<KvChange>(n + 1);
      const w = await b.watch((c) => got.push(c), { key: 'w.>' });
      const revs: number[] = [];
      for (let i = 0; i < n; i++) revs.push(await b.put(`w.${i % 7}`, enc(String(i))));
      await b.put('not-watched', enc('x'));
      await b.delete('w.0');
      const changes = await got.done;
      w.stop();
      expect(changes.slice(0, n).map((c) => c.revision)).toEqual(revs);
      expect(changes.slice(0, n).map((c) => dec(c.value))).toEqual(Array.from({ length: n }, (_, i) => String(i)));
      expect(changes[n]).toMatchObject({ key: 'w.0', op: 'delete' });
      for (let i = 1; i < changes.length; i++) expect(changes[i]!.revision).toBeGreaterThan(changes[i - 1]!.revision);
    });

    it('watch with initial values gives current values first, then updates', async () => {
      const b = await store.bucket('watchinit');
      await b.put('a', enc('1'));
      await b.put('b', enc('2'));
      await b.put('a', enc('3'));
      await b.put('gone', enc('x'));
      await b.delete('gone');
      const got = collector<KvChange>(3);
      const w = await b.watch((c) => got.push(c), { initial: true });
      await b.put('c', enc('4'));
      const changes = await got.done;
      w.stop();
      expect(changes.map((c) => [c.key, dec(c.value)])).toEqual([
        ['b', '2'],
        ['a', '3'],
        ['c', '4'],
      ]);
    });

    it('expires entries after the bucket TTL', async () => {
      const b = await store.bucket('ttl', { ttlMs: 1000 });
      await b.put('short', enc('x'));
      expect(await b.get('short')).not.toBeNull();
      if (impl.name === 'nats') {
        // JetStream expires on the server's own clock and schedule: await the expiry (bounded), no fixed sleep.
        await eventually(async () => (await b.get('short')) === null, { timeoutMs: 10_000, what: 'expiry' });
      } else {
        // The injected ManualClock: alive 1 ms before the TTL, gone at it.
        await env.age(999);
        expect(await b.get('short')).not.toBeNull();
        await env.age(1);
        expect(await b.get('short')).toBeNull();
      }
      expect(await b.keys()).not.toContain('short');
    });

    it('isolates prefixes: same bucket name, separate data', async () => {
      const other = await env.store('sb');
      const b1 = await store.bucket('iso');
      const b2 = await other.bucket('iso');
      await b1.put('k', enc('mine'));
      expect(await b2.get('k')).toBeNull();
      await b2.put('k', enc('theirs'));
      expect(dec((await b1.get('k'))!.value)).toBe('mine');
    });

    it('rejects bad keys and bucket names with BAD_KEY', async () => {
      await expect(kv.put('has space', enc('x'))).rejects.toMatchObject({ code: 'BAD_KEY' });
      await expect(kv.get('.lead')).rejects.toMatchObject({ code: 'BAD_KEY' });
      await expect(kv.put('a*b', enc('x'))).rejects.toMatchObject({ code: 'BAD_KEY' });
      await expect(store.bucket('bad.name')).rejects.toMatchObject({ code: 'BAD_KEY' });
    });
  });
}
