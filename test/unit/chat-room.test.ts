/**
 * The chat room machine as pure transitions (xstate `transition`, nothing runs): who hears what, duplicate names,
 * private messages, leaving, re-binding, passivation of an empty room; and the kind's `toEvent` refusing every
 * malformed message with BAD_MESSAGE. A property test drives random sessions through the room and checks that names
 * and sessions stay unique and every push goes to members only.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import type { ConnRef, Effect } from '../../actors/runtime/effects.js';
import { GatehouseError } from '../../common/errors.js';
import { roomMachine, type RoomEvent } from '../../chat/room.machine.js';
import { roomKind, roomToEvent } from '../../chat/room.js';

type Snap = ReturnType<typeof initialTransition<typeof roomMachine>>[0];

const conn = (id: string, gw = 'gw1'): ConnRef => ({ gw, id });
const enter = (session: string, name: string, c = conn(`c-${session}`)): RoomEvent => ({ type: 'enter', session, name, conn: c });

function start(): Snap {
  return initialTransition(roomMachine, { room: 'lobby' })[0];
}

/** One step: the next snapshot and the effects the machine emitted, in order. */
function step(s: Snap, e: RoomEvent): [Snap, Effect[]] {
  const [next, actions] = transition(roomMachine, s, e);
  // Typed actions omit emit actions, hence the cast to a plain shape.
  const effects = (actions as unknown as Array<{ type: string; params: { event: Effect } }>)
    .filter((a) => a.type === 'xstate.emit')
    .map((a) => a.params.event);
  return [next, effects];
}

function run(events: RoomEvent[]): [Snap, Effect[]] {
  let s = start();
  let last: Effect[] = [];
  for (const e of events) [s, last] = step(s, e);
  return [s, last];
}

const users = (s: Snap) => s.context.members.map((m) => m.name);

