/**
 * City rules on the pure machine: reserve → settings → open, reservation expiry after 40 s (ManualClock), joining
 * (open only, capacity, the city's HR limit), leader hand-over, leader-only settings, the reset of an emptied city,
 * reports to the gate and the city index, and quest-circle slots ("no quest slot").
 */
import { describe, expect, it } from 'vitest';
import { cityMachine } from '../../../lobby/city.machine.js';
import { asks, errorCode, hunter, pure, pushes, reply, targets, tells } from '../../support/lobby-pure.js';

const input = { id: 's07-g03-c09', serverType: 'Expert' as const, capacity: 4, circleSlots: 4, reservationMs: 40_000, refreshMs: 15_000 };
const settings = { hrMin: 31, hrMax: 200, goal: 'Alatreon', seeking: 'gunners' };

function openCity() {
  const c = pure(cityMachine, input);
  c.send({ type: 'reserve', p: hunter(1, 50) });
  c.send({ type: 'open', p: hunter(1, 50), settings });
  return c;
}

describe('city creation', () => {
  it('reserves an empty city, then opens it with settings: the creator is its leader', () => {
    const c = pure(cityMachine, input);
    expect(errorCode(c.send({ type: 'enter', p: hunter(2), here: true }))).toBe('NOT_OPEN');
    const fx = c.send({ type: 'reserve', p: hunter(1, 50) });
    expect(reply(fx)?.body).toMatchObject({ city: input.id, expiresInMs: 40_000 });
    expect(tells(fx, 'lobby-gate')[0]?.msg).toMatchObject({ type: 'report', child: input.id, state: 'reserved', n: 0 });
    expect(errorCode(c.send({ type: 'reserve', p: hunter(2) }))).toBe('NOT_EMPTY');
    expect(errorCode(c.send({ type: 'enter', p: hunter(2), here: true }))).toBe('NOT_OPEN');
    expect(errorCode(c.send({ type: 'open', p: hunter(2), settings }))).toBe('NOT_RESERVED');
    const opened = c.send({ type: 'open', p: hunter(1, 50), settings });
    expect(reply(opened)?.body).toMatchObject({ state: 'open', n: 1, leaderId: hunter(1).id, settings });
    expect(tells(opened, 'lobby-cindex')[0]).toMatchObject({ to: { id: 'Expert' }, msg: { type: 'put', city: input.id, n: 1, settings } });
    expect(c.snapshot.value).toEqual({ open: 'live' });
  });

  it('expires a reservation not completed in 40 s: the city is empty again and the creator is told', () => {
    const c = pure(cityMachine, input);
    c.send({ type: 'reserve', p: hunter(1) });
    c.clock.advance(39_999);
    expect(c.snapshot.value).toBe('reserved');
    c.clock.advance(1);
    const fx = c.drain();
    expect(c.snapshot.value).toBe('empty');
    expect(pushes(fx, 'lobby.onReservationExpired')[0]).toMatchObject({ to: hunter(1).conn, body: { city: input.id } });
    expect(tells(fx, 'lobby-gate')[0]?.msg).toMatchObject({ state: 'empty' });
    expect(fx.some((e) => e.type === 'passivate' && e.forget)).toBe(true);
    expect(errorCode(c.send({ type: 'open', p: hunter(1), settings }))).toBe('NOT_RESERVED');
    expect(reply(c.send({ type: 'reserve', p: hunter(2) }))?.error).toBeUndefined();
  });

  it('lets the reserver give the city up', () => {
    const c = pure(cityMachine, input);
    c.send({ type: 'reserve', p: hunter(1) });
    c.send({ type: 'unreserve', id: hunter(2).id }); // not theirs
    expect(c.snapshot.value).toBe('reserved');
    c.send({ type: 'unreserve', id: hunter(1).id });
    expect(c.snapshot.value).toBe('empty');
    expect(c.clock.pending).toBe(0);
  });
});

