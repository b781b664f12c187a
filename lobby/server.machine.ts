/**
 * A lobby server (`s03`): admits players up to its capacity and within its type's Hunter Rank range, and keeps the
 * gate counts its gates report (the gate list). Its own count is exact (a roster of everyone under it, durable), so
 * the server list asks servers directly.
 *
 * States: `idle` (nobody here: no timer, may passivate) and `live` (a refresh timer audits the roster and pokes the
 * gates it believes occupied, so counts lost with a crashed node or a dropped tell are correct again within one
 * period).
 */
import { enqueueActions, setup } from 'xstate';
import type { Effect } from '../actors/runtime/effects.js';
import {
  auditEffects,
  enterStep,
  herePublic,
  leaveStep,
  page,
  pokeEffects,
  rosterSize,
  socialEffects,
  SOCIAL_TYPES,
  type Roster,
  type SocialEvent,
  applyStep as apply,
  emitAll,
} from './layer.js';
import { ok, refuse, LobbyCode, type MemberInfo } from './model.js';
import { childKey, gateId, K, parentOf, statusOf, type HrRange, type ServerType } from './tree.js';

export interface ServerInput {
  id: string;
  type: ServerType;
  capacity: number;
  hr: HrRange;
  gates: number;
  gateCapacity: number;
  refreshMs: number;
}

export interface ServerContext extends ServerInput {
  roster: Roster;
  /** Player count per gate (`g01` → n), as the gates last reported. */
  gateCounts: Record<string, number>;
}

export type ServerEvent =
  | { type: 'enter'; p: MemberInfo; here: boolean }
  | { type: 'leave'; id: string }
  | { type: 'report'; child: string; n: number }
  | { type: 'list'; offset: number; limit: number }
  | { type: 'info'; members?: boolean }
  | SocialEvent;


function info(c: ServerContext, withMembers: boolean) {
  const n = rosterSize(c.roster);
  return { layer: c.id, level: 'server', type: c.type, n, capacity: c.capacity, status: statusOf(n, c.capacity), ...(withMembers ? { members: herePublic(c.roster) } : {}) };
}

export const serverMachine = setup({
  types: {} as { context: ServerContext; events: ServerEvent; input: ServerInput; emitted: Effect },
  delays: { refresh: ({ context }) => context.refreshMs },
  guards: { occupied: ({ context }) => rosterSize(context.roster) > 0 },
  actions: {
    social: enqueueActions(({ context, event, enqueue }) => {
      if (SOCIAL_TYPES.has(event.type)) apply(enqueue, socialEffects(context.id, context.roster, event as SocialEvent));
    }),
  },
}).createMachine({
  id: 'lobby-server',
  context: ({ input }) => ({ ...input, roster: {}, gateCounts: {} }),
  initial: 'idle',
  states: {
    idle: { always: { guard: 'occupied', target: 'live' } },
    live: {
      always: { guard: ({ context }) => rosterSize(context.roster) === 0, target: 'idle' },
      after: {
        refresh: {
          target: 'live',
          reenter: true,
          actions: enqueueActions(({ context: c, enqueue }) => {
            emitAll(enqueue, auditEffects(c.id, c.roster));
            emitAll(enqueue, pokeEffects(K.gate, Object.keys(c.gateCounts).filter((g) => c.gateCounts[g]! > 0).map((g) => `${c.id}-${g}`)));
          }),
        },
      },
    },
  },
  on: {
    enter: {
      actions: enqueueActions(({ context: c, event: e, enqueue }) => {
        const refusal = () =>
          rosterSize(c.roster) >= c.capacity
            ? refuse(LobbyCode.Full, `server ${c.id} is full (${c.capacity})`)
            : e.p.hr < c.hr.min || e.p.hr > c.hr.max
              ? refuse(LobbyCode.HrLimit, `server ${c.id} (${c.type}) admits HR ${c.hr.min}–${c.hr.max}; yours is ${e.p.hr}`)
              : undefined;
        apply(enqueue, enterStep(c.id, c.roster, e, refusal, (roster) => info({ ...c, roster }, e.here)));
      }),
    },
    leave: { actions: enqueueActions(({ context: c, event: e, enqueue }) => apply(enqueue, leaveStep(c.id, c.roster, e.id))) },
    report: {
      guard: ({ context, event }) => parentOf(event.child)?.id === context.id && (context.gateCounts[childKey(event.child)] ?? 0) !== event.n,
      actions: enqueueActions(({ context, event, enqueue }) => {
        const gateCounts = { ...context.gateCounts, [childKey(event.child)]: event.n };
        if (event.n === 0) delete gateCounts[childKey(event.child)];
        enqueue.assign({ gateCounts });
      }),
    },
    list: {
      actions: enqueueActions(({ context: c, event: e, enqueue }) => {
        const server = Number(c.id.slice(1));
        const gates = Array.from({ length: c.gates }, (_, i) => {
          const id = gateId(server, i + 1);
          const n = c.gateCounts[childKey(id)] ?? 0;
          return { id, n, capacity: c.gateCapacity, status: statusOf(n, c.gateCapacity) };
        });
        enqueue.emit(ok({ ...info(c, false), gates: page(gates, e.offset, e.limit) }));
      }),
    },
    info: { actions: enqueueActions(({ context, event, enqueue }) => enqueue.emit(ok(info(context, event.members !== false)))) },
    chat: { actions: 'social' },
    whisper: { actions: 'social' },
    relay: { actions: 'social' },
    profile: { actions: 'social' },
    conn: { actions: 'social' },
  },
});
