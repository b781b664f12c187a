/**
 * Server and gate rules, on the pure machines: capacities, the server type's HR range, presence pushes only to the
 * players standing in the layer, roll-up reports to the parent, paged lists, chat/whisper/relays, and the refresh
 * timer that re-reports and audits (driven by a ManualClock).
 */
import { describe, expect, it } from 'vitest';
import { gateMachine } from '../../../lobby/gate.machine.js';
import { serverMachine, type ServerInput } from '../../../lobby/server.machine.js';
import { chainOf, cityId, parentOf, parseCircle, parseLayer, serverTypeOf, statusOf } from '../../../lobby/tree.js';
import { errorCode, hunter, pure, pushes, reply, targets, tells, TREE } from '../../support/lobby-pure.js';

const serverInput = (over: Partial<ServerInput> = {}): ServerInput => ({
  id: 's04',
  type: 'Rookie',
  capacity: 3,
  hr: { min: 1, max: 30 },
  gates: 40,
  gateCapacity: 100,
  refreshMs: 15_000,
  ...over,
});
const gateInput = { id: 's04-g02', capacity: 2, hr: { min: 1, max: 30 }, cities: 40, cityCapacity: 4, refreshMs: 15_000 };

describe('lobby tree ids', () => {
  it('spells the path: s03, s03-g12, s03-g12-c07, circles q1…', () => {
    expect(cityId(3, 12, 7)).toBe('s03-g12-c07');
    expect(chainOf('s03-g12-c07')).toEqual(['s03', 's03-g12', 's03-g12-c07']);
    expect(parentOf('s03-g12-c07')).toEqual({ kind: 'lobby-gate', id: 's03-g12' });
    expect(parentOf('s03')).toBeNull();
    expect(parseLayer(TREE, 's12-g40-c40')?.level).toBe('city');
    expect(parseLayer(TREE, 's13')).toBeNull();
    expect(parseLayer(TREE, 's01-g41')).toBeNull();
    expect(parseLayer(TREE, 's01-g01-c00')).toBeNull();
    expect(parseCircle(TREE, 's01-g01-c01-q4')).toEqual({ city: 's01-g01-c01', slot: 4 });
    expect(parseCircle(TREE, 's01-g01-c01-q5')).toBeNull();
    expect(serverTypeOf(TREE, 's04')).toBe('Rookie');
    expect(serverTypeOf(TREE, 's07')).toBe('Expert');
    expect([statusOf(0, 4), statusOf(3, 4), statusOf(4, 4)]).toEqual(['EMPTY', 'JOINABLE', 'FULL']);
  });
});