describe('an open city', () => {
  it('admits up to 4 and only Hunter Ranks within its limit', () => {
    const c = openCity();
    expect(errorCode(c.send({ type: 'enter', p: hunter(2, 30), here: true }))).toBe('HR_LIMIT');
    expect(errorCode(c.send({ type: 'enter', p: hunter(2, 201), here: true }))).toBe('HR_LIMIT');
    for (let i = 2; i <= 4; i++) {
      const fx = c.send({ type: 'enter', p: hunter(i, 40), here: true });
      expect(reply(fx)?.body).toMatchObject({ n: i });
      expect(pushes(fx, 'lobby.onJoin')[0]!.body).toMatchObject({ id: hunter(i).id });
    }
    expect(errorCode(c.send({ type: 'enter', p: hunter(5, 40), here: true }))).toBe('FULL');
  });

  it('hands leadership to the earliest arrival when the leader leaves, and tells everyone', () => {
    const c = openCity();
    c.send({ type: 'enter', p: hunter(2, 40), here: true });
    c.send({ type: 'enter', p: hunter(3, 40), here: true });
    const fx = c.send({ type: 'leave', id: hunter(1).id });
    const lead = pushes(fx, 'lobby.onLeader')[0]!;
    expect(lead.body).toMatchObject({ leader: hunter(2).id, name: 'Hunter2' });
    expect(targets(lead)).toEqual(['c2', 'c3']);
    expect(c.snapshot.context.leader).toBe(hunter(2).id);
    expect(tells(fx, 'lobby-gate')[0]?.msg).toMatchObject({ n: 2, leader: 'Hunter2' });
  });

  it('takes settings from its leader only and pushes them', () => {
    const c = openCity();
    c.send({ type: 'enter', p: hunter(2, 40), here: true });
    expect(errorCode(c.send({ type: 'settings', from: hunter(2).id, settings: { ...settings, goal: 'x' } }))).toBe('NOT_LEADER');
    const fx = c.send({ type: 'settings', from: hunter(1).id, settings: { ...settings, seeking: 'anyone' } });
    expect(targets(pushes(fx, 'lobby.onCitySettings')[0]!)).toEqual(['c1', 'c2']);
    expect(tells(fx, 'lobby-cindex')[0]?.msg).toMatchObject({ settings: { seeking: 'anyone' } });
  });

  it('resets when emptied: settings gone, state deleted, gate and index told', () => {
    const c = openCity();
    const fx = c.send({ type: 'leave', id: hunter(1).id });
    expect(c.snapshot.value).toBe('empty');
    expect(c.snapshot.context.settings.goal).toBe('');
    expect(c.snapshot.context.leader).toBeNull();
    expect(fx.some((e) => e.type === 'passivate' && e.forget)).toBe(true);
    expect(tells(fx, 'lobby-gate')[0]?.msg).toMatchObject({ n: 0, state: 'empty' });
    expect(tells(fx, 'lobby-cindex')[0]?.msg).toEqual({ type: 'del', city: input.id });
    expect(c.clock.pending).toBe(0);
  });

  it('answers a poke with its summary in every state (its gate checking a report that may have been lost)', () => {
    const c = pure(cityMachine, input);
    expect(tells(c.send({ type: 'poke' }), 'lobby-gate')[0]?.msg).toMatchObject({ child: input.id, n: 0, state: 'empty' });
    c.send({ type: 'reserve', p: hunter(1, 50) });
    expect(tells(c.send({ type: 'poke' }), 'lobby-gate')[0]?.msg).toMatchObject({ state: 'reserved' });
    c.send({ type: 'open', p: hunter(1, 50), settings });
    const before = c.snapshot;
    expect(tells(c.send({ type: 'poke' }), 'lobby-gate')[0]?.msg).toMatchObject({ state: 'open', n: 1 });
    expect(c.snapshot).toBe(before); // a poke writes nothing
  });

  it('re-reports and audits its members every refresh period', () => {
    const c = openCity();
    c.clock.advance(15_000);
    const fx = c.drain();
    expect(tells(fx, 'lobby-gate')).toHaveLength(1);
    expect(tells(fx, 'lobby-player')[0]?.msg).toEqual({ type: 'audit', layer: input.id });
  });
});

describe('quest-circle slots', () => {
  it('hands out up to 4 slots by asking the circle, then refuses with "no quest slot"', () => {
    const c = openCity();
    for (let q = 1; q <= 4; q++) {
      const fx = c.send({ type: 'circleOpen', p: hunter(1, 50), password: q === 2 ? 'pw' : '', goal: 'g' });
      expect(asks(fx)[0]).toMatchObject({ to: { kind: 'lobby-circle', id: `${input.id}-q${q}` }, then: 'circleCreated' });
      const done = c.send({ type: 'circleCreated', ok: true, body: { state: 'forming' } });
      expect(reply(done)?.body).toMatchObject({ circle: `${input.id}-q${q}` });
      expect(pushes(done, 'lobby.onCircles')).toHaveLength(1);
    }
    expect(c.snapshot.context.circles[2]).toMatchObject({ locked: true, n: 1, leader: 'Hunter1' });
    const fx = c.send({ type: 'circleOpen', p: hunter(1, 50), password: '', goal: '' });
    expect(errorCode(fx)).toBe('NO_QUEST_SLOT');
    expect(reply(fx)?.error?.message).toContain('no quest slot');
    // A circle closing frees its slot.
    c.send({ type: 'circleReport', slot: 3, n: 0, state: 'forming', leader: '', closed: true });
    expect(asks(c.send({ type: 'circleOpen', p: hunter(1, 50), password: '', goal: '' }))[0]?.to.id).toBe(`${input.id}-q3`);
  });

  it('frees the slot again when the circle refuses to be created', () => {
    const c = openCity();
    c.send({ type: 'circleOpen', p: hunter(1, 50), password: '', goal: '' });
    expect(errorCode(c.send({ type: 'circleCreated', ok: false, error: { code: 'NOT_EMPTY', message: 'in use' } }))).toBe('NOT_EMPTY');
    expect(c.snapshot.context.circles).toEqual({});
    expect(c.snapshot.context.creating).toBeNull();
  });

  it('refuses circles to players not in the city', () => {
    const c = openCity();
    expect(errorCode(c.send({ type: 'circleOpen', p: hunter(9), password: '', goal: '' }))).toBe('NOT_MEMBER');
  });
});
