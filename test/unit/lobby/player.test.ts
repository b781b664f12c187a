/**
 * The player record on the pure machine: move planning, moves carried out as asks (answered here by a stand-in for
 * the layers), undo of a refused move, duplicate login, logout of an older session, audits, tells, the profile,
 * and friends (request, accept both ways, decline, delete, pending requests delivered with the next login).
 */
import { describe, expect, it } from 'vitest';
import type { Effect } from '../../../actors/runtime/effects.js';
import { planMove } from '../../../lobby/player-nav.js';
import { playerMachine } from '../../../lobby/player.machine.js';
import { asks, conn, errorCode, hunter, pure, pushes, reply, tells, type Pure } from '../../support/lobby-pure.js';

type Ask = Extract<Effect, { type: 'ask' }>;
type Answer = { ok: true; body?: unknown } | { ok: false; error: { code: string; message: string } };

/** Sends an event and answers the asks it makes (as the runtime would, in the same turn); returns every effect. */
function turn(p: Pure<typeof playerMachine>, ev: Record<string, unknown> & { type: string }, answer: (a: Ask) => Answer = () => ({ ok: true, body: { ok: 1 } })) {
  const all: Effect[] = [];
  const asked: Ask[] = [];
  let fx = p.send(ev);
  for (;;) {
    all.push(...fx.filter((e) => e.type !== 'ask'));
    const a = asks(fx)[0];
    if (!a) return { all, asked };
    asked.push(a);
    fx = p.send({ type: a.then, ...answer(a) });
  }
}

function player(n = 1) {
  return pure(playerMachine, { id: hunter(n).id, searchShards: 8 });
}

function online(n = 1, session = 'S1') {
  const p = player(n);
  turn(p, { type: 'login', conn: conn(n), session, name: `Hunter${n}`, hr: 40, force: false });
  return p;
}

const stepsOf = (s: ReturnType<typeof planMove>) => s.map((x) => `${x.msg.type}${x.msg.here !== undefined ? `(${x.msg.here})` : ''} ${x.to.id}`);

describe('move planning', () => {
  const me = hunter(1);
  it('enters new layers top-down, then updates where it stands, then leaves bottom-up', () => {
    expect(stepsOf(planMove([], ['s01', 's01-g02'], me, { circle: null }))).toEqual(['enter(false) s01', 'enter(true) s01-g02']);
    expect(stepsOf(planMove(['s01', 's01-g02'], ['s01', 's01-g02', 's01-g02-c03'], me, { circle: null }))).toEqual(['enter(true) s01-g02-c03', 'enter(false) s01-g02']);
    expect(stepsOf(planMove(['s01', 's01-g02', 's01-g02-c03'], ['s01', 's01-g02'], me, { circle: null }))).toEqual(['enter(true) s01-g02', 'leave s01-g02-c03']);
    expect(stepsOf(planMove(['s01', 's01-g02', 's01-g02-c03'], ['s05', 's05-g01'], me, { circle: 's01-g02-c03-q1' }))).toEqual([
      'enter(false) s05',
      'enter(true) s05-g01',
      'leave s01-g02-c03-q1',
      'leave s01-g02-c03',
      'leave s01-g02',
      'leave s01',
    ]);
    expect(planMove(['s01'], ['s01'], me, { circle: null })).toEqual([]);
  });
});

