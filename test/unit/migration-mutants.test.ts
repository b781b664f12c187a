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

  async function twoNodes() {
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
      const h = new ActorHost({ nodeId, bus, clock, kinds: [tallyKind], limits: LIMITS, ownAllShards });
      stops.push(() => h.stop());
      return h;
    };
    const a = host('A', busA, true);
    const b = host('B', busB, false);
    await a.start();
    await b.start();
    const leases = { write: async () => 2 } as unknown as LeaseTable;
    const membership = { view: async () => [{ id: 'A' }, { id: 'B' }] } as unknown as Membership;
    const migrator = (nodeId: string, h: ActorHost, bus: Bus, control: Bus) =>
      new Migrator({ host: h, bus, control, nodeId, log: silentLogger, clock, leases, membership }, OPTS);
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
      ctl.handle('handover', async (body) => {
        const r = await m.handover(body.units as MoveUnit[], String(body.mid), body.probers as string[], String(body.to));
        released();
        return r;
      });
      ctl.start();
    }
    await Promise.all([busA.flush(), busB.flush()]);
    const client = new ActorClient(busC, { shards: LIMITS.shards, askTimeoutMs: LIMITS.askTimeoutMs, senderId: 'c' });
    const ask = <T>(id: string, msg: unknown) => client.ref('tally', id).ask<T>(msg);
    return { a, b, busC, gate, migB, releasedA, ask };
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
});
