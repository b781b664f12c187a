/**
 * Liveness over heartbeats (cluster/liveness.ts) on the in-memory bus and an injected clock: views from heard beats,
 * the fence (a node cut off stops serving before anyone may declare it dead), and a stalled process (SIGSTOP, a clock
 * jump) refusing work at once when it wakes, before any of its timers ran.
 */
import { describe, expect, it } from 'vitest';
import type { Bus } from '../../bus/bus.js';
import { MemoryBroker } from '../../bus/memory-bus.js';
import { ManualClock, type Clock } from '../../common/clock.js';
import { silentLogger } from '../../common/logger.js';
import { Liveness } from '../../cluster/liveness.js';
import { ActorClient } from '../../actors/runtime/client.js';
import { ActorHost } from '../../actors/runtime/host.js';
import { tallyKind } from '../../actors/demo/ledger.js';
import type { NodeRecord } from '../../cluster/records.js';

const O = { heartbeatMs: 250, deadAfterMs: 1500, fenceAfterMs: 1000 };

/** A clock that can jump forward without firing the timers in between, as a stopped process sees time. */
class JumpClock implements Clock {
  offset = 0;
  constructor(readonly manual: ManualClock) {}
  now = () => this.manual.now() + this.offset;
  setTimeout = (fn: () => void, ms: number) => this.manual.setTimeout(fn, ms);
  clearTimeout = (h: unknown) => this.manual.clearTimeout(h);
}

/**
 * A bus whose publishes can be dropped (the node is cut off from its server), and which can stop hearing the beats of
 * some nodes (`deafTo`: its server lost its routes to theirs, while it still hears itself).
 */
function cuttable(bus: Bus): Bus & { cut: boolean; deafTo: Set<string> } {
  const b = Object.create(bus) as Bus & { cut: boolean; deafTo: Set<string> };
  b.cut = false;
  b.deafTo = new Set();
  b.publish = (s, d, o) => {
    if (!b.cut) bus.publish(s, d, o);
  };
  b.subscribe = (s, h, o) => bus.subscribe(s, (m) => (b.deafTo.has(m.subject.slice(m.subject.lastIndexOf('.') + 1)) ? undefined : h(m)), o);
  return b;
}

const record = (id: string): NodeRecord => ({ id, roles: ['worker'], capacity: 1, draining: false, startedAt: 0, pid: 1, host: 'h', load: { actors: 0, shards: 0, msgsPerSec: 0 } });

async function setup(ids: string[]) {
  const broker = new MemoryBroker();
  const manual = new ManualClock();
  const clock = new JumpClock(manual);
  const nodes = ids.map((id) => {
    const bus = cuttable(broker.connect({ prefix: 'lv' }));
    const l = new Liveness(bus, () => record(id), clock, silentLogger, O);
    return { id, bus, l, lapses: 0, changes: 0, isolations: 0 };
  });
  for (const n of nodes) {
    n.l.onLapse = () => n.lapses++;
    n.l.onChange = () => n.changes++;
    n.l.onIsolated = () => n.isolations++;
  }
  const flush = () => broker.connect({ prefix: 'lv' }).flush();
  // start() resolves when the node heard itself: deliveries are asynchronous on the memory bus.
  await Promise.all(nodes.map((n) => n.l.start()));
  /** Moves time in heartbeat steps, delivering what was published at each step. */
  const step = async (ms: number) => {
    for (let t = 0; t < ms; t += 50) {
      manual.advance(50);
      await flush();
    }
  };
  return { nodes, step, clock, flush };
}

