/**
 * A quest circle (`s03-g12-c07-q2`): a party forming in a city to go on a quest.
 *
 *   idle ──create (from the city)──▶ forming ──depart (leader)──▶ departed
 *                                      │                            │
 *                                      └ leader leaves: broken ─────┴ last one leaves ──▶ idle (slot free again)
 *
 * Rules (MH3): joining needs the password when one is set and refuses a full circle; departing removes everyone
 * not ready (they are told why); a leader leaving before departure breaks the circle, after departure the next
 * member leads. Every change is told to the city, which shows the circle and frees the slot when it closes.
 */
import { enqueueActions, setup } from 'xstate';
import type { ConnRef, Effect } from '../actors/runtime/effects.js';
import { emitAll, pushAll } from './layer.js';
import { ok, Push, refuse, LobbyCode, type MemberInfo } from './model.js';
import { K } from './tree.js';

export interface CircleInput {
  id: string;
  city: string;
  slot: number;
  capacity: number;
}

export interface CircleMember extends MemberInfo {
  ready: boolean;
}

export interface CircleContext extends CircleInput {
  leader: string | null;
  password: string;
  goal: string;
  members: CircleMember[];
}

export type CircleEvent =
  | { type: 'create'; p: MemberInfo; password: string; goal: string }
  | { type: 'join'; p: MemberInfo; password: string }
  | { type: 'ready'; id: string; ready: boolean }
  | { type: 'depart'; id: string }
  | { type: 'leave'; id: string }
  | { type: 'conn'; id: string; conn: ConnRef }
  | { type: 'info' };

type State = 'idle' | 'forming' | 'departed';

function view(c: CircleContext, state: State) {
  return { circle: c.id, city: c.city, state, leader: c.leader, goal: c.goal, locked: c.password !== '', capacity: c.capacity, members: c.members.map(({ id, name, hr, ready }) => ({ id, name, hr, ready })) };
}

const conns = (ms: CircleMember[]) => ms.map((m) => m.conn);

/** Tells the city how the circle looks (or that it closed), and pushes the new view to the members. */
function changed(c: CircleContext, state: State): Effect[] {
  const closed = state === 'idle' || c.members.length === 0;
  const leaderName = c.members.find((m) => m.id === c.leader)?.name ?? '';
  return [
    ...(closed ? [] : pushAll(conns(c.members), Push.circle, view(c, state))),
    { type: 'tell', to: { kind: K.city, id: c.city }, msg: { type: 'circleReport', slot: c.slot, n: c.members.length, state: state === 'idle' ? 'forming' : state, leader: leaderName, closed } },
  ];
}

/** Removes players from the circle: they get a push saying why, and their records forget the circle. */
function removed(c: CircleContext, gone: CircleMember[], reason: string): Effect[] {
  return [
    ...pushAll(conns(gone), Push.circleRemoved, { circle: c.id, reason }),
    ...gone.map((m): Effect => ({ type: 'tell', to: { kind: K.player, id: m.id }, msg: { type: 'circleGone', circle: c.id } })),
  ];
}

const RESET = { leader: null, password: '', goal: '', members: [] };

