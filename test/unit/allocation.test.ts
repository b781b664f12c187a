import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocate, allUnits, plan, type LeaseView } from '../../cluster/allocation.js';

const units = allUnits(['room', 'city', 'player'], 256);
/** Four standard deviations of a binomial count: generous, but a broken spread still fails. */
const slack = (n: number, p: number) => 4 * Math.sqrt(n * p * (1 - p));
const nodes = (n: number, cap = 1) => Array.from({ length: n }, (_, i) => ({ id: `node-${i}`, capacity: cap }));

function counts(a: Map<string, string>) {
  const c = new Map<string, number>();
  for (const o of a.values()) c.set(o, (c.get(o) ?? 0) + 1);
  return c;
}

describe('allocation (weighted rendezvous)', () => {
  it('is deterministic and spreads evenly', () => {
    const a = allocate(units, nodes(4));
    expect(allocate(units, [...nodes(4)].reverse())).toEqual(a);
    for (const n of counts(a).values()) expect(Math.abs(n - units.length / 4)).toBeLessThan(slack(units.length, 1 / 4));
  });

  it('adding the (N+1)th node moves about 1/(N+1) of shards, all of them to the new node', () => {
    for (const n of [1, 2, 3, 5, 8]) {
      const before = allocate(units, nodes(n));
      const after = allocate(units, nodes(n + 1));
      let moved = 0;
      for (const [k, o] of after) {
        if (before.get(k) !== o) {
          moved++;
          expect(o).toBe(`node-${n}`);
        }
      }
      const fair = units.length / (n + 1);
      expect(Math.abs(moved - fair)).toBeLessThan(slack(units.length, 1 / (n + 1)));
    }
  });

  it('weights by capacity', () => {
    const a = allocate(units, [{ id: 'big', capacity: 3 }, { id: 'small', capacity: 1 }]);
    const c = counts(a);
    expect(c.get('big')! / units.length).toBeGreaterThan(0.65);
    expect(c.get('big')! / units.length).toBeLessThan(0.85);
  });

  it('property: removing a node only moves that node\'s shards', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 9 }), fc.nat(), (n, pick) => {
        const all = nodes(n);
        const gone = all[pick % n]!;
        const before = allocate(units, all);
        const after = allocate(units, all.filter((x) => x !== gone));
        for (const [k, o] of before) if (o !== gone.id) expect(after.get(k)).toBe(o);
      }),
      { numRuns: 50 },
    );
  });
});

describe('plan', () => {
  const target = new Map([
    ['room.0', 'a'],
    ['room.1', 'b'],
    ['room.2', 'b'],
    ['room.3', 'c'],
  ]);
  it('assigns unowned and orphaned shards, moves the rest within the budget, draining nodes first', () => {
    const leases = new Map<string, LeaseView>([
      ['room.0', { owner: 'a', moving: false }],
      ['room.1', { owner: 'dead', moving: false }],
      ['room.2', { owner: 'a', moving: false }],
      ['room.3', { owner: 'd', moving: false }],
    ]);
    const p = plan(target, leases, new Set(['a', 'b', 'c', 'd']), { maxMoves: 1, draining: new Set(['d']) });
    expect(p.assign).toEqual([{ key: 'room.1', to: 'b' }]);
    expect(p.moves).toEqual([{ from: 'd', to: 'c', keys: ['room.3'] }]);
    const all = plan(target, leases, new Set(['a', 'b', 'c', 'd']), { maxMoves: 10 });
    expect(all.moves).toEqual(expect.arrayContaining([{ from: 'a', to: 'b', keys: ['room.2'] }, { from: 'd', to: 'c', keys: ['room.3'] }]));
  });

  it('counts moves in flight against the budget and leaves moving shards alone', () => {
    const leases = new Map<string, LeaseView>([
      ['room.0', { owner: 'x', moving: true }],
      ['room.2', { owner: 'a', moving: false }],
    ]);
    const p = plan(target, leases, new Set(['a', 'b', 'x']), { maxMoves: 1 });
    expect(p.moves).toEqual([]);
    expect(p.assign.map((x) => x.key)).toEqual(['room.1', 'room.3']);
  });
});