describe('server layer', () => {
  it('admits up to its capacity and refuses the next with FULL', () => {
    const s = pure(serverMachine, serverInput());
    for (let i = 1; i <= 3; i++) expect(reply(s.send({ type: 'enter', p: hunter(i), here: true }))?.error).toBeUndefined();
    expect(errorCode(s.send({ type: 'enter', p: hunter(4), here: true }))).toBe('FULL');
    // Someone already under the server, moving between its layer and its gates, is no arrival: never refused.
    expect(errorCode(s.send({ type: 'enter', p: hunter(1), here: false, within: true }))).toBeUndefined();
    expect(errorCode(s.send({ type: 'enter', p: hunter(1), here: true, within: true }))).toBeUndefined();
    s.send({ type: 'leave', id: hunter(2).id });
    expect(errorCode(s.send({ type: 'enter', p: hunter(4), here: true }))).toBeUndefined();
  });

  it("refuses a Hunter Rank outside the server type's range (Rookie ≤ 30, Expert ≥ 31)", () => {
    const rookie = pure(serverMachine, serverInput());
    expect(errorCode(rookie.send({ type: 'enter', p: hunter(1, 31), here: true }))).toBe('HR_LIMIT');
    expect(errorCode(rookie.send({ type: 'enter', p: hunter(2, 30), here: true }))).toBeUndefined();
    const expert = pure(serverMachine, serverInput({ id: 's07', type: 'Expert', hr: { min: 31, max: 999 } }));
    expect(errorCode(expert.send({ type: 'enter', p: hunter(3, 30), here: true }))).toBe('HR_LIMIT');
    expect(reply(expert.send({ type: 'enter', p: hunter(4, 31), here: true }))?.error).toBeUndefined();
  });

  it('a gate reports its count to its server on arrivals and departures, not on moves within', () => {
    const g = pure(gateMachine, { ...gateInput, capacity: 10 });
    const fx = g.send({ type: 'enter', p: hunter(1), here: true });
    expect(tells(fx, 'lobby-server')[0]).toMatchObject({ to: { id: 's04' }, msg: { type: 'report', child: 's04-g02', n: 1 } });
    expect(tells(g.send({ type: 'enter', p: hunter(1), here: false }), 'lobby-server')).toHaveLength(0);
    expect(tells(g.send({ type: 'leave', id: hunter(1).id }), 'lobby-server')[0]?.msg).toMatchObject({ n: 0 });
    // Its server counts it exactly (its own roster) and shows it in the gate list.
    const s = pure(serverMachine, serverInput());
    s.send({ type: 'enter', p: hunter(1), here: true });
    expect(reply(s.send({ type: 'info' }))?.body).toMatchObject({ n: 1, status: 'JOINABLE', members: [{ id: hunter(1).id }] });
  });

  it('pushes joins and leaves to the players standing here only', () => {
    const s = pure(serverMachine, serverInput({ capacity: 10 }));
    s.send({ type: 'enter', p: hunter(1), here: true });
    s.send({ type: 'enter', p: hunter(2), here: false }); // deeper, in a gate
    const fx = s.send({ type: 'enter', p: hunter(3), here: true });
    const join = pushes(fx, 'lobby.onJoin');
    expect(join).toHaveLength(1);
    expect(targets(join[0]!)).toEqual(['c1']);
    expect(join[0]!.body).toMatchObject({ layer: 's04', id: hunter(3).id, name: 'Hunter3' });
    const left = pushes(s.send({ type: 'leave', id: hunter(1).id }), 'lobby.onLeave');
    expect(targets(left[0]!)).toEqual(['c3']);
  });

  it('counts players in its gates (their reports) toward its capacity, and warps through it into a gate', () => {
    const s = pure(serverMachine, serverInput());
    s.send({ type: 'report', child: 's04-g01', n: 2 });
    // A warp into a gate passes through: checked, not kept (the gate's report will count the player).
    expect(reply(s.send({ type: 'enter', p: hunter(1), here: false, within: false }))?.body).toMatchObject({ n: 2 });
    s.send({ type: 'report', child: 's04-g01', n: 3 });
    expect(errorCode(s.send({ type: 'enter', p: hunter(2), here: true, within: false }))).toBe('FULL');
    expect(reply(s.send({ type: 'info' }))?.body).toMatchObject({ n: 3, status: 'FULL', members: [] });
  });

  it('lists its gates with reported counts, paged', () => {
    const s = pure(serverMachine, serverInput());
    s.send({ type: 'report', child: 's04-g02', n: 100 });
    s.send({ type: 'report', child: 's04-g03', n: 7 });
    s.send({ type: 'report', child: 's05-g03', n: 9 }); // not its gate: ignored
    const body = reply(s.send({ type: 'list', offset: 1, limit: 2 }))!.body as { gates: { total: number; items: unknown[] } };
    expect(body.gates.total).toBe(40);
    expect(body.gates.items).toEqual([
      { id: 's04-g02', n: 100, capacity: 100, status: 'FULL' },
      { id: 's04-g03', n: 7, capacity: 100, status: 'JOINABLE' },
    ]);
  });

  it('audits its roster and pokes the gates it believes occupied every refresh period, and stops when empty', () => {
    const s = pure(serverMachine, serverInput());
    s.send({ type: 'enter', p: hunter(1), here: true });
    s.send({ type: 'report', child: 's04-g07', n: 3 });
    s.send({ type: 'report', child: 's04-g08', n: 0 });
    s.clock.advance(15_000);
    const fx = s.drain();
    expect(tells(fx, 'lobby-gate')).toEqual([{ type: 'tell', to: { kind: 'lobby-gate', id: 's04-g07' }, msg: { type: 'poke' } }]);
    expect(tells(fx, 'lobby-player')[0]).toMatchObject({ to: { id: hunter(1).id }, msg: { type: 'audit', layer: 's04' } });
    s.send({ type: 'leave', id: hunter(1).id });
    expect(s.snapshot.value).toBe('live'); // its gate g07 still has players
    s.send({ type: 'report', child: 's04-g07', n: 0 });
    expect(s.snapshot.value).toBe('idle');
    expect(s.clock.pending).toBe(0);
  });
});