export const circleMachine = setup({
  types: {} as { context: CircleContext; events: CircleEvent; input: CircleInput; emitted: Effect },
  guards: {
    member: ({ context, event }) => 'id' in event && context.members.some((m) => m.id === event.id),
    leader: ({ context, event }) => 'id' in event && context.leader === event.id,
  },
}).createMachine({
  id: 'lobby-circle',
  context: ({ input }) => ({ ...input, ...RESET }),
  initial: 'idle',
  on: {
    conn: {
      guard: 'member',
      actions: enqueueActions(({ context, event, enqueue }) => {
        enqueue.assign({ members: context.members.map((m) => (m.id === event.id ? { ...m, conn: event.conn } : m)) });
      }),
    },
    // Leaving a circle you are not in is fine: retries and clean-ups stay simple.
    leave: { actions: enqueueActions(({ enqueue }) => enqueue.emit(ok())) },
    ready: { actions: enqueueActions(({ enqueue }) => enqueue.emit(refuse(LobbyCode.NotMember, 'you are not in this circle'))) },
    depart: { actions: enqueueActions(({ enqueue }) => enqueue.emit(refuse(LobbyCode.NotMember, 'you are not in this circle'))) },
  },
  states: {
    idle: {
      on: {
        info: { actions: enqueueActions(({ context, enqueue }) => enqueue.emit(ok(view(context, 'idle')))) },
        create: {
          target: 'forming',
          actions: enqueueActions(({ context, event, enqueue }) => {
            const next = { ...context, leader: event.p.id, password: event.password, goal: event.goal, members: [{ ...event.p, ready: false }] };
            enqueue.assign(next);
            enqueue.emit(ok(view(next, 'forming')));
          }),
        },
        join: { actions: enqueueActions(({ enqueue }) => enqueue.emit(refuse(LobbyCode.NotFound, 'no such circle (it may have closed)'))) },
      },
    },
    forming: {
      on: {
        info: { actions: enqueueActions(({ context, enqueue }) => enqueue.emit(ok(view(context, 'forming')))) },
        create: { actions: enqueueActions(({ enqueue }) => enqueue.emit(refuse(LobbyCode.NotEmpty, 'this quest slot is in use'))) },
        join: {
          actions: enqueueActions(({ context: c, event: e, enqueue }) => {
            if (c.members.some((m) => m.id === e.p.id)) return enqueue.emit(ok(view(c, 'forming')));
            if (c.members.length >= c.capacity) return enqueue.emit(refuse(LobbyCode.Full, `circle ${c.id} is full (${c.capacity})`));
            if (c.password !== '' && e.password !== c.password) return enqueue.emit(refuse(LobbyCode.WrongPassword, 'wrong circle password'));
            const next = { ...c, members: [...c.members, { ...e.p, ready: false }] };
            enqueue.assign({ members: next.members });
            emitAll(enqueue, changed(next, 'forming'));
            enqueue.emit(ok(view(next, 'forming')));
          }),
        },
        ready: {
          guard: 'member',
          actions: enqueueActions(({ context: c, event: e, enqueue }) => {
            const next = { ...c, members: c.members.map((m) => (m.id === e.id ? { ...m, ready: e.ready } : m)) };
            enqueue.assign({ members: next.members });
            emitAll(enqueue, changed(next, 'forming'));
            enqueue.emit(ok(view(next, 'forming')));
          }),
        },
        depart: [
          {
            guard: 'leader',
            target: 'departed',
            actions: enqueueActions(({ context: c, enqueue }) => {
              const going = c.members.filter((m) => m.ready || m.id === c.leader);
              const next = { ...c, members: going };
              enqueue.assign({ members: going });
              emitAll(enqueue, removed(c, c.members.filter((m) => !going.includes(m)), 'not ready'));
              emitAll(enqueue, changed(next, 'departed'));
              enqueue.emit(ok(view(next, 'departed')));
            }),
          },
          { guard: 'member', actions: enqueueActions(({ enqueue }) => enqueue.emit(refuse(LobbyCode.NotLeader, 'only the circle leader departs'))) },
        ],
        leave: [
          {
            // The leader leaving before departure breaks the circle: everyone is out, the slot is free.
            guard: 'leader',
            target: 'idle',
            actions: enqueueActions(({ context: c, event: e, enqueue }) => {
              emitAll(enqueue, removed(c, c.members.filter((m) => m.id !== e.id), 'leader left'));
              enqueue.assign(RESET);
              emitAll(enqueue, changed({ ...c, ...RESET }, 'idle'));
              enqueue.emit(ok());
              enqueue.emit({ type: 'passivate', forget: true });
            }),
          },
          {
            guard: 'member',
            actions: enqueueActions(({ context: c, event: e, enqueue }) => {
              const next = { ...c, members: c.members.filter((m) => m.id !== e.id) };
              enqueue.assign({ members: next.members });
              emitAll(enqueue, changed(next, 'forming'));
              enqueue.emit(ok());
            }),
          },
        ],
      },
    },
    departed: {
      on: {
        info: { actions: enqueueActions(({ context, enqueue }) => enqueue.emit(ok(view(context, 'departed')))) },
        create: { actions: enqueueActions(({ enqueue }) => enqueue.emit(refuse(LobbyCode.NotEmpty, 'this quest slot is in use'))) },
        join: { actions: enqueueActions(({ enqueue }) => enqueue.emit(refuse(LobbyCode.Departed, 'this circle has departed'))) },
        ready: { actions: enqueueActions(({ enqueue }) => enqueue.emit(refuse(LobbyCode.Departed, 'this circle has departed'))) },
        depart: { actions: enqueueActions(({ enqueue }) => enqueue.emit(refuse(LobbyCode.Departed, 'this circle has departed'))) },
        leave: [
          {
            guard: ({ context, event }) => context.members.length === 1 && context.members[0]!.id === event.id,
            target: 'idle',
            actions: enqueueActions(({ context: c, enqueue }) => {
              enqueue.assign(RESET);
              emitAll(enqueue, changed({ ...c, ...RESET }, 'idle'));
              enqueue.emit(ok());
              enqueue.emit({ type: 'passivate', forget: true });
            }),
          },
          {
            // After departure the circle survives its leader: the next member leads.
            guard: 'member',
            actions: enqueueActions(({ context: c, event: e, enqueue }) => {
              const members = c.members.filter((m) => m.id !== e.id);
              const leader = c.leader === e.id ? members[0]!.id : c.leader;
              const next = { ...c, members, leader };
              enqueue.assign({ members, leader });
              if (leader !== c.leader) emitAll(enqueue, pushAll(conns(members), Push.leader, { circle: c.id, leader, name: members[0]!.name }));
              emitAll(enqueue, changed(next, 'departed'));
              enqueue.emit(ok());
            }),
          },
        ],
      },
    },
  },
});