describe('liveness over heartbeats', () => {
  it('every node sees every node that beats, and serves', async () => {
    const { nodes, step } = await setup(['a', 'b', 'c']);
    await step(300);
    for (const n of nodes) {
      expect(n.l.alive().map((r) => r.id)).toEqual(['a', 'b', 'c']);
      expect(n.l.serving()).toBe(true);
    }
    await step(5000);
    for (const n of nodes) expect(n.lapses).toBe(0);
  });

  it('a node cut off from its server stops serving before anyone declares it dead', async () => {
    const { nodes, step } = await setup(['a', 'b', 'c']);
    await step(300);
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    a.bus.cut = true;
    let fencedWhileStillAliveForB = false;
    for (let i = 0; i < 60 && b.l.alive().some((r) => r.id === 'a'); i++) {
      if (!a.l.serving() && b.l.alive().some((r) => r.id === 'a')) fencedWhileStillAliveForB = true;
      await step(50);
    }
    expect(fencedWhileStillAliveForB).toBe(true);
    expect(b.l.alive().map((r) => r.id)).toEqual(['b', 'c']);
    expect(b.changes).toBeGreaterThan(0);
    expect(a.lapses).toBe(1);
    expect(a.l.lapseCause).toBe('own-heartbeat');
    expect(b.lapses).toBe(0); // the survivors, still hearing each other, never lapsed
    expect(nodes[2]!.lapses).toBe(0);
    // Healed: a hears itself again but stays fenced until the cluster says it re-read its leases.
    a.bus.cut = false;
    await step(500);
    expect(a.l.confirmed).toBe(true);
    expect(a.l.serving()).toBe(false);
    a.l.recovered();
    expect(a.l.serving()).toBe(true);
    expect(b.l.alive().map((r) => r.id)).toEqual(['a', 'b', 'c']);
  });

  it('a node that hears only itself (its server cut off from the others) asks to move, then stops serving before anyone declares it dead', async () => {
    const { nodes, step } = await setup(['a', 'b', 'c']);
    await step(300);
    const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
    a.bus.deafTo = new Set(['b', 'c']);
    b.bus.deafTo = new Set(['a']);
    c.bus.deafTo = new Set(['a']);
    let fencedWhileStillAliveForB = false;
    let signalledBeforeFence = false;
    for (let i = 0; i < 60 && b.l.alive().some((r) => r.id === 'a'); i++) {
      if (a.isolations > 0 && a.lapses === 0) signalledBeforeFence = true;
      if (!a.l.serving() && b.l.alive().some((r) => r.id === 'a')) fencedWhileStillAliveForB = true;
      await step(50);
    }
    expect(signalledBeforeFence).toBe(true);
    expect(a.isolations).toBe(1);
    expect(fencedWhileStillAliveForB).toBe(true);
    expect(a.l.lapseCause).toBe('isolated');
    expect([b.lapses, c.lapses, b.isolations, c.isolations]).toEqual([0, 0, 0, 0]);
    // Healed (its connections moved to a server that reaches the others): it hears them, and stays fenced until the
    // cluster has re-read its leases.
    for (const n of nodes) n.bus.deafTo = new Set();
    await step(500);
    expect(a.l.isolated).toBe(false);
    expect(a.l.serving()).toBe(false);
    a.l.recovered();
    expect(a.l.serving()).toBe(true);
  });

  it('the last node left hearing itself lapses as isolated, and is no longer isolated once the others are declared dead', async () => {
    const { nodes, step } = await setup(['a', 'b']);
    await step(300);
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    b.bus.cut = true; // b died (kill -9): nothing of it is heard any more
    await step(1100);
    expect(a.lapses).toBe(1);
    expect(a.l.lapseCause).toBe('isolated');
    await step(600);
    expect(a.l.alive().map((r) => r.id)).toEqual(['a']);
    expect(a.l.isolated).toBe(false);
    a.l.recovered(); // the cluster proved it is on the quorum side by a store write and re-read its leases
    expect(a.l.serving()).toBe(true);
    await step(3000);
    expect(a.lapses).toBe(1);
  });

  it('a stopped process (clock jumped, no timer ran) refuses work at its first check after waking', async () => {
    const { nodes, step, clock } = await setup(['a', 'b']);
    await step(300);
    const [a] = nodes;
    expect(a!.l.servedUntil).toBeUndefined();
    const stoppedAt = clock.now();
    clock.offset += 10_000; // SIGSTOP for 10 s, then SIGCONT: nothing ran meanwhile
    expect(a!.l.serving()).toBe(false);
    expect(a!.lapses).toBe(1);
    // It served until its last confirmed window ran out, not until it woke: what the lifecycle feed records as its fence.
    expect(a!.l.servedUntil).toBe(a!.l.confirmedBeforeLapse + O.fenceAfterMs);
    expect(a!.l.servedUntil!).toBeGreaterThan(stoppedAt);
    expect(a!.l.servedUntil!).toBeLessThanOrEqual(stoppedAt + O.fenceAfterMs);
    // Its tick, running late, judges nobody dead before reading the beats waiting for it: b is still known once they
    // are read, and no death was announced.
    const changes = a!.changes;
    await step(300);
    expect(a!.l.alive().map((r) => r.id)).toEqual(['a', 'b']);
    expect(a!.changes).toBe(changes);
    expect(a!.l.serving()).toBe(false); // sticky until the leases are re-read
  });

  it('a silent node is declared dead when the own beat of a survivor shows deadAfterMs of silence, not a tick later', async () => {
    const { nodes, step, clock } = await setup(['a', 'b', 'c']);
    await step(300);
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    a.bus.cut = true; // as a kill -9: a's beats stop
    let lastHeard = b.l.lastHeard('a')!;
    const before = b.changes;
    for (let i = 0; i < 80 && b.changes === before; i++) {
      lastHeard = b.l.lastHeard('a') ?? lastHeard;
      await step(50);
    }
    const declaredAfter = clock.now() - lastHeard;
    expect(b.l.alive().map((r) => r.id)).toEqual(['b', 'c']);
    // Never before deadAfterMs of silence (the fence rule), and within the heartbeat after it (judging only at the
    // next tick took up to two heartbeats past it: 1750-2000 ms here).
    expect(declaredAfter).toBeGreaterThanOrEqual(O.deadAfterMs);
    expect(declaredAfter).toBeLessThan(O.deadAfterMs + O.heartbeatMs);
  });

  it('a node saying goodbye is dropped at once', async () => {
    const { nodes, step } = await setup(['a', 'b']);
    await step(300);
    nodes[1]!.l.stop();
    await step(50);
    expect(nodes[0]!.l.alive().map((r) => r.id)).toEqual(['a']);
  });
});