describe('player record', () => {
  it('logs in, and refuses a second login of the same Capcom ID while online', () => {
    const p = player();
    const { all } = turn(p, { type: 'login', conn: conn(1), session: 'S1', name: 'Hunter1', hr: 40, force: false });
    expect(reply(all)?.body).toMatchObject({ id: hunter(1).id, name: 'Hunter1', online: true, loc: [], pending: [] });
    expect(p.snapshot.value).toBe('online');
    const again = turn(p, { type: 'login', conn: conn(2), session: 'S2', name: 'Hunter1', hr: 40, force: false });
    expect(errorCode(again.all)).toBe('ALREADY_LOGGED_IN');
    expect(reply(again.all)?.error?.message).toContain('already online');
    // The gateway vouches that no other session is live (`force`): the record's online flag was stale.
    expect(reply(turn(p, { type: 'login', conn: conn(2), session: 'S2', name: 'Hunter1', hr: 40, force: true }).all)?.error).toBeUndefined();
    expect(p.snapshot.context.online?.session).toBe('S2');
  });

  it('refuses moves while offline', () => {
    expect(errorCode(player().send({ type: 'go', to: ['s01'] }))).toBe('NOT_LOGGED_IN');
  });

  it('moves through asks and records the place only when every layer agreed; feeds the search index', () => {
    const p = online();
    const { all, asked } = turn(p, { type: 'go', to: ['s01', 's01-g02'] });
    expect(asked.map((a) => a.to.id)).toEqual(['s01', 's01-g02']);
    expect(reply(all)?.body).toMatchObject({ loc: ['s01', 's01-g02'] });
    expect(p.snapshot.context.loc).toEqual(['s01', 's01-g02']);
    expect(tells(all, 'lobby-pindex')[0]?.msg).toMatchObject({ type: 'put', id: hunter(1).id, loc: ['s01', 's01-g02'] });
  });

  it('undoes a refused move: a full city leaves the player where it was', () => {
    const p = online();
    turn(p, { type: 'go', to: ['s01', 's01-g02'] });
    const { all, asked } = turn(p, { type: 'go', to: ['s02', 's02-g01', 's02-g01-c01'] }, (a) =>
      a.to.id === 's02-g01-c01' ? { ok: false, error: { code: 'FULL', message: 'city full' } } : { ok: true },
    );
    expect(errorCode(all)).toBe('FULL');
    expect(asked.map((a) => `${(a.msg as { type: string }).type} ${a.to.id}`)).toEqual(['enter s02', 'enter s02-g01', 'enter s02-g01-c01', 'leave s02-g01', 'leave s02']);
    expect(p.snapshot.context.loc).toEqual(['s01', 's01-g02']);
  });

  it('logs out by leaving every layer; a late logout of an older session is ignored', () => {
    const p = online(1, 'S1');
    turn(p, { type: 'go', to: ['s01'] });
    turn(p, { type: 'login', conn: conn(5), session: 'S2', name: 'Hunter1', hr: 40, force: true });
    expect(turn(p, { type: 'logout', session: 'S1' }).asked).toEqual([]);
    expect(p.snapshot.context.online?.session).toBe('S2');
    const { all } = turn(p, { type: 'logout', session: 'S2' });
    expect(p.snapshot.context.online).toBeNull();
    expect(p.snapshot.value).toBe('offline');
    expect(tells(all, 'lobby-pindex')[0]?.msg).toMatchObject({ type: 'del' });
  });

  it('a login with a stale location (no logout after a crash) leaves those layers first', () => {
    const p = online(1, 'S1');
    turn(p, { type: 'go', to: ['s01', 's01-g01'] });
    const { asked, all } = turn(p, { type: 'login', conn: conn(5), session: 'S2', name: 'Hunter1', hr: 40, force: true });
    expect(asked.map((a) => `${(a.msg as { type: string }).type} ${a.to.id}`)).toEqual(['leave s01-g01', 'leave s01']);
    expect(reply(all)?.body).toMatchObject({ loc: [] });
  });

  it('answers audits: a layer it is not in is told to drop it; its own layer refreshes the index', () => {
    const p = online();
    turn(p, { type: 'go', to: ['s01', 's01-g02'] });
    expect(tells(p.send({ type: 'audit', layer: 's03' }))[0]).toMatchObject({ to: { kind: 'lobby-server', id: 's03' }, msg: { type: 'leave', id: hunter(1).id } });
    expect(tells(p.send({ type: 'audit', layer: 's01' }))).toEqual([]);
    expect(tells(p.send({ type: 'audit', layer: 's01-g02' }), 'lobby-pindex')).toHaveLength(1);
  });

  it('receives tells only while online', () => {
    const p = online();
    const fx = p.send({ type: 'tellMsg', from: hunter(2).id, name: 'Hunter2', text: 'hi' });
    expect(pushes(fx, 'lobby.onTell')[0]).toMatchObject({ to: conn(1), body: { from: hunter(2).id, text: 'hi' } });
    turn(p, { type: 'logout', session: 'S1' });
    expect(errorCode(p.send({ type: 'tellMsg', from: hunter(2).id, name: 'Hunter2', text: 'hi' }))).toBe('NOT_ONLINE');
  });

  it('writes the 256-byte profile in pieces and tells its layer', () => {
    const p = online();
    turn(p, { type: 'go', to: ['s01'] });
    const fx = p.send({ type: 'profileWrite', offset: 250, bytes: new Uint8Array([1, 2, 3, 4, 5, 6]) });
    expect(tells(fx, 'lobby-server')[0]?.msg).toMatchObject({ type: 'profile', from: hunter(1).id, offset: 250 });
    expect([...p.snapshot.context.profile.slice(248)]).toEqual([0, 0, 1, 2, 3, 4, 5, 6]);
    expect(errorCode(p.send({ type: 'profileWrite', offset: 251, bytes: new Uint8Array(6) }))).toBe('BAD_REQUEST');
  });
});

