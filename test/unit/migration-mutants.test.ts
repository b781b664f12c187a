/**
 * The hand-over window of a live migration (cluster/migration.ts), on the in-memory bus with two hosts in this
 * process and the move's steps held where the test needs them: the new owner's hand-over chunks wait at a gate the
 * test opens. Between the old owner letting a shard go and its state arriving, a message for one of its actors must be
 * held by the new owner, not processed: processed there, it would run on a fresh instance (lost state, order broken).
 *
 * This is the check for the audit's mutation "the new owner processes messages before the state arrives"
 * (ShardInbox.ownShard ignoring `buffer`): it fails here by assertion, at once, instead of surfacing as a stuck
 * per-update check in test/cluster/migration.test.ts. It also gives Stryker a fast test of migration.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Bus, BusMsg } from '../../bus/bus.js';
import { encode } from '../../bus/codec.js';
import { MemoryBroker } from '../../bus/memory-bus.js';
import { subjects } from '../../bus/subjects.js';
import { ActorClient } from '../../actors/runtime/client.js';
import { ActorHost } from '../../actors/runtime/host.js';
import { ManualClock } from '../../common/clock.js';
import { silentLogger } from '../../common/logger.js';
import { Control } from '../../cluster/control.js';
import type { LeaseTable } from '../../cluster/leases.js';
import type { Membership } from '../../cluster/membership.js';
import { Migrator, type MigrationOptions, type MoveUnit } from '../../cluster/migration.js';
import { tallyKind } from '../support/test-kinds.js';

const LIMITS = { mailboxLimit: 1000, maxRestarts: 3, restartWindowMs: 10_000, passivateAfterMs: 600_000, askTimeoutMs: 5_000, shards: 1 };
const OPTS: MigrationOptions = { probeTimeoutMs: 5_000, handoverTimeoutMs: 5_000, chunkBytes: 64 * 1024, handoverWindowActors: 1_000, ackWaitMs: 1_000 };
/** One shard: every actor of the kind moves with it. */
const UNIT: MoveUnit = { kind: 'tally', shard: 0, rev: 1 };
const PLAIN = { kind: UNIT.kind, shard: UNIT.shard };

type Log = Array<[string, number]>;

