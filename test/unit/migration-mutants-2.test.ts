/**
 * The hand-over of cluster/migration.ts in detail, on two in-memory hosts (migration-harness.ts), written against the
 * survivors of its mutation run: where each phase's time goes, who probes and who is waited for, duplicate and oversized
 * hand-overs, a buffering subscription lost mid-move, the old owner's claim on a shard while it waits, what is logged,
 * and what a move leaves behind (timers, probe records, lease writes). Every wait is bounded in event-loop turns.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decode, encode } from '../../bus/codec.js';
import { encodeEnvelope } from '../../actors/runtime/envelope.js';
import { subjects } from '../../bus/subjects.js';
import type { LeaseTable } from '../../cluster/leases.js';
import type { MoveUnit } from '../../cluster/migration.js';
import { BATCHED_UNIT, OPTS, PLAIN, UNIT, turn, twoNodes as nodes, until, within, type TwoNodesOptions } from './migration-harness.js';

type Rec = Record<string, unknown>;
const probeRecords = (h: { probes: unknown }) => (h.probes as unknown as { seenByMove: Map<string, unknown> }).seenByMove;
const messages = (records: Rec[], level?: number) => records.filter((r) => level === undefined || r.level === level).map((r) => r.msg);

describe('live migration: hand-over details [memory]', () => {
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const s of stops.splice(0).reverse()) await within(s(), 'stopping a host or bus');
  });
  const twoNodes = (o: TwoNodesOptions = {}) => nodes(stops, o);

  it('reports where the time went, phase by phase (performance.now scripted by the steps themselves)', async () => {
    let now = 5_000;
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    const leases = {
      write: async (_k: string, _v: unknown, rev: number) => {
        now += 100_000;
        return rev + 1;
      },
    } as unknown as LeaseTable;
    const { b, gate, migB, released, ask } = await twoNodes({ leases, onView: () => (now += 10), onHandover: () => (now += 100) });
    expect(await ask('t', { type: 'inc' })).toBe(1);
    const own = b.ownShard.bind(b);
    b.ownShard = (...args: Parameters<typeof own>) => {
      now += 1;
      own(...args);
    };
    const adopt = b.adopt.bind(b);
    b.adopt = (...args: Parameters<typeof adopt>) => {
      now += 1_000;
      adopt(...args);
    };
    const unbuffer = b.unbuffer.bind(b);
    b.unbuffer = (...args: Parameters<typeof unbuffer>) => {
      now += 10_000;
      return unbuffer(...args);
    };
    const move = migB.moveIn('A', [UNIT], 'm1');
    await released();
    gate.open();
    const stats = await within(move, 'the move');
    expect(stats).toMatchObject({ subscribeMs: 1, probeMs: 10, handoverMs: 100 + 1_000 + 10_000, adoptMs: 1_000, replayMs: 10_000, leaseMs: 100_000 });
  });

  it('probes through every member and itself (even when the view lacks it), itself without a request, and hands the probers over', async () => {
    for (const members of [['A', 'B'], ['A']]) {
      const { a, migB, gate, released, ask, probeRequests, handovers } = await twoNodes({ members });
      expect(await ask('p', { type: 'inc' })).toBe(1);
      expect(await ask('q', { type: 'inc' })).toBe(1);
      const move = migB.moveIn('A', [UNIT], 'm1');
      await released();
      gate.open();
      expect((await within(move, 'the move')).failed).toEqual([]);
      expect(probeRequests).toEqual(['A']); // B publishes its own probe, with no control request to itself
      expect(handovers).toEqual([{ probers: ['A', 'B'], to: 'B', actors: 2 }]);
      expect(a.moving.size).toBe(0);
      for (const s of stops.splice(0).reverse()) await within(s(), 'stopping');
    }
  });

  it('asks for the hand-over only once every prober’s probe reached the new owner', async () => {
    const { gate, migB, ask, handoverStarted, releaseProbe } = await twoNodes({ holdProbe: true });
    expect(await ask('h', { type: 'inc' })).toBe(1);
    let ended = false;
    const move = migB.moveIn('A', [UNIT], 'm1').finally(() => (ended = true));
    for (let i = 0; i < 50; i++) await turn();
    expect(handoverStarted()).toBe(false); // A answered the probe request, but its probe is not out yet
    expect(ended).toBe(false);
    gate.open();
    await within(releaseProbe(), 'the held probe');
    expect((await within(move, 'the move')).actors).toBe(1);
  });

  it('the old owner claims the shard while it waits for probes, and gives up the claim when they never come', async () => {
    const { a, migA, clock } = await twoNodes();
    const timers = clock.pending;
    const handover = migA.handover([PLAIN], 'mx', ['A', 'Z'], 'B');
    let failed: unknown;
    handover.catch((e: unknown) => (failed = e));
    expect(await until(() => migA.busy('tally.0'))).toBe(true);
    expect(a.moving.has('tally.0')).toBe(true);
    expect(await until(() => clock.pending > timers)).toBe(true); // the probe wait's timer is set
    clock.advance(OPTS.probeTimeoutMs);
    expect(await until(() => failed !== undefined)).toBe(true);
    expect(String(failed)).toMatch(/probes missing/);
    expect(migA.busy('tally.0')).toBe(false);
    expect(a.moving.has('tally.0')).toBe(false);
    expect(a.ownsShard(PLAIN.kind, PLAIN.shard)).toBe(true); // never released
  });

  it('adopts each unit once when its chunks arrive twice, and each node forgets the move’s probes', async () => {
    // One chunk per unit (each its last): a repeated last chunk is the only duplicate the new owner can tell apart.
    const { a, b, gate, migB, released, ask, logsB } = await twoNodes({ shards: 2 });
    for (const id of ['d1', 'd2', 'd3']) expect(await ask(id, { type: 'inc' })).toBe(1);
    const units: MoveUnit[] = [
      { kind: 'tally', shard: 0, rev: 1 },
      { kind: 'tally', shard: 1, rev: 1 },
    ];
    gate.duplicate();
    const move = migB.moveIn('A', units, 'm1');
    await released();
    gate.open();
    const stats = await within(move, 'the move');
    expect(stats).toMatchObject({ units: 2, actors: 3, failed: [] });
    for (const id of ['d1', 'd2', 'd3']) expect(await ask(id, { type: 'inc' })).toBe(2);
    expect(probeRecords(a).size).toBe(0);
    expect(probeRecords(b).size).toBe(0);
    const ended = logsB.find((r) => r.msg === 'move-in ended')!;
    expect(ended).toMatchObject({ mid: 'm1', from: 'A', units: 2, actors: 3, failed: 0 });
  });

  it('fills a chunk until its estimate reaches chunkBytes, then starts the next', async () => {
    // First learn each actor's entry estimate (image + id + 8 bytes) from a hand-over of one actor per chunk.
    const sizes = async (chunkBytes: number) => {
      const { gate, migB, released, ask } = await twoNodes({ opts: { chunkBytes } });
      for (const id of ['c1', 'c2', 'c3']) expect(await ask(id, { type: 'inc' })).toBe(1);
      const move = migB.moveIn('A', [UNIT], 'm1');
      await released();
      gate.open();
      expect((await within(move, 'the move')).actors).toBe(3);
      const chunks = gate.seen.map((m) => decode<{ c: Array<[string, boolean, unknown, Uint8Array]>; last: boolean }>(m.data));
      for (const s of stops.splice(0).reverse()) await within(s(), 'stopping');
      return chunks;
    };
    const single = await sizes(1);
    expect(single.map((c) => [c.c.length, c.last])).toEqual([[1, false], [1, false], [1, false], [0, true]]);
    const [e1, e2] = single.map((c) => (c.c[0] ? c.c[0][3].length + c.c[0][0].length + 8 : 0));
    // Exactly two entries' worth: the first chunk closes at the second actor, the third goes in the last chunk.
    expect((await sizes(e1! + e2!)).map((c) => [c.c.length, c.last])).toEqual([[2, false], [1, true]]);
    expect((await sizes(e1! + e2! + 1)).map((c) => [c.c.length, c.last])).toEqual([[3, false], [0, true]]);
  });

  it('takes the shard live when its buffering subscription was lost mid-move, and says so', async () => {
    const { b, gate, migB, released, ask, logsB } = await twoNodes();
    expect(await ask('l', { type: 'inc' })).toBe(1);
    const move = migB.moveIn('A', [UNIT], 'm1');
    await released();
    b.abandonShard(PLAIN.kind, PLAIN.shard);
    gate.open();
    expect(await within(move, 'the move')).toMatchObject({ units: 1, actors: 1, failed: [] });
    expect(b.ownsShard(PLAIN.kind, PLAIN.shard)).toBe(true);
    expect(await ask('l', { type: 'inc' })).toBe(2);
    expect(logsB.find((r) => r.level === 50)).toMatchObject({ shard: 'tally.0', msg: 'shard subscription lost during a move-in: adopting into a new subscription' });
  });

  it('logs an unreadable chunk, an aborted move, and a failed lease flip with the key', async () => {
    {
      const { busB, gate, migB, released, ask, logsB } = await twoNodes();
      expect(await ask('u', { type: 'inc' })).toBe(1);
      const move = migB.moveIn('A', [UNIT], 'm1');
      busB.publish(subjects.handover('B', 'm1'), new Uint8Array([0x92])); // an array of two, cut short
      await released();
      gate.open();
      await within(move, 'the move');
      expect(logsB.find((r) => r.level === 50)).toMatchObject({ mid: 'm1', msg: 'unreadable hand-over chunk' });
      for (const s of stops.splice(0).reverse()) await within(s(), 'stopping');
    }
    {
      const { migB, logsB } = await twoNodes({ handover: false });
      await expect(within(migB.moveIn('A', [UNIT], 'm1'), 'the refused move')).rejects.toThrow(/handover/);
      expect(logsB.find((r) => r.level === 40)).toMatchObject({ mid: 'm1', from: 'A', units: 1, msg: 'move aborted' });
      expect(logsB.find((r) => r.msg === 'move-in ended')).toMatchObject({ failed: 1 });
      for (const s of stops.splice(0).reverse()) await within(s(), 'stopping');
    }
    {
      const leases = { write: async () => Promise.reject(new Error('wrong last sequence')) } as unknown as LeaseTable;
      const { gate, migB, released, logsB } = await twoNodes({ leases });
      const move = migB.moveIn('A', [UNIT], 'm1');
      await released();
      gate.open();
      await within(move, 'the move');
      expect(messages(logsB, 50)).toEqual(['lease flip failed']);
      expect(logsB.find((r) => r.level === 50)).toMatchObject({ key: 'tally.0', err: { message: 'wrong last sequence' } });
      expect(logsB.find((r) => r.level === 40)).toMatchObject({ key: 'tally.0', msg: 'lease changed during the move: dropping the shard' });
    }
  });

  it('a move leaves no timer behind, flips the lease at the clock’s time, and flips none for a unit never adopted', async () => {
    const { clock, gate, migB, released, ask, leaseWrites } = await twoNodes();
    expect(await ask('k', { type: 'inc' })).toBe(1);
    const before = clock.pending;
    const move = migB.moveIn('A', [UNIT], 'm1');
    await released();
    gate.open();
    await within(move, 'the move');
    expect(clock.pending).toBe(before);
    expect(leaseWrites).toEqual([['tally.0', { o: 'B', st: 'owned', t: clock.now() }, 1]]);
    for (const s of stops.splice(0).reverse()) await within(s(), 'stopping');

    const lost = await twoNodes();
    const lostMove = lost.migB.moveIn('A', [UNIT], 'm1');
    await lost.released(); // the gate stays closed
    let ended = false;
    void lostMove.finally(() => (ended = true)).catch(() => undefined);
    for (let i = 0; i < 20 && !ended; i++) {
      lost.clock.advance(OPTS.probeTimeoutMs);
      await turn();
    }
    expect((await within(lostMove, 'the lost move')).failed).toEqual(['tally.0']);
    expect(lost.leaseWrites).toEqual([]);
  });

  it('ignores a chunk of a unit not in the move, and an unreadable acknowledgement at the old owner', async () => {
    const { a, busA, gate, migB, released, ask } = await twoNodes();
    expect(await ask('f', { type: 'inc' })).toBe(1);
    const move = migB.moveIn('A', [UNIT], 'm1');
    busA.publish(subjects.handoverAck('A', 'm1'), new Uint8Array([0xc1]));
    busA.publish(subjects.handover('B', 'm1'), encode({ u: 'tally.7', c: [['zz', true, [], encode([null, 0, [], false])]], last: true }));
    await released();
    gate.open();
    expect(await within(move, 'the move')).toMatchObject({ units: 1, actors: 1 });
    expect(a.ownsShard(PLAIN.kind, PLAIN.shard)).toBe(false);
  });

  it('waits for every unit’s last chunk, not just the first', async () => {
    const { gate, migB, released, ask } = await twoNodes({ shards: 2 });
    for (const id of ['w1', 'w2', 'w3']) expect(await ask(id, { type: 'inc' })).toBe(1);
    const units: MoveUnit[] = [
      { kind: 'tally', shard: 0, rev: 1 },
      { kind: 'tally', shard: 1, rev: 1 },
    ];
    let ended = false;
    const move = migB.moveIn('A', units, 'm1').finally(() => (ended = true));
    await released();
    expect(gate.held()).toBe(2);
    gate.releaseOne();
    for (let i = 0; i < 50; i++) await turn();
    expect(ended).toBe(false);
    gate.open();
    expect(await within(move, 'the move')).toMatchObject({ units: 2, actors: 3, failed: [] });
  });

  it('hands over the messages still queued at the old owner, with their askers, and restores that actor at once', async () => {
    const { a, b, busC, client, gate, migB, released, ask } = await twoNodes();
    expect(await ask('q', { type: 'inc', from: 's', n: 0 })).toBe(1);
    // Confirmed when the inbox takes each message, lapsed when the actor would run it: both wait in its mailbox.
    let calls = 0;
    a.setServingCheck(() => calls++ % 2 === 0);
    client.ref('tally', 'q').tell({ type: 'inc', from: 's', n: 1 });
    const queuedAsk = client.ref('tally', 'q').ask<number>({ type: 'inc', from: 's', n: 2 });
    await busC.flush();
    expect(await until(() => a.metrics.unconfirmed === 2)).toBe(true);
    a.setServingCheck(() => true); // nothing pumps the parked actor: its two messages travel with it
    const move = migB.moveIn('A', [UNIT], 'm1');
    await released();
    gate.open();
    expect(await within(move, 'the move')).toMatchObject({ actors: 1, failed: [] });
    expect(b.metrics.activations).toBe(1); // restored with its work, before any new message
    expect(await within(queuedAsk, 'the queued ask')).toBe(3); // answered by the new owner, to the same asker
    const got = await ask<{ count: number; log: Array<[string, number]> }>('q', { type: 'get' });
    expect(got.log).toEqual([['s', 0], ['s', 1], ['s', 2]]);
  });

  it('an idle actor’s dedupe marks travel beside its image: a duplicate is dropped before it is restored', async () => {
    const { b, busC, gate, migB, released, ask } = await twoNodes();
    const dup = encodeEnvelope({ m: { type: 'inc' }, s: 'z', q: 7 });
    busC.publish(subjects.actor('tally', 0, 'y'), dup);
    await busC.flush();
    expect(await ask('y', { type: 'inc' })).toBe(2);
    const move = migB.moveIn('A', [UNIT], 'm1');
    await released();
    gate.open();
    expect(await within(move, 'the move')).toMatchObject({ actors: 1, failed: [] });
    busC.publish(subjects.actor('tally', 0, 'y'), dup); // sent again (a retry): already applied at the old owner
    await busC.flush();
    expect(await until(() => b.metrics.duplicates === 1)).toBe(true);
    expect(b.metrics.activations).toBe(0); // dropped while still an image, not woken for it
  });
});

describe('live migration: aborted moves, unsaved and unstarted actors [memory]', () => {
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const s of stops.splice(0).reverse()) await within(s(), 'stopping a host or bus');
  });
  const twoNodes = (o: TwoNodesOptions = {}) => nodes(stops, o);
  const tallies = (n: number): MoveUnit[] => Array.from({ length: n }, (_, shard) => ({ kind: 'tally', shard, rev: 1 }));

  it('an aborted move logs how many units it did not adopt (one adopted, two not)', async () => {
    const { a, gate, migB, logsB } = await twoNodes({ shards: 3 });
    const release = a.releaseShard.bind(a);
    let calls = 0;
    a.releaseShard = (...args: Parameters<typeof release>) => (++calls === 2 ? Promise.reject(new Error('release refused')) : release(...args));
    gate.open();
    await expect(within(migB.moveIn('A', tallies(3), 'm1'), 'the move')).rejects.toThrow(/release refused/);
    expect(logsB.find((r) => r.msg === 'move-in ended')).toMatchObject({ units: 1, failed: 2 });
  });

  it('a batched actor with unsaved changes is restored at once on the new owner, which writes them', async () => {
    const { b, gate, migB, released, client, clock } = await twoNodes({ batched: true });
    expect(await within(client.ref('batched', 'u').ask({ type: 'inc' }), 'ask')).toBe(1); // write pending on A's clock
    const move = migB.moveIn('A', [BATCHED_UNIT], 'm1');
    await released();
    gate.open();
    expect((await within(move, 'the move')).actors).toBe(1);
    expect(b.metrics.activations).toBe(1); // not left as an image: its write is work to do
    expect(await within(b.snapshots!.load('batched', 'u'), 'load')).toBeNull();
    clock.advance(100);
    expect(await until(() => b.metrics.persisted === 1)).toBe(true);
    expect((await within(b.snapshots!.load('batched', 'u'), 'load'))?.revision).toBe(1);
  });

  it('a batched actor with everything saved stays an image on the new owner and is not written again', async () => {
    const { a, b, gate, migB, released, client, clock } = await twoNodes({ batched: true });
    expect(await within(client.ref('batched', 's').ask({ type: 'inc' }), 'ask')).toBe(1);
    clock.advance(100);
    expect(await until(() => a.metrics.persisted === 1)).toBe(true);
    const move = migB.moveIn('A', [BATCHED_UNIT], 'm1');
    await released();
    gate.open();
    expect((await within(move, 'the move')).actors).toBe(1);
    expect(b.metrics.activations).toBe(0);
    expect(await within(client.ref('batched', 's').ask({ type: 'get' }), 'get')).toMatchObject({ count: 1 });
    clock.advance(100);
    for (let i = 0; i < 20; i++) await turn();
    expect(b.metrics.persisted).toBe(0);
    expect((await within(b.snapshots!.load('batched', 's'), 'load'))?.revision).toBe(1);
  });

  it('hands over an actor that never started (no record) as a fresh image', async () => {
    const { a, gate, migB, released, ask } = await twoNodes();
    expect(await ask('old', { type: 'inc' })).toBe(1);
    const release = a.releaseShard.bind(a);
    // What handOverNow gives for a cell still 'new': no record, revision 0.
    a.releaseShard = async (...args: Parameters<typeof release>) => [...(await release(...args)), { id: 'unstarted', image: { record: null, revision: 0, queued: [] } }];
    const move = migB.moveIn('A', [UNIT], 'm1');
    await released();
    gate.open();
    expect(await within(move, 'the move')).toMatchObject({ actors: 2, failed: [] });
    expect(await ask('unstarted', { type: 'inc' })).toBe(1);
    expect(await ask('old', { type: 'inc' })).toBe(2);
  });
});
