/**
 * A durable ('snapshot'-persisted) actor answers only once its turn is in the store (docs/INVARIANTS.md, invariant 4),
 * checked directly on the demo ledger: with its write held, the ask is not answered; released, it is, and the store
 * holds the update. The audit mutation "ledger acknowledged before written" (a 5 ms write batch instead of
 * 'snapshot') was caught before only by kill -9 luck (2 runs of 3).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ActorClient } from '../../actors/runtime/client.js';
import { ActorHost } from '../../actors/runtime/host.js';
import { ledgerKind } from '../../actors/demo/ledger.js';
import { SnapshotStore } from '../../actors/runtime/snapshots.js';
import type { KvBucket, Store } from '../../bus/store.js';
import { MemoryBroker } from '../../bus/memory-bus.js';
import { createMemoryStore } from '../../bus/memory-store.js';
import { systemClock } from '../../common/clock.js';
import { deferred, eventually } from '../../dev/wait.js';
import { TEST_LIMITS } from '../support/hosts.js';

/** The snapshot buckets' writes wait for `gate` (counted in `attempts`). */
function heldStore(inner: Store, gate: Promise<void>, attempts: { n: number }): Store {
  return {
    kind: inner.kind,
    close: () => inner.close(),
    async bucket(name, opts) {
      const b = await inner.bucket(name, opts);
      if (!name.startsWith('actors')) return b;
      const w: KvBucket = Object.create(b) as KvBucket;
      const held = <T,>(write: () => Promise<T>) => {
        attempts.n++;
        return gate.then(write);
      };
      w.create = (k, v) => held(() => b.create(k, v));
      w.update = (k, v, e) => held(() => b.update(k, v, e));
      w.put = (k, v) => held(() => b.put(k, v));
      return w;
    },
  };
}

describe('durable actors answer after the write', () => {
  const closers: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  });

  it('the ledger answers an update only once it is stored', async () => {
    const broker = new MemoryBroker();
    const store = createMemoryStore('ack');
    const gate = deferred<void>();
    const attempts = { n: 0 };
    const host = new ActorHost({
      nodeId: 'n1',
      bus: broker.connect({ prefix: 'ack' }),
      store: heldStore(store, gate.promise, attempts),
      clock: systemClock,
      kinds: [ledgerKind],
      limits: { ...TEST_LIMITS },
      ownAllShards: true,
    });
    await host.start();
    closers.push(() => host.stop());
    const bus = broker.connect({ prefix: 'ack' });
    closers.push(() => bus.close());
    closers.push(async () => gate.resolve()); // first at teardown: a failed test leaves no write held
    const client = new ActorClient(bus, { shards: TEST_LIMITS.shards, askTimeoutMs: 10_000 });

    let answered = false;
    const ask = client.ask<number>({ kind: 'ledger', id: 'l1' }, { type: 'inc', from: 's', n: 0 });
    void ask.then(() => (answered = true), () => (answered = true));
    // The write was tried (and is held); a round trip later the ask is still unanswered.
    await eventually(() => attempts.n > 0, { what: 'the snapshot write tried' });
    await client.ask({ kind: 'ledger', id: 'other' }, { type: 'get' }).catch(() => undefined);
    await bus.flush();
    expect(answered).toBe(false);

    gate.resolve();
    expect(await ask).toBe(1);
    // Stored: the record carries the update and the sender's dedupe mark.
    const stored = await new SnapshotStore([await store.bucket('actors')], TEST_LIMITS.shards).load('ledger', 'l1');
    expect((stored!.record.s as { context: { count: number } }).context.count).toBe(1);
    expect(stored!.record.d).toHaveLength(1);
  });
});