/** A bus whose subscriptions to `subject` hold their messages until `open()`: the hand-over chunks "in flight". */
function gated(bus: Bus, subject: string) {
  const held: Array<() => void> = [];
  let closed = true;
  const subscribe: Bus['subscribe'] = (s, fn, opts) =>
    bus.subscribe(s, s === subject ? (m: BusMsg) => (closed ? held.push(() => fn(m)) : fn(m)) : fn, opts);
  const view = new Proxy(bus, {
    get(t, p) {
      if (p === 'subscribe') return subscribe;
      const v = Reflect.get(t, p, t) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
  return {
    bus: view,
    held: () => held.length,
    open() {
      closed = false;
      for (const f of held.splice(0)) f();
    },
  };
}

describe('live migration: the hand-over window [memory]', () => {
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s();
  });

  async function twoNodes(o: { shards?: number; opts?: Partial<MigrationOptions>; leases?: LeaseTable; handover?: boolean } = {}) {
    const limits = { ...LIMITS, shards: o.shards ?? LIMITS.shards };
    const opts = { ...OPTS, ...o.opts };
    const broker = new MemoryBroker();
    const clock = new ManualClock();
    const connect = (name: string) => {
      const bus = broker.connect({ prefix: 'mw', name });
      stops.push(() => bus.close());
      return bus;
    };
    const busA = connect('A');
    const busB = connect('B');
    const busC = connect('C');
    const host = (nodeId: string, bus: Bus, ownAllShards: boolean) => {
      const h = new ActorHost({ nodeId, bus, clock, kinds: [tallyKind], limits, ownAllShards });
      stops.push(() => h.stop());
      return h;
    };
    const a = host('A', busA, true);
    const b = host('B', busB, false);
    await a.start();
    await b.start();
    const leaseWrites: Array<[string, unknown, number]> = [];
    const leases =
      o.leases ??
      ({
        write: async (key: string, v: unknown, rev: number) => {
          leaseWrites.push([key, v, rev]);
          return rev + 1;
        },
      } as unknown as LeaseTable);
    const membership = { view: async () => [{ id: 'A' }, { id: 'B' }] } as unknown as Membership;
    const migrator = (nodeId: string, h: ActorHost, bus: Bus, control: Bus) =>
      new Migrator({ host: h, bus, control, nodeId, log: silentLogger, clock, leases, membership }, opts);
    const gate = gated(busB, subjects.handover('B', 'm1'));
    const migA = migrator('A', a, busA, busA);
    const migB = migrator('B', b, busB, gate.bus);
    let released: () => void = () => undefined;
    const releasedA = new Promise<void>((r) => (released = r));
    for (const [nodeId, bus, m] of [
      ['A', busA, migA],
      ['B', busB, migB],
    ] as const) {
      const ctl = new Control(bus, nodeId, silentLogger);
      ctl.handle('probe', async (body) => m.probe(body.units as MoveUnit[], String(body.mid)));
      if (o.handover !== false) ctl.handle('handover', async (body) => {
        const r = await m.handover(body.units as MoveUnit[], String(body.mid), body.probers as string[], String(body.to));
        released();
        return r;
      });
      ctl.start();
    }
    await Promise.all([busA.flush(), busB.flush()]);
    const client = new ActorClient(busC, { shards: limits.shards, askTimeoutMs: limits.askTimeoutMs, senderId: 'c' });
    const ask = <T>(id: string, msg: unknown) => client.ref('tally', id).ask<T>(msg);
    return { a, b, busB, busC, clock, gate, migA, migB, releasedA, ask, client, leaseWrites };
  }

  it('holds a message that arrives before the state, then applies it after the state, in order', async () => {
    const { a, b, busC, gate, migB, releasedA, ask } = await twoNodes();
    for (let n = 0; n < 3; n++) expect(await ask('x', { type: 'inc', from: 's', n })).toBe(n + 1);
    expect(a.metrics.activations).toBe(1);

    const move = migB.moveIn('A', [UNIT], 'm1');
    await releasedA; // A has let the shard go; its chunks wait at B's gate
    expect(a.ownsShard(PLAIN.kind, PLAIN.shard)).toBe(false);
    expect(gate.held()).toBeGreaterThan(0);

    const late = ask<number>('x', { type: 'inc', from: 's', n: 3 });
    await busC.flush();
    // Before its state arrives, the new owner has processed nothing of the shard: the message waits in its buffer.
    expect(b.metrics.activations).toBe(0);
    expect(b.buffered(PLAIN.kind, PLAIN.shard)).toBe(1);

    gate.open();
    const stats = await move;
    expect(stats.failed).toEqual([]);
    expect(stats.actors).toBe(1);
    expect(stats.replayed).toBe(1);
    expect(await late).toBe(4); // applied on top of the handed-over state
    const got = await ask<{ count: number; log: Log }>('x', { type: 'get' });
    expect(got.count).toBe(4);
    expect(got.log).toEqual([['s', 0], ['s', 1], ['s', 2], ['s', 3]]);
    expect(b.buffered(PLAIN.kind, PLAIN.shard)).toBe(0);
    expect(a.metrics.activations).toBe(1); // never started again on the old owner
  });

  it('moves an idle actor: the new owner owns the shard, the old one does not, and the actor goes on from its state', async () => {
    const { a, b, gate, migB, releasedA, ask } = await twoNodes();
    expect(await ask('y', { type: 'inc', from: 's', n: 0 })).toBe(1);
    const move = migB.moveIn('A', [UNIT], 'm1');
    await releasedA;
    gate.open();
    const stats = await move;
    expect(stats).toMatchObject({ units: 1, actors: 1, failed: [] });
    expect(b.ownsShard(PLAIN.kind, PLAIN.shard)).toBe(true);
    expect(a.ownsShard(PLAIN.kind, PLAIN.shard)).toBe(false);
    expect(await ask('y', { type: 'inc', from: 's', n: 1 })).toBe(2);
    expect(b.metrics.activations).toBe(1); // restored on its first message after the move
  });

  it('moves several actors in several chunks and units, acknowledged within a window of one actor', async () => {
    const { a, b, migB, gate, releasedA, ask, leaseWrites } = await twoNodes({ shards: 2, opts: { chunkBytes: 1, handoverWindowActors: 1 } });
    const ids = ['p', 'q', 'r', 's', 't', 'u'];
    for (const id of ids) expect(await ask(id, { type: 'inc', from: 's', n: 0 })).toBe(1);
    const units: MoveUnit[] = [
      { kind: 'tally', shard: 0, rev: 5 },
      { kind: 'tally', shard: 1, rev: 6 },
    ];
    const move = migB.moveIn('A', units, 'm1');
    expect(migB.busy('tally.0')).toBe(true);
    await Promise.resolve();
    gate.open(); // from here chunks reach B at once, so A's window of one actor is acknowledged unit by unit
    await releasedA;
    const stats = await move;
    expect(stats).toMatchObject({ units: 2, actors: ids.length, replayed: 0, failed: [] });
    expect(migB.busy('tally.0')).toBe(false);
    expect(b.moving.has('tally.0')).toBe(false);
    expect(a.moving.has('tally.1')).toBe(false);
    for (const u of units) expect([a.ownsShard(u.kind, u.shard), b.ownsShard(u.kind, u.shard)]).toEqual([false, true]);
    // Each lease flipped to the new owner, compare-and-set on the balancer's revision.
    expect(leaseWrites.map(([k, v, rev]) => [k, (v as { o: string; st: string }).o, (v as { st: string }).st, rev]).sort()).toEqual([
      ['tally.0', 'B', 'owned', 5],
      ['tally.1', 'B', 'owned', 6],
    ]);
    for (const id of ids) expect(await ask(id, { type: 'inc', from: 's', n: 1 })).toBe(2);
  });

  it('restores at once an actor with a pending timer (its timer must run without a message); idle ones stay images', async () => {
    const { b, busC, clock, gate, migB, releasedA, ask, client } = await twoNodes();
    expect(await ask('idle', { type: 'inc' })).toBe(1);
    client.ref('tally', 'armed').tell({ type: 'arm', ms: 1000 });
    await busC.flush();
    const move = migB.moveIn('A', [UNIT], 'm1');
    await releasedA;
    gate.open();
    expect((await move).actors).toBe(2);
    expect(b.metrics.activations).toBe(1); // 'armed' restored, 'idle' still an image
    clock.advance(1000);
    await busC.flush();
    const got = await ask<{ fired: number }>('armed', { type: 'get' });
    expect(got.fired).toBe(1);
  });

  it('drops an adopted shard whose lease flip fails (the balancer reverted the move)', async () => {
    const leases = { write: async () => Promise.reject(new Error('wrong last sequence')) } as unknown as LeaseTable;
    const { b, gate, migB, releasedA } = await twoNodes({ leases });
    const move = migB.moveIn('A', [UNIT], 'm1');
    await releasedA;
    gate.open();
    const stats = await move;
    expect(stats.failed).toEqual([]);
    expect(b.ownsShard(PLAIN.kind, PLAIN.shard)).toBe(false);
  });

  it('ignores unreadable and foreign chunks on its hand-over subject', async () => {
    const { b, busB, gate, migB, releasedA, ask } = await twoNodes();
    expect(await ask('v', { type: 'inc' })).toBe(1);
    const move = migB.moveIn('A', [UNIT], 'm1');
    busB.publish(subjects.handover('B', 'm1'), new Uint8Array([0xc1]));
    busB.publish(subjects.handover('B', 'm1'), encode({ u: 'tally.9', c: [], last: true }));
    await releasedA;
    gate.open();
    const stats = await move;
    expect(stats).toMatchObject({ units: 1, actors: 1, failed: [] });
    expect(b.ownsShard(PLAIN.kind, PLAIN.shard)).toBe(true);
    expect(await ask('v', { type: 'inc' })).toBe(2);
  });

  it('a hand-over the old owner refuses aborts the move: the new owner lets its buffering subscription go', async () => {
    const { a, b, migB, ask } = await twoNodes({ handover: false });
    expect(await ask('w', { type: 'inc' })).toBe(1);
    await expect(migB.moveIn('A', [UNIT], 'm1')).rejects.toThrow(/unknown control request handover/);
    expect(b.ownsShard(PLAIN.kind, PLAIN.shard)).toBe(false);
    expect(migB.busy('tally.0')).toBe(false);
    expect(b.moving.has('tally.0')).toBe(false);
    expect(a.ownsShard(PLAIN.kind, PLAIN.shard)).toBe(true);
    expect(await ask('w', { type: 'inc' })).toBe(2); // still served by the old owner
  });

  it('a hand-over whose chunks never arrive ends on the clock with the unit failed and abandoned', async () => {
    const { b, clock, migB, releasedA } = await twoNodes();
    let ended = false;
    const move = migB.moveIn('A', [UNIT], 'm1').finally(() => (ended = true));
    await releasedA; // the gate stays closed: the chunks are "lost"
    while (!ended) {
      clock.advance(OPTS.probeTimeoutMs);
      await new Promise((r) => setImmediate(r));
    }
    const stats = await move;
    expect(stats.failed).toEqual(['tally.0']);
    expect(stats.units).toBe(0);
    expect(b.ownsShard(PLAIN.kind, PLAIN.shard)).toBe(false);
  });
});