describe('the fence on an actor host', () => {
  it('closes every sharded instance at once (in-memory kind), answers queued asks NOT_OWNER, and activates nothing until serving again', async () => {
    const broker = new MemoryBroker();
    const events: string[] = [];
    let serving = true;
    const host = new ActorHost({
      nodeId: 'n1',
      bus: broker.connect({ prefix: 'fe' }),
      kinds: [tallyKind],
      limits: { shards: 4, mailboxLimit: 100, askTimeoutMs: 2000, passivateAfterMs: 60_000, maxRestarts: 3, restartWindowMs: 10_000 },
      ownAllShards: true,
      lifecycle: (e, k, i) => void events.push(`${e} ${k}/${i}`),
    });
    await host.start();
    host.setServingCheck(() => serving);
    const client = new ActorClient(broker.connect({ prefix: 'fe' }), { shards: 4, askTimeoutMs: 2000 });
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (const id of ids) await client.ask({ kind: 'tally', id }, { type: 'inc', from: 's', n: 0 });
    expect(host.activeCount('tally')).toBe(ids.length);
    serving = false; // the fence ran out
    expect(host.fence()).toBe(ids.length);
    expect(host.activeCount('tally')).toBe(0);
    expect(events.filter((e) => e.startsWith('closed')).length).toBe(ids.length);
    // Meanwhile nothing is activated: the message waits (held), and is refused when the shard went elsewhere.
    const held = client.ask({ kind: 'tally', id: 'a' }, { type: 'inc', from: 's', n: 1 });
    await broker.connect({ prefix: 'fe' }).flush();
    expect(host.activeCount('tally')).toBe(0);
    serving = true;
    host.resumeServing(); // the cluster re-read its leases: the shard is still ours, so the held message goes on
    await held;
    expect(host.activeCount('tally')).toBe(1);
    expect(events.filter((e) => e === 'active tally/a').length).toBe(2); // a fresh instance (in-memory state lost)
    await host.stop();
  });
});
