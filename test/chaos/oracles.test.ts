/**
 * The chaos run's pure parts (dev/chaos/): the oracles must catch what they exist to catch (a lost, duplicated or
 * reordered update, NOT_OWNER on an applied update, two live instances), forgive what is not a fault (a halted node's
 * instances), and the schedule must be the same for the same seed and cover every fault kind.
 */
import { describe, expect, it } from 'vitest';
import { checkActorLog, overlappingInstances } from '../../dev/chaos/checks.js';
import { FAULT_KINDS, makeSchedule } from '../../dev/chaos/schedule.js';
import { natsKillBreakdown, PAUSE_MS } from '../../dev/chaos/stream-pauses.js';
import { snapshotBucketIndex } from '../../actors/runtime/snapshots.js';
import type { LifecycleEvent } from '../../server/lifecycle-events.js';

const sets = (o: Record<string, number[]>) => new Map(Object.entries(o).map(([k, v]) => [k, new Set(v)]));

describe('chaos oracles', () => {
  it('an exact log passes; unacknowledged updates may be missing or present', () => {
    const c = checkActorLog('ledger/a', [['s0', 0], ['s1', 0], ['s0', 2], ['s1', 1]], sets({ s0: [0, 2], s1: [0] }), new Map());
    expect(c).toMatchObject({ kept: 3, lost: 0, duplicated: 0, outOfOrder: 0, notOwnerApplied: 0 });
  });

  it('counts a lost, a duplicated and a reordered update, and NOT_OWNER on an applied one', () => {
    const log: Array<[string, number]> = [['s0', 0], ['s0', 2], ['s0', 1], ['s0', 2], ['s1', 5]];
    const c = checkActorLog('ledger/a', log, sets({ s0: [0, 1, 2, 3] }), sets({ s1: [5] }));
    expect(c).toMatchObject({ kept: 3, lost: 1, duplicated: 1, outOfOrder: 1, notOwnerApplied: 1 });
    expect(c.samples.length).toBe(4);
  });

  const ev = (e: LifecycleEvent['e'], n: string, t: number, i = 'x'): LifecycleEvent => ({ e, k: 'ledger', i, n, t });

  it('two live instances are found; a hand-over in order is not one', () => {
    expect(overlappingInstances([ev('active', 'a', 1), ev('closed', 'a', 2), ev('active', 'b', 3)], [])).toEqual([]);
    expect(overlappingInstances([ev('active', 'a', 1), ev('active', 'b', 2), ev('closed', 'a', 3)], [])).toEqual([{ actor: 'ledger/x', live: 'a', second: 'b', t: 2 }]);
    // Same µs: the close sorts first (a batch boundary, not an overlap).
    expect(overlappingInstances([ev('active', 'a', 1), ev('active', 'b', 2), ev('closed', 'a', 2)], [])).toEqual([]);
  });

  it("a killed or stopped node's instances count as closed at the halt, and only that node's", () => {
    const events = [ev('active', 'a', 1), ev('active', 'c', 1, 'y'), ev('active', 'b', 5), ev('active', 'b', 6, 'y')];
    expect(overlappingInstances(events, [{ node: 'a', t: 3 }])).toEqual([{ actor: 'ledger/y', live: 'c', second: 'b', t: 6 }]);
    // A node woken from SIGSTOP that activates an actor someone else holds is an overlap again.
    expect(overlappingInstances([...events.slice(0, 3), ev('active', 'a', 9)], [{ node: 'a', t: 3 }])).toHaveLength(1);
  });

  it("a node's 'fenced' event (sent late, stamped with its fence's end) ends its instances then, and only its own", () => {
    // a and c hold x and y; a stalls, its fence ends at 3; b takes x at 5; a wakes at 8, reports the fence, closes x.
    const fenced: LifecycleEvent = { e: 'fenced', k: '', i: '', n: 'a', t: 3 };
    const events = [ev('active', 'a', 1), ev('active', 'c', 1, 'y'), ev('active', 'b', 5), ev('active', 'b', 6, 'y'), ev('closed', 'a', 8), fenced];
    expect(overlappingInstances(events, [])).toEqual([{ actor: 'ledger/y', live: 'c', second: 'b', t: 6 }]);
    // Without the fence event the same history is an overlap on x too; a fence that ended after the take-over is one.
    expect(overlappingInstances(events.slice(0, 5), [])).toHaveLength(2);
    expect(overlappingInstances([...events.slice(0, 5), { ...fenced, t: 5.5 }], [])).toHaveLength(2);
  });
});