describe('gate layer', () => {
  it('counts players in its cities toward its capacity', () => {
    const g = pure(gateMachine, gateInput);
    g.send({ type: 'enter', p: hunter(1), here: true });
    g.send({ type: 'enter', p: hunter(1), here: false }); // went into a city: still counted
    g.send({ type: 'enter', p: hunter(2), here: true });
    expect(errorCode(g.send({ type: 'enter', p: hunter(3), here: true }))).toBe('FULL');
  });

  it("refuses a rank outside its server type's range (a rank raised after entering the server)", () => {
    const g = pure(gateMachine, gateInput);
    expect(errorCode(g.send({ type: 'enter', p: hunter(1, 31), here: true }))).toBe('HR_LIMIT');
    expect(errorCode(g.send({ type: 'enter', p: hunter(1, 30), here: true }))).toBeUndefined();
  });

  it('answers a poke with its count (a parent checking on it after a lost report)', () => {
    const g = pure(gateMachine, gateInput);
    expect(tells(g.send({ type: 'poke' }), 'lobby-server')[0]?.msg).toEqual({ type: 'report', child: 's04-g02', n: 0 });
  });

  it('keeps city summaries for its list; unchanged re-reports change nothing', () => {
    const g = pure(gateMachine, gateInput);
    const summary = { n: 2, state: 'open', leader: 'Hunter1', settings: { hrMin: 1, hrMax: 999, goal: 'Lagiacrus', seeking: '' }, circles: 1 };
    g.send({ type: 'report', child: 's04-g02-c05', ...summary });
    const before = g.snapshot;
    g.send({ type: 'report', child: 's04-g02-c05', ...summary });
    expect(g.snapshot).toBe(before);
    g.send({ type: 'report', child: 's04-g02-c06', n: 0, state: 'reserved', circles: 0 });
    const cities = (reply(g.send({ type: 'list', offset: 4, limit: 2 }))!.body as { cities: { items: Array<Record<string, unknown>> } }).cities.items;
    expect(cities[0]).toMatchObject({ id: 's04-g02-c05', n: 2, status: 'JOINABLE', state: 'open', leader: 'Hunter1', circles: 1 });
    expect(cities[1]).toMatchObject({ id: 's04-g02-c06', n: 0, status: 'FULL', state: 'reserved' });
    g.send({ type: 'report', child: 's04-g02-c05', n: 0, state: 'empty', circles: 0 });
    expect(g.snapshot.context.citySummaries).toEqual({ c06: expect.anything() });
  });

  it('carries chat to all standing here, whispers to one, relays to all but the sender without changing state', () => {
    const g = pure(gateMachine, { ...gateInput, capacity: 10 });
    for (let i = 1; i <= 3; i++) g.send({ type: 'enter', p: hunter(i), here: true });
    g.send({ type: 'enter', p: hunter(4), here: false });
    const chat = pushes(g.send({ type: 'chat', from: hunter(1).id, text: 'hi' }), 'lobby.onChat');
    expect(targets(chat[0]!)).toEqual(['c1', 'c2', 'c3']);
    const w = g.send({ type: 'whisper', from: hunter(1).id, to: hunter(3).id, text: 'psst' });
    expect(targets(pushes(w, 'lobby.onWhisper')[0]!)).toEqual(['c3']);
    expect(errorCode(g.send({ type: 'whisper', from: hunter(1).id, to: hunter(4).id, text: 'x' }))).toBe('NOT_HERE');
    const before = g.snapshot;
    const relay = g.send({ type: 'relay', from: hunter(2).id, d: [1, 2, 3] });
    expect(relay).toHaveLength(1);
    expect(targets(relay[0] as never)).toEqual(['c1', 'c3']);
    expect(g.snapshot).toBe(before);
    expect(g.send({ type: 'relay', from: hunter(4).id, d: [1] })).toEqual([]); // not standing here
  });
});