describe('chat room machine', () => {
  it('the first to enter gets the member list and nobody is pushed to', () => {
    const [s, fx] = run([enter('s1', 'alice')]);
    expect(users(s)).toEqual(['alice']);
    expect(fx).toEqual([{ type: 'reply', body: { users: ['alice'], count: 1 } }]);
  });

  it('a newcomer is announced to the others only, and gets everyone in join order', () => {
    const [s, fx] = run([enter('s1', 'alice'), enter('s2', 'bob', conn('b', 'gw2')), enter('s3', 'carol')]);
    expect(users(s)).toEqual(['alice', 'bob', 'carol']);
    expect(fx).toEqual([
      { type: 'push', to: [conn('c-s1'), conn('b', 'gw2')], route: 'onAdd', body: { user: 'carol' } },
      { type: 'reply', body: { users: ['alice', 'bob', 'carol'], count: 3 } },
    ]);
  });

  it('refuses a name already taken in the room, with NAME_TAKEN, and changes nothing', () => {
    const [before] = run([enter('s1', 'alice')]);
    const [after, fx] = step(before, enter('s2', 'alice'));
    expect(fx).toHaveLength(1);
    expect(fx[0]).toMatchObject({ type: 'reply', error: { code: 'NAME_TAKEN' } });
    expect((fx[0] as { error: { message: string } }).error.message).toContain('"alice"');
    expect(after.context).toEqual(before.context);
  });

  it('a retried enter (same session, same name) re-binds quietly', () => {
    const [s, fx] = run([enter('s1', 'alice'), enter('s2', 'bob'), enter('s1', 'alice', conn('new'))]);
    expect(users(s)).toEqual(['alice', 'bob']);
    expect(s.context.members[0]!.conn).toEqual(conn('new'));
    expect(fx).toEqual([{ type: 'reply', body: { users: ['alice', 'bob'], count: 2 } }]);
  });

  it('a session entering under a new name is seen as the old name leaving and the new one coming', () => {
    const [s, fx] = run([enter('s1', 'alice'), enter('s2', 'bob'), enter('s1', 'alicia')]);
    expect(users(s)).toEqual(['bob', 'alicia']);
    expect(fx).toEqual([
      { type: 'push', to: [conn('c-s2')], route: 'onLeave', body: { user: 'alice' } },
      { type: 'push', to: [conn('c-s2')], route: 'onAdd', body: { user: 'alicia' } },
      { type: 'reply', body: { users: ['bob', 'alicia'], count: 2 } },
    ]);
  });

  it('a message to everyone is one push to every member, the sender included, signed with its room name', () => {
    const [, fx] = run([enter('s1', 'alice'), enter('s2', 'bob', conn('b', 'gw2')), { type: 'say', session: 's1', content: 'hi', target: '*' }]);
    expect(fx).toEqual([{ type: 'push', to: [conn('c-s1'), conn('b', 'gw2')], route: 'onChat', body: { msg: 'hi', from: 'alice', target: '*' } }]);
  });

  it('a private message goes to the addressee only', () => {
    const [, fx] = run([enter('s1', 'alice'), enter('s2', 'bob'), enter('s3', 'carol'), { type: 'say', session: 's1', content: 'psst', target: 'carol' }]);
    expect(fx).toEqual([{ type: 'push', to: conn('c-s3'), route: 'onChat', body: { msg: 'psst', from: 'alice', target: 'carol' } }]);
  });

  it('refuses a private message to an unknown name (NO_SUCH_USER) and talk from a non-member (NOT_IN_ROOM)', () => {
    const [s] = run([enter('s1', 'alice')]);
    expect(step(s, { type: 'say', session: 's1', content: 'x', target: 'zed' })[1]).toMatchObject([{ type: 'reply', error: { code: 'NO_SUCH_USER' } }]);
    expect(step(s, { type: 'say', session: 'sX', content: 'x', target: '*' })[1]).toMatchObject([{ type: 'reply', error: { code: 'NOT_IN_ROOM' } }]);
  });

  it('leaving tells the others; the last one out passivates the room', () => {
    let [s, fx] = run([enter('s1', 'alice'), enter('s2', 'bob'), { type: 'leave', session: 's1' }]);
    expect(users(s)).toEqual(['bob']);
    expect(fx).toEqual([
      { type: 'reply', body: { left: true } },
      { type: 'push', to: [conn('c-s2')], route: 'onLeave', body: { user: 'alice' } },
    ]);
    [s, fx] = step(s, { type: 'leave', session: 's2' });
    expect(users(s)).toEqual([]);
    expect(fx).toEqual([{ type: 'reply', body: { left: true } }, { type: 'passivate' }]);
    expect(roomKind.canPassivate!(s)).toBe(true);
  });

  it('leaving twice is harmless', () => {
    const [, fx] = run([enter('s1', 'alice'), enter('s2', 'bob'), { type: 'leave', session: 's1' }, { type: 'leave', session: 's1' }]);
    expect(fx).toEqual([{ type: 'reply', body: { left: false } }]);
  });

  it('after a rebind, pushes go to the new connection', () => {
    const [s, fx] = run([enter('s1', 'alice'), enter('s2', 'bob'), { type: 'rebind', session: 's2', conn: conn('b2', 'gw9') }]);
    expect(fx).toEqual([{ type: 'reply', body: { rebound: true } }]);
    expect(step(s, { type: 'say', session: 's1', content: 'hi', target: 'bob' })[1]).toEqual([
      { type: 'push', to: conn('b2', 'gw9'), route: 'onChat', body: { msg: 'hi', from: 'alice', target: 'bob' } },
    ]);
    expect(step(s, { type: 'rebind', session: 'nobody', conn: conn('x') })[1]).toEqual([{ type: 'reply', body: { rebound: false } }]);
  });

  it('lists members in join order; a room with members is never passivated by the idle sweep', () => {
    const [s, fx] = run([enter('s2', 'bob'), enter('s1', 'alice'), { type: 'members' }]);
    expect(fx).toEqual([{ type: 'reply', body: { users: ['bob', 'alice'], count: 2 } }]);
    expect(roomKind.canPassivate!(s)).toBe(false);
  });

  it('keeps its members across a persisted snapshot (what a shard move hands over)', () => {
    const [s] = run([enter('s1', 'alice'), enter('s2', 'bob')]);
    const persisted = JSON.parse(JSON.stringify(roomMachine.getPersistedSnapshot(s)));
    const restored = roomMachine.resolveState({ value: persisted.value, context: persisted.context });
    expect(step(restored, { type: 'say', session: 's2', content: 'still here', target: 'alice' })[1]).toEqual([
      { type: 'push', to: conn('c-s1'), route: 'onChat', body: { msg: 'still here', from: 'bob', target: 'alice' } },
    ]);
  });

  it('keeps names and sessions unique and pushes only to members, whatever the sequence (property)', () => {
    const sessions = ['s1', 's2', 's3', 's4'];
    const names = ['ann', 'ben', 'cat'];
    const ev = fc.oneof(
      fc.record({ type: fc.constant('enter' as const), session: fc.constantFrom(...sessions), name: fc.constantFrom(...names), conn: fc.constantFrom(...['a', 'b', 'c'].map((id) => conn(id))) }),
      fc.record({ type: fc.constant('say' as const), session: fc.constantFrom(...sessions), content: fc.string({ minLength: 1 }), target: fc.constantFrom('*', ...names) }),
      fc.record({ type: fc.constant('leave' as const), session: fc.constantFrom(...sessions) }),
      fc.record({ type: fc.constant('rebind' as const), session: fc.constantFrom(...sessions), conn: fc.constantFrom(conn('d'), conn('e')) }),
      fc.constant({ type: 'members' as const }),
    );
    fc.assert(
      fc.property(fc.array(ev, { maxLength: 40 }), (events) => {
        let s = start();
        for (const e of events) {
          const memberConns = new Set(s.context.members.map((m) => JSON.stringify(m.conn)));
          const [next, fx] = step(s, e as RoomEvent);
          for (const f of fx) {
            if (f.type !== 'push') continue;
            // Everyone pushed to was a member before the event (or is the one entering, who never gets its own onAdd).
            for (const to of Array.isArray(f.to) ? f.to : [f.to]) expect(memberConns.has(JSON.stringify(to))).toBe(true);
          }
          expect(fx.filter((f) => f.type === 'reply').length).toBeLessThanOrEqual(1);
          s = next;
          const ms = s.context.members;
          expect(new Set(ms.map((m) => m.name)).size).toBe(ms.length);
          expect(new Set(ms.map((m) => m.session)).size).toBe(ms.length);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('chat room toEvent', () => {
  const ok = { session: 's1', conn: { gw: 'g', id: 'c' } };
  const bad: Array<[string, unknown]> = [
    ['not an object', 'enter'],
    ['an array', [{ type: 'enter' }]],
    ['null', null],
    ['unknown type', { type: 'shout' }],
    ['type not a string', { type: 7 }],
    ['enter without name', { type: 'enter', ...ok }],
    ['enter with an empty name', { type: 'enter', ...ok, name: '' }],
    ['enter with name "*"', { type: 'enter', ...ok, name: '*' }],
    ['enter with a 33-character name', { type: 'enter', ...ok, name: 'x'.repeat(33) }],
    ['enter with a control character', { type: 'enter', ...ok, name: 'a\nb' }],
    ['enter with padded name', { type: 'enter', ...ok, name: ' a' }],
    ['enter with a number name', { type: 'enter', ...ok, name: 5 }],
    ['enter without conn', { type: 'enter', session: 's1', name: 'a' }],
    ['enter with conn.gw missing', { type: 'enter', session: 's1', name: 'a', conn: { id: 'c' } }],
    ['enter without session', { type: 'enter', name: 'a', conn: ok.conn }],
    ['say with content too long', { type: 'say', session: 's1', content: 'x'.repeat(2001), target: '*' }],
    ['say with empty content', { type: 'say', session: 's1', content: '', target: '*' }],
    ['say with object content', { type: 'say', session: 's1', content: { a: 1 }, target: '*' }],
    ['say without target', { type: 'say', session: 's1', content: 'x' }],
    ['leave without session', { type: 'leave' }],
    ['rebind with a string conn', { type: 'rebind', session: 's1', conn: 'g/c' }],
  ];
  for (const [what, msg] of bad) {
    it(`refuses ${what} with BAD_MESSAGE`, () => {
      let thrown: unknown;
      try {
        roomToEvent(msg);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(GatehouseError);
      expect((thrown as GatehouseError).code).toBe('BAD_MESSAGE');
    });
  }

  it('accepts unicode names (counted in characters) and keeps only gw and id of a conn', () => {
    const e = roomToEvent({ type: 'enter', session: 's1', name: '猎人😀'.repeat(10) + 'ab', conn: { gw: 'g', id: 'c', extra: 'x'.repeat(1000) } });
    expect(e).toEqual({ type: 'enter', session: 's1', name: '猎人😀'.repeat(10) + 'ab', conn: { gw: 'g', id: 'c' } });
  });

  it('never throws anything but BAD_MESSAGE on random input (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ type: fc.constantFrom('enter', 'say', 'leave', 'rebind', 'members'), session: fc.anything(), name: fc.anything(), conn: fc.anything(), content: fc.anything(), target: fc.anything() }, { requiredKeys: ['type'] })), (msg) => {
        try {
          roomToEvent(msg);
        } catch (err) {
          expect((err as GatehouseError).code).toBe('BAD_MESSAGE');
        }
      }),
      { numRuns: 1000 },
    );
  });
});
