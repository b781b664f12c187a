/**
 * The hand-over window of a live migration (cluster/migration.ts), on the in-memory bus with two hosts in this
 * process and the move's steps held where the test needs them: the new owner's hand-over chunks wait at a gate the
 * test opens. Between the old owner letting a shard go and its state arriving, a message for one of its actors must be
 * held by the new owner, not processed: processed there, it would run on a fresh instance (lost state, order broken).
 *
 * This is the check for the audit's mutation "the new owner processes messages before the state arrives"
 * (ShardInbox.ownShard ignoring `buffer`): it fails here by assertion, at once, instead of surfacing as a stuck
 * per-update check in test/cluster/migration.test.ts. It also gives Stryker a fast test of migration.ts. Every wait is
 * bounded in event-loop turns (migration-harness.ts), so a mutant that breaks the hand-over fails here at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encode } from '../../bus/codec.js';
import { subjects } from '../../bus/subjects.js';
import type { LeaseTable } from '../../cluster/leases.js';
import type { MoveUnit } from '../../cluster/migration.js';
import { OPTS, PLAIN, UNIT, turn, twoNodes as nodes, within, type Log, type TwoNodesOptions } from './migration-harness.js';

describe('live migration: the hand-over window [memory]', () => {
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await within(s(), 'stopping a host or bus');
  });
  const twoNodes = (o: TwoNodesOptions = {}) => nodes(stops, o);

  it('holds a message that arrives before the state, then applies it after the state, in order', async () => {
    const { a, b, busC, client, gate, migB, released, ask } = await twoNodes();
    for (let n = 0; n < 3; n++) expect(await ask('x', { type: 'inc', from: 's', n })).toBe(n + 1);
    expect(a.metrics.activations).toBe(1);

    const move = migB.moveIn('A', [UNIT], 'm1');
    await released(); // A has let the shard go; its chunks wait at B's gate
    expect(a.ownsShard(PLAIN.kind, PLAIN.shard)).toBe(false);
    expect(gate.held()).toBeGreaterThan(0);

    const late = client.ref('tally', 'x').ask<number>({ type: 'inc', from: 's', n: 3 });
    await busC.flush();
    // Before its state arrives, the new owner has processed nothing of the shard: the message waits in its buffer.
    expect(b.metrics.activations).toBe(0);
    expect(b.buffered(PLAIN.kind, PLAIN.shard)).toBe(1);

    gate.open();
    const stats = await within(move, 'the move');
    expect(stats.failed).toEqual([]);
    expect(stats.actors).toBe(1);
    expect(stats.replayed).toBe(1);
    expect(await within(late, 'the late ask')).toBe(4); // applied on top of the handed-over state
    const got = await ask<{ count: number; log: Log }>('x', { type: 'get' });
    expect(got.count).toBe(4);
    expect(got.log).toEqual([['s', 0], ['s', 1], ['s', 2], ['s', 3]]);
    expect(b.buffered(PLAIN.kind, PLAIN.shard)).toBe(0);
    expect(a.metrics.activations).toBe(1); // never started again on the old owner
  });

  it('moves an idle actor: the new owner owns the shard, the old one does not, and the actor goes on from its state', async () => {
    const { a, b, gate, migB, released, ask } = await twoNodes();
    expect(await ask('y', { type: 'inc', from: 's', n: 0 })).toBe(1);
    const move = migB.moveIn('A', [UNIT], 'm1');
    await released();
    gate.open();
    const stats = await within(move, 'the move');
    expect(stats).toMatchObject({ units: 1, actors: 1, failed: [] });
    expect(b.ownsShard(PLAIN.kind, PLAIN.shard)).toBe(true);
    expect(a.ownsShard(PLAIN.kind, PLAIN.shard)).toBe(false);
    expect(await ask('y', { type: 'inc', from: 's', n: 1 })).toBe(2);
    expect(b.metrics.activations).toBe(1); // restored on its first message after the move
  });

  it('moves several actors in several chunks and units, acknowledged within a window of one actor', async () => {
    const { a, b, migB, gate, released, ask, leaseWrites } = await twoNodes({ shards: 2, opts: { chunkBytes: 1, handoverWindowActors: 1 } });
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
    await released();
    const stats = await within(move, 'the move');
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
    const { b, busC, clock, gate, migB, released, ask, client } = await twoNodes();
    expect(await ask('idle', { type: 'inc' })).toBe(1);
    client.ref('tally', 'armed').tell({ type: 'arm', ms: 1000 });
    await busC.flush();
    const move = migB.moveIn('A', [UNIT], 'm1');
    await released();
    gate.open();
    expect((await within(move, 'the move')).actors).toBe(2);
    expect(b.metrics.activations).toBe(1); // 'armed' restored, 'idle' still an image
    clock.advance(1000);
    await busC.flush();
    const got = await ask<{ fired: number }>('armed', { type: 'get' });
    expect(got.fired).toBe(1);
  });

  it('drops an adopted shard whose lease flip fails (the balancer reverted the move)', async () => {
    const leases = { write: async () => Promise.reject(new Error('wrong last sequence')) } as unknown as LeaseTable;
    const { b, gate, migB, released } = await twoNodes({ leases });
    const move = migB.moveIn('A', [UNIT], 'm1');
    await released();
    gate.open();
    const stats = await within(move, 'the move');
    expect(stats.failed).toEqual([]);
    expect(b.ownsShard(PLAIN.kind, PLAIN.shard)).toBe(false);
  });

  it('ignores unreadable and foreign chunks on its hand-over subject', async () => {
    const { b, busB, gate, migB, released, ask } = await twoNodes();
    expect(await ask('v', { type: 'inc' })).toBe(1);
    const move = migB.moveIn('A', [UNIT], 'm1');
    busB.publish(subjects.handover('B', 'm1'), new Uint8Array([0x92])); // an array of two, cut short: undecodable
    busB.publish(subjects.handover('B', 'm1'), encode({ u: 'tally.9', c: [], last: true }));
    await released();
    gate.open();
    const stats = await within(move, 'the move');
    expect(stats).toMatchObject({ units: 1, actors: 1, failed: [] });
    expect(b.ownsShard(PLAIN.kind, PLAIN.shard)).toBe(true);
    expect(await ask('v', { type: 'inc' })).toBe(2);
  });

  it('a hand-over the old owner refuses aborts the move: the new owner lets its buffering subscription go', async () => {
    const { a, b, migB, ask } = await twoNodes({ handover: false });
    expect(await ask('w', { type: 'inc' })).toBe(1);
    await expect(within(migB.moveIn('A', [UNIT], 'm1'), 'the refused move')).rejects.toThrow(/unknown control request handover/);
    expect(b.ownsShard(PLAIN.kind, PLAIN.shard)).toBe(false);
    expect(migB.busy('tally.0')).toBe(false);
    expect(b.moving.has('tally.0')).toBe(false);
    expect(a.ownsShard(PLAIN.kind, PLAIN.shard)).toBe(true);
    expect(await ask('w', { type: 'inc' })).toBe(2); // still served by the old owner
  });

  it('a hand-over whose chunks never arrive ends on the clock with the unit failed and abandoned', async () => {
    const { b, clock, migB, released } = await twoNodes();
    let ended = false;
    const move = migB.moveIn('A', [UNIT], 'm1').finally(() => (ended = true));
    await released(); // the gate stays closed: the chunks are "lost"
    // The chunk timer is set once A's reply reaches B: advance a bounded number of times, then the move must be over.
    for (let i = 0; i < 20 && !ended; i++) {
      clock.advance(OPTS.probeTimeoutMs);
      await turn();
    }
    expect(ended).toBe(true);
    const stats = await within(move, 'the move');
    expect(stats.failed).toEqual(['tally.0']);
    expect(stats.units).toBe(0);
    expect(b.ownsShard(PLAIN.kind, PLAIN.shard)).toBe(false);
  });
});
