/**
 * Hibernation (actors/runtime/hibernate.ts): an actor idle for `hibernateAfterMs` keeps only a compact image and is
 * restored by its next message with the same state; per-sender order and dedupe hold across it; an actor with a
 * pending timer stays live so the timer fires on time; in-memory actors still passivate when their kind allows; the
 * lifecycle feed sees the instance close and start again. On the in-memory bus with a ManualClock (sweeps run on it).
 */
import { describe, expect, it } from 'vitest';
import { ActorClient } from '../../../actors/runtime/client.js';
import { encodeEnvelope } from '../../../actors/runtime/envelope.js';
import { ActorHost } from '../../../actors/runtime/host.js';
import { ManualClock } from '../../../common/clock.js';
import { eventually } from '../../../dev/wait.js';
import { memoryHosts } from '../../support/memory-hosts.js';
import { TEST_LIMITS } from '../../support/hosts.js';
import { counterKind, tallyKind } from '../../support/test-kinds.js';

const HIBERNATE_MS = 1000;
type Tally = { count: number; fired: number; log: Array<[string, number]> };

describe('hibernation', () => {
  const m = memoryHosts();
  let n = 0;

  async function setup(o: { nodeId?: string; prefix?: string; ownAllShards?: boolean; clock?: ManualClock } = {}) {
    const prefix = o.prefix ?? `hib${++n}`;
    const clock = o.clock ?? new ManualClock();
    const events: string[] = [];
    const host = new ActorHost({
      nodeId: o.nodeId ?? 'n1',
      bus: await m.env.connect(prefix),
      store: await m.env.store(prefix),
      clock,
      kinds: [counterKind, tallyKind],
      limits: { ...TEST_LIMITS, hibernateAfterMs: HIBERNATE_MS },
      ownAllShards: o.ownAllShards ?? true,
      lifecycle: (e, kind, id) => events.push(`${e} ${kind}/${id}`),
    });
    await host.start();
    m.hosts.push(host);
    const client = new ActorClient(await m.env.connect(prefix), { shards: TEST_LIMITS.shards, askTimeoutMs: 5000 });
    const dormant = (kind: string, id: string) => host.cells.existing(kind, id)?.isDormant === true;
    return { host, client, clock, events, prefix, dormant };
  }

  it('wakes a hibernated actor with the same state, in-memory and durable, and counts it', async () => {
    const { host, client, clock, events, dormant } = await setup();
    for (let i = 0; i < 3; i++) await client.ask({ kind: 'tally', id: 't1' }, { type: 'inc', from: 'a', n: i });
    await client.ask({ kind: 'counter', id: 'c1' }, { type: 'inc', by: 5 });
    clock.advance(HIBERNATE_MS + 1);
    host.sweep();
    expect(dormant('tally', 't1') && dormant('counter', 'c1')).toBe(true);
    expect(host.metrics.hibernations).toBe(2);
    expect(host.activeCount()).toBe(2); // still here (not passivated): only smaller

    const t = await client.ask<Tally>({ kind: 'tally', id: 't1' }, { type: 'get' });
    expect(t).toEqual({ count: 3, fired: 0, log: [['a', 0], ['a', 1], ['a', 2]] });
    expect((await client.ask<Tally>({ kind: 'counter', id: 'c1' }, { type: 'get' })).count).toBe(5);
    expect(host.metrics.wakes).toBe(2);
    // The durable one writes on from the revision it hibernated with (a stale revision would be fenced: CONFLICT).
    expect(await client.ask({ kind: 'counter', id: 'c1' }, { type: 'inc' })).toBe(6);
    expect(host.metrics.fenced).toBe(0);
    expect(events.filter((e) => e.endsWith('tally/t1'))).toEqual(['active tally/t1', 'closed tally/t1', 'active tally/t1']);
  });

  it('keeps per-sender order and drops duplicates across hibernation', async () => {
    const { host, client, clock, prefix, dormant } = await setup();
    const senders = await Promise.all([1, 2, 3].map(async () => new ActorClient(await m.env.connect(prefix), { shards: TEST_LIMITS.shards, askTimeoutMs: 5000 })));
    const id = { kind: 'tally', id: 'order' };
    // A raw envelope with a fixed (sender, seq): delivered before hibernation, then replayed after it.
    const bus = await m.env.connect(prefix);
    const dup = encodeEnvelope({ m: { type: 'inc', from: 'dup', n: 0 }, s: 'replayer', q: Date.now() * 1000 });
    bus.publish(client.subjectOf(id), dup);
    for (let k = 0; k < 50; k++) senders.forEach((s, i) => s.tell(id, { type: 'inc', from: `s${i}`, n: k }));
    await eventually(async () => (await client.ask<Tally>(id, { type: 'get' })).count === 151, { what: 'first half applied' });

    clock.advance(HIBERNATE_MS + 1);
    host.sweep();
    expect(dormant('tally', 'order')).toBe(true);
    bus.publish(client.subjectOf(id), dup); // dropped while dormant, without waking it
    for (let k = 50; k < 100; k++) senders.forEach((s, i) => s.tell(id, { type: 'inc', from: `s${i}`, n: k }));
    const t = await eventually(async () => {
      const v = await client.ask<Tally>(id, { type: 'get' });
      return v.count >= 301 ? v : undefined;
    });
    expect(t.count).toBe(301);
    for (let i = 0; i < senders.length; i++) {
      expect(t.log.filter(([f]) => f === `s${i}`).map(([, k]) => k)).toEqual(Array.from({ length: 100 }, (_, k) => k));
    }
    expect(t.log.filter(([f]) => f === 'dup')).toHaveLength(1);
    expect(host.metrics.duplicates).toBeGreaterThanOrEqual(1);
    await bus.close();
  });

  it('never hibernates an actor with a pending timer: the timer fires on time, then it may hibernate', async () => {
    const { host, client, clock, dormant } = await setup();
    await client.ask({ kind: 'tally', id: 'timed' }, { type: 'arm', ms: 5000 });
    clock.advance(HIBERNATE_MS * 3);
    host.sweep();
    expect(dormant('tally', 'timed')).toBe(false);
    clock.advance(5000);
    await eventually(async () => (await client.ask<Tally>({ kind: 'tally', id: 'timed' }, { type: 'get' })).fired === 1, { what: 'timer fired' });
    clock.advance(HIBERNATE_MS + 1);
    host.sweep();
    expect(dormant('tally', 'timed')).toBe(true);
    expect((await client.ask<Tally>({ kind: 'tally', id: 'timed' }, { type: 'get' })).fired).toBe(1);
  });

  it('passivates a hibernated in-memory actor only when its kind allows, and hands hibernated actors over', async () => {
    const clock = new ManualClock();
    const prefix = `hib${++n}`;
    const a = await setup({ clock, prefix, nodeId: 'ha' });
    await a.client.ask({ kind: 'tally', id: 'zero' }, { type: 'get' }); // count 0: may passivate
    await a.client.ask({ kind: 'tally', id: 'kept' }, { type: 'inc', by: 7 });
    clock.advance(HIBERNATE_MS + 1);
    a.host.sweep();
    expect(a.dormant('tally', 'zero') && a.dormant('tally', 'kept')).toBe(true);
    clock.advance(TEST_LIMITS.passivateAfterMs);
    a.host.sweep();
    expect(a.host.cells.existing('tally', 'zero')).toBeUndefined();
    expect(a.dormant('tally', 'kept')).toBe(true);

    // A live migration of a hibernated actor carries its image; the new owner has the same state.
    const b = await setup({ clock, prefix, nodeId: 'hb', ownAllShards: false });
    const shard = a.client.shardOf('kept');
    const images = await a.host.releaseShard('tally', shard);
    b.host.ownShard('tally', shard);
    await b.host.bus.flush();
    for (const { id, image } of images) b.host.adopt('tally', id, image, { lazy: true });
    expect((await a.client.ask<Tally>({ kind: 'tally', id: 'kept' }, { type: 'get' })).count).toBe(7);
  });
});