describe('friends', () => {
  /** Delivers the tells between two records until none are left. */
  function deliver(fx: Effect[], records: Record<string, Pure<typeof playerMachine>>) {
    const queue = tells(fx, 'lobby-player');
    while (queue.length) {
      const t = queue.shift()!;
      const target = records[t.to.id];
      if (target) queue.push(...tells(target.send(t.msg as never), 'lobby-player'));
    }
  }

  it('request then accept makes both friends; pending requests come with the next login', () => {
    const a = online(1);
    const b = player(2);
    turn(b, { type: 'login', conn: conn(2), session: 'B', name: 'Hunter2', hr: 20, force: false });
    turn(b, { type: 'logout', session: 'B' });
    const records = { [hunter(1).id]: a, [hunter(2).id]: b };
    deliver(turn(a, { type: 'friendRequest', to: hunter(2).id }).all, records);
    expect(b.snapshot.context.pending).toEqual({ [hunter(1).id]: 'Hunter1' });
    const login = turn(b, { type: 'login', conn: conn(2), session: 'B2', name: 'Hunter2', hr: 20, force: false });
    expect(reply(login.all)?.body).toMatchObject({ pending: [{ id: hunter(1).id, name: 'Hunter1' }] });
    const acc = b.send({ type: 'friendAccept', from: hunter(1).id });
    deliver(acc, records);
    expect(a.snapshot.context.friends).toEqual({ [hunter(2).id]: 'Hunter2' });
    expect(b.snapshot.context.friends).toEqual({ [hunter(1).id]: 'Hunter1' });
    expect(a.snapshot.context.sent).toEqual({});
    const list = reply(a.send({ type: 'friends' }))?.body;
    expect(list).toMatchObject({ friends: [{ id: hunter(2).id, name: 'Hunter2' }], pending: [], sent: [] });
    // Deleting removes it on both sides.
    deliver(a.send({ type: 'friendDelete', id: hunter(2).id }), records);
    expect(a.snapshot.context.friends).toEqual({});
    expect(b.snapshot.context.friends).toEqual({});
  });

  it('a push reaches an online target at once; crossing requests count as accepted', () => {
    const a = online(1);
    const b = online(2);
    const records = { [hunter(1).id]: a, [hunter(2).id]: b };
    const req = turn(a, { type: 'friendRequest', to: hunter(2).id }).all;
    const toB = tells(req, 'lobby-player')[0]!;
    expect(pushes(b.send(toB.msg as never), 'lobby.onFriendRequest')[0]).toMatchObject({ to: conn(2), body: { from: hunter(1).id } });
    deliver(b.send({ type: 'friendRequest', to: hunter(1).id }), records);
    expect(Object.keys(a.snapshot.context.friends)).toEqual([hunter(2).id]);
    expect(Object.keys(b.snapshot.context.friends)).toEqual([hunter(1).id]);
  });

  it('declines, refuses accepting what nobody asked, and ignores unsolicited adds', () => {
    const a = online(1);
    const b = online(2);
    const records = { [hunter(1).id]: a, [hunter(2).id]: b };
    deliver(a.send({ type: 'friendRequest', to: hunter(2).id }), records);
    deliver(b.send({ type: 'friendDecline', from: hunter(1).id }), records);
    expect(a.snapshot.context.sent).toEqual({});
    expect(b.snapshot.context.pending).toEqual({});
    expect(errorCode(b.send({ type: 'friendAccept', from: hunter(1).id }))).toBe('NOT_FOUND');
    b.send({ type: 'friendAdded', by: hunter(3).id, name: 'Hunter3' });
    expect(b.snapshot.context.friends).toEqual({});
  });

  it('a request to a Capcom ID that never logged in is declined', () => {
    const a = online(1);
    const ghost = player(9);
    deliver(a.send({ type: 'friendRequest', to: hunter(9).id }), { [hunter(1).id]: a, [hunter(9).id]: ghost });
    expect(a.snapshot.context.sent).toEqual({});
    expect(ghost.snapshot.context.pending).toEqual({});
  });
});