describe('chaos schedule', () => {
  const o = { durationMs: 60_000, slotMs: 10_000, kinds: FAULT_KINDS, workers: 3, natsServers: 3 };
  it('is the same for the same seed, and differs for another', () => {
    expect(makeSchedule({ ...o, seed: 7 })).toEqual(makeSchedule({ ...o, seed: 7 }));
    expect(makeSchedule({ ...o, seed: 7 })).not.toEqual(makeSchedule({ ...o, seed: 8 }));
  });
  it('covers every kind before repeating one, one fault per slot, targets in range', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const s = makeSchedule({ ...o, seed });
      expect(new Set(s.map((f) => f.kind)).size).toBe(FAULT_KINDS.length);
      s.forEach((f, i) => {
        expect(f.at).toBeGreaterThanOrEqual(i * o.slotMs);
        expect(f.at).toBeLessThan((i + 1) * o.slotMs);
        expect(f.target).toBeLessThan(f.kind === 'kill-gateway' ? 1 : 3);
      });
    }
  });
});

describe("a nats-server kill's per-stream breakdown", () => {
  const shards = 16;
  const buckets = 3;
  const durable = Array.from({ length: 30 }, (_, i) => ({ kind: 'ledger', id: `d${i}` }));
  const memory = [{ kind: 'tally', id: 'm0' }, { kind: 'tally', id: 'm1' }];
  const leaders = new Map([
    ['KV_p_actors-0', 'ghc-1'],
    ['KV_p_actors-1', 'ghc-0'],
    ['KV_p_actors-2', 'ghc-1'],
    ['KV_p_leases', 'ghc-2'],
  ]);
  const ledBy1 = (id: string) => snapshotBucketIndex(id, shards, buckets) !== 1;
  const input = (pauses: Map<string, number>) => ({
    fault: 'kill-nats n2', server: 'ghc-1', prefix: 'p', shards, snapshotBuckets: buckets, leaders, pauses, durable, memory,
    elections: [{ stream: 'KV_p_actors-0', ms: 4200, newLeader: 'ghc-0' }, { stream: 'KV_p_actors-2', ms: 5100, newLeader: 'ghc-2' }],
  });

  it("puts each durable actor in its snapshot stream's group, and counts pauses from PAUSE_MS", () => {
    const pauses = new Map<string, number>();
    for (const t of durable) pauses.set(`ledger/${t.id}`, ledBy1(t.id) ? 5000 : 20);
    const inLed = durable.filter((t) => ledBy1(t.id)).length;
    expect(inLed).toBeGreaterThan(0);
    expect(inLed).toBeLessThan(durable.length);
    pauses.set('tally/m1', PAUSE_MS); // exactly the bound: a pause
    pauses.set('ledger/d0', ledBy1('d0') ? 5300 : PAUSE_MS - 1);
    const b = natsKillBreakdown(input(pauses));
    expect(b.led).toEqual(['KV_p_actors-0', 'KV_p_actors-2']);
    expect(b.streams).toBe(4);
    expect(b.electionMs).toBe(5100);
    expect(b.ledStreams).toMatchObject({ actors: inLed, paused: inLed });
    expect(b.otherStreams).toMatchObject({ actors: durable.length - inLed, paused: 0 });
    expect(b.inMemory).toEqual({ actors: 2, paused: 1, longestMs: PAUSE_MS, longestActor: 'tally/m1' });
    // Paused outside the led streams: the in-memory one (and d0 when its stream was not led), with no node known.
    expect(b.pausedOutside).toContainEqual({ actor: 'tally/m1', ms: PAUSE_MS, node: '' });
    expect(b.pausedOutside.every((x) => x.ms >= PAUSE_MS)).toBe(true);
    expect(natsKillBreakdown({ ...input(pauses), nodeOf: (a) => (a === 'tally/m1' ? 'w2' : '') }).pausedOutside).toContainEqual({ actor: 'tally/m1', ms: PAUSE_MS, node: 'w2' });
    // Led actors paused 5000 ms against elections of 4200 (actors-0) and 5100 (actors-2) ms: the worst is 800 over.
    const byStream = (n: number) => durable.some((t) => snapshotBucketIndex(t.id, shards, buckets) === n && t.id !== 'd0');
    expect(b.overElectionMs).toBe(Math.max(byStream(0) ? 800 : -Infinity, byStream(2) ? -100 : -Infinity, ledBy1('d0') ? 5300 - (snapshotBucketIndex('d0', shards, buckets) === 0 ? 4200 : 5100) : -Infinity));
    if (ledBy1('d0')) expect(b.ledStreams).toMatchObject({ longestMs: 5300, longestActor: 'ledger/d0' });
    else expect(b.otherStreams).toMatchObject({ longestMs: PAUSE_MS - 1, paused: 0 });
  });

  it('a stream with no leader within the bound leaves the election unmeasured (null), never a number', () => {
    const b = natsKillBreakdown({ ...input(new Map()), elections: [{ stream: 'KV_p_actors-0', ms: null, newLeader: '' }, { stream: 'KV_p_actors-2', ms: 10, newLeader: 'ghc-0' }] });
    expect(b.electionMs).toBeNull();
    expect(b.overElectionMs).toBeNull();
    expect(b.ledStreams.paused + b.otherStreams.paused + b.inMemory.paused).toBe(0);
  });
});
