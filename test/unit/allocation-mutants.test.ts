/**
 * Allocation and the balancer's plan (cluster/allocation.ts), written against the mutants Stryker left alive
 * (docs/TESTING.md): exact plans for moving, gone and already-placed shards, the move order (draining nodes first,
 * then key order) under the budget, grouping per (from, to) pair, ties, and the unit list.
 */
import { describe, expect, it } from 'vitest';
import { allocate, allUnits, plan, targetOwner, type LeaseView } from '../../cluster/allocation.js';

const leases = (entries: Array<[string, string, boolean?]>) =>
  new Map<string, LeaseView>(entries.map(([k, owner, moving]) => [k, { owner, moving: moving ?? false }]));

describe('plan', () => {
  it('assigns unowned shards and those of gone nodes, but not a moving one (its move is reverted elsewhere)', () => {
    const p = plan(
      new Map([
        ['k.0', 'a'],
        ['k.1', 'a'],
        ['k.2', 'a'],
      ]),
      leases([
        ['k.1', 'gone'],
        ['k.2', 'gone', true],
      ]),
      new Set(['a']),
      { maxMoves: 10 },
    );
    expect(p.assign).toEqual([
      { key: 'k.0', to: 'a' },
      { key: 'k.1', to: 'a' },
    ]);
    expect(p.moves).toEqual([]);
  });

  it('moves neither a shard already on its target nor one already moving', () => {
    const p = plan(
      new Map([
        ['k.0', 'a'],
        ['k.1', 'b'],
        ['k.2', 'b'],
      ]),
      leases([
        ['k.0', 'a'],
        ['k.1', 'a', true],
        ['k.2', 'b', true],
      ]),
      new Set(['a', 'b']),
      { maxMoves: 10 },
    );
    expect(p).toEqual({ assign: [], moves: [] });
  });

  it('takes moves from draining nodes first, then in key order, within the budget less what is in flight', () => {
    const target = new Map([
      ['k.3', 'b'],
      ['k.1', 'b'],
      ['k.9', 'b'],
      ['k.2', 'b'],
      ['k.0', 'b'],
    ]);
    const ls = leases([
      ['k.3', 'a'],
      ['k.1', 'a'],
      ['k.9', 'd'],
      ['k.2', 'a'],
      ['k.0', 'a'],
      ['x.0', 'a', true], // one move in flight elsewhere
    ]);
    const alive = new Set(['a', 'b', 'd']);
    expect(plan(target, ls, alive, { maxMoves: 4, draining: new Set(['d']) }).moves).toEqual([
      { from: 'd', to: 'b', keys: ['k.9'] },
      { from: 'a', to: 'b', keys: ['k.0', 'k.1'] },
    ]);
    expect(plan(target, ls, alive, { maxMoves: 4 }).moves).toEqual([{ from: 'a', to: 'b', keys: ['k.0', 'k.1', 'k.2'] }]);
    expect(plan(target, ls, alive, { maxMoves: 1 }).moves).toEqual([]);
  });

  it('groups moves per (from, to) pair', () => {
    const p = plan(
      new Map([
        ['k.0', 'b'],
        ['k.1', 'c'],
        ['k.2', 'b'],
        ['k.3', 'b'],
      ]),
      leases([
        ['k.0', 'a'],
        ['k.1', 'a'],
        ['k.2', 'a'],
        ['k.3', 'c'],
      ]),
      new Set(['a', 'b', 'c']),
      { maxMoves: 10 },
    );
    expect(p.moves).toEqual([
      { from: 'a', to: 'b', keys: ['k.0', 'k.2'] },
      { from: 'a', to: 'c', keys: ['k.1'] },
      { from: 'c', to: 'b', keys: ['k.3'] },
    ]);
  });
});

describe('allocation', () => {
  it('breaks a tie of scores by the smallest node id (capacity 0 scores 0 everywhere)', () => {
    const nodes = [
      { id: 'b', capacity: 0 },
      { id: 'a', capacity: 0 },
      { id: 'c', capacity: 0 },
    ];
    for (const k of ['k.0', 'k.1', 'k.2']) expect(targetOwner(k, nodes)).toBe('a');
    expect(targetOwner('k.0', [{ id: 'z', capacity: 1 }])).toBe('z');
    expect(targetOwner('k.0', [])).toBeUndefined();
  });

  it('allocates nothing without nodes', () => {
    expect(allocate(allUnits(['k'], 4), []).size).toBe(0);
  });

  it('lists every shard of every kind exactly', () => {
    expect(allUnits(['a', 'b'], 2)).toEqual([
      { kind: 'a', shard: 0 },
      { kind: 'a', shard: 1 },
      { kind: 'b', shard: 0 },
      { kind: 'b', shard: 1 },
    ]);
    expect(allUnits([], 3)).toEqual([]);
  });

  it('gives the same owners as every earlier version (nodes of two versions agree during a rolling upgrade)', () => {
    // Pinned: the hash, the uniform draw and the weighting all show here. Changing any of them reassigns shards
    // between nodes running different versions, so a change must be deliberate (and this snapshot updated with it).
    const nodes = [
      { id: 'n1', capacity: 1 },
      { id: 'n2', capacity: 2 },
      { id: 'n3', capacity: 1 },
    ];
    const owners = allUnits(['room', 'player'], 8).map((u) => targetOwner(`${u.kind}.${u.shard}`, nodes)).join(' ');
    expect(owners).toMatchInlineSnapshot(`"n3 n3 n2 n2 n2 n3 n3 n2 n2 n1 n3 n2 n1 n3 n1 n2"`);
    // Whatever order a node lists the members in.
    for (const order of [[2, 1, 0], [1, 2, 0], [2, 0, 1]]) {
      const listed = order.map((i) => nodes[i]!);
      expect(allUnits(['room', 'player'], 8).map((u) => targetOwner(`${u.kind}.${u.shard}`, listed)).join(' ')).toBe(owners);
    }
  });
});
