/**
 * A lobby server (`s03`): admits arrivals up to its capacity and within its type's Hunter Rank range, keeps the
 * players standing in the server layer itself (its pushes go to them) and the counts its gates report (the gate
 * list). Its total is those two together.
 *
 * Why counts and not a roster of everyone under it, as gates keep: a server holds up to 2000 players, and a durable
 * roster that size would be a ~100 KB snapshot rewritten on every arrival. Gates already keep exact, durable rosters
 * (100 each) and report on every change, so the server's total is exact once their reports are in; two arrivals
 * racing for the last place within a report's latency (milliseconds) can overshoot the capacity by one.
 *
 * States: `idle` (nobody under it: no timer, may passivate) and `live` (a refresh timer audits the players standing
 * here and pokes the gates it believes occupied, so counts lost with a crashed node are correct again within one
 * period).
 */
import { enqueueActions, setup } from 'xstate';
import type { Effect } from '../actors/runtime/effects.js';
import {
  applyStep as apply,
  auditEffects,
  emitAll,
  entryOf,
  herePublic,
  page,
  pokeEffects,
  presenceEffects,
  rosterSize,
  socialEffects,
  SOCIAL_TYPES,
  without,
  type Roster,
  type SocialEvent,
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
  /** The players standing in the server layer itself (all `here`). */
  roster: Roster;
  /** Player count per gate (`g01` → n), as the gates last reported; absent = 0. */
  gateCounts: Record<string, number>;
}

export type ServerEvent =
  /** `within`: the player is already under this server (moving between its gates and its own layer). */
  | { type: 'enter'; p: MemberInfo; here: boolean; within: boolean }
  | { type: 'leave'; id: string }
  | { type: 'report'; child: string; n: number }
  | { type: 'list'; offset: number; limit: number }
  | { type: 'info'; members?: boolean }
  | SocialEvent;


export function totalOf(c: Pick<ServerContext, 'roster' | 'gateCounts'>): number {
  let n = rosterSize(c.roster);
  for (const g in c.gateCounts) n += c.gateCounts[g]!;
  return n;
}

function info(c: ServerContext, withMembers: boolean) {
  const n = totalOf(c);
  return { layer: c.id, level: 'server', type: c.type, n, capacity: c.capacity, status: statusOf(n, c.capacity), ...(withMembers ? { members: herePublic(c.roster) } : {}) };
}

export const serverMachine = setup({
  types: {} as { context: ServerContext; events: ServerEvent; input: ServerInput; emitted: Effect },
  delays: { refresh: ({ context }) => context.refreshMs },
  guards: { occupied: ({ context }) => totalOf(context) > 0 },
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
      always: { guard: ({ context }) => totalOf(context) === 0, target: 'idle' },
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
        const cur = c.roster[e.p.id];
        if (!cur && !e.within) {
          if (totalOf(c) >= c.capacity) return enqueue.emit(refuse(LobbyCode.Full, `server ${c.id} is full (${c.capacity})`));
          if (e.p.hr < c.hr.min || e.p.hr > c.hr.max) {
            return enqueue.emit(refuse(LobbyCode.HrLimit, `server ${c.id} (${c.type}) admits HR ${c.hr.min}–${c.hr.max}; yours is ${e.p.hr}`));
          }
        }
        // Standing here: on the roster. Passing through to a gate: counted by the gate's report instead.
        let roster = c.roster;
        if (e.here) {
          roster = { ...c.roster, [e.p.id]: entryOf(e.p, true) };
          if (!cur) emitAll(enqueue, presenceEffects(c.id, roster, e.p.id, true));
        } else if (cur) {
          emitAll(enqueue, presenceEffects(c.id, c.roster, e.p.id, false));
          roster = without(c.roster, e.p.id);
        }
        if (roster !== c.roster) enqueue.assign({ roster });
        enqueue.emit(ok(info({ ...c, roster }, e.here)));
      }),
    },
    leave: {
      actions: enqueueActions(({ context: c, event: e, enqueue }) => {
        if (c.roster[e.id]) {
          emitAll(enqueue, presenceEffects(c.id, c.roster, e.id, false));
          enqueue.assign({ roster: without(c.roster, e.id) });
        }
        enqueue.emit(ok());
      }),
    },
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
