/**
 * A city gate (`s03-g12`): admits players up to its capacity (players in its cities count: MH3's "100 per gate"),
 * keeps what its cities report about themselves (the city list: counts, state, leader, settings) and reports its
 * own count to its server. Arrivals are checked for capacity and the server type's Hunter Rank range.
 *
 * `idle` / `live` as for servers: while anyone is here a refresh timer re-reports, audits and pokes the cities it
 * lists as in use (a city that emptied while its report was lost answers "empty").
 */
import { enqueueActions, setup } from 'xstate';
import type { Effect } from '../actors/runtime/effects.js';
import {
  applyStep as apply,
  auditEffects,
  emitAll,
  enterStep,
  herePublic,
  leaveStep,
  page,
  pokeEffects,
  reportEffect,
  rosterSize,
  socialEffects,
  SOCIAL_TYPES,
  type Roster,
  type SocialEvent,
} from './layer.js';
import { ok, refuse, LobbyCode, type CitySummary, type MemberInfo } from './model.js';
import { childKey, K, parentOf, statusOf, type HrRange } from './tree.js';

export interface GateInput {
  id: string;
  capacity: number;
  /** The server type's Hunter Rank range (checked again here: a rank can change after entering the server). */
  hr: HrRange;
  cities: number;
  cityCapacity: number;
  refreshMs: number;
}

export interface GateContext extends GateInput {
  roster: Roster;
  /** What each city (`c07`) last reported; absent = empty. */
  citySummaries: Record<string, CitySummary>;
}

export type GateEvent =
  | { type: 'enter'; p: MemberInfo; here: boolean }
  | { type: 'leave'; id: string }
  | ({ type: 'report'; child: string } & CitySummary)
  | { type: 'list'; offset: number; limit: number }
  | { type: 'info'; members?: boolean }
  | { type: 'poke' }
  | SocialEvent;

function info(c: GateContext, withMembers: boolean) {
  const n = rosterSize(c.roster);
  return { layer: c.id, level: 'gate', n, capacity: c.capacity, status: statusOf(n, c.capacity), ...(withMembers ? { members: herePublic(c.roster) } : {}) };
}

function sameSummary(a: CitySummary | undefined, b: CitySummary): boolean {
  if (!a) return b.n === 0 && b.state === 'empty';
  const sa = a.settings;
  const sb = b.settings;
  const sameSettings = sa === sb || (!!sa && !!sb && sa.hrMin === sb.hrMin && sa.hrMax === sb.hrMax && sa.goal === sb.goal && sa.seeking === sb.seeking);
  return a.n === b.n && a.state === b.state && a.leader === b.leader && a.circles === b.circles && sameSettings;
}

function cityList(c: GateContext) {
  return Array.from({ length: c.cities }, (_, i) => {
    const key = `c${String(i + 1).padStart(2, '0')}`;
    const s = c.citySummaries[key];
    const n = s?.n ?? 0;
    // A reserved city is not joinable: it shows as FULL until its creator opens it or the reservation expires.
    const status = s?.state === 'reserved' ? 'FULL' : statusOf(n, c.cityCapacity);
    return { id: `${c.id}-${key}`, n, capacity: c.cityCapacity, status, state: s?.state ?? 'empty', leader: s?.leader, settings: s?.settings, circles: s?.circles ?? 0 };
  });
}

export const gateMachine = setup({
  types: {} as { context: GateContext; events: GateEvent; input: GateInput; emitted: Effect },
  delays: { refresh: ({ context }) => context.refreshMs },
  guards: { occupied: ({ context }) => rosterSize(context.roster) > 0 },
  actions: {
    social: enqueueActions(({ context, event, enqueue }) => {
      if (SOCIAL_TYPES.has(event.type)) apply(enqueue, socialEffects(context.id, context.roster, event as SocialEvent));
    }),
  },
}).createMachine({
  id: 'lobby-gate',
  context: ({ input }) => ({ ...input, roster: {}, citySummaries: {} }),
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
            emitAll(enqueue, reportEffect(c.id, { n: rosterSize(c.roster) }));
            emitAll(enqueue, auditEffects(c.id, c.roster));
            emitAll(enqueue, pokeEffects(K.city, Object.keys(c.citySummaries).map((key) => `${c.id}-${key}`)));
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
            ? refuse(LobbyCode.Full, `gate ${c.id} is full (${c.capacity})`)
            : e.p.hr < c.hr.min || e.p.hr > c.hr.max
              ? refuse(LobbyCode.HrLimit, `gate ${c.id} admits HR ${c.hr.min}–${c.hr.max}; yours is ${e.p.hr}`)
              : undefined;
        apply(enqueue, enterStep(c.id, c.roster, e, refusal, (roster) => info({ ...c, roster }, e.here)));
      }),
    },
    leave: { actions: enqueueActions(({ context: c, event: e, enqueue }) => apply(enqueue, leaveStep(c.id, c.roster, e.id))) },
    report: {
      // Unchanged periodic re-reports leave the state as is: no snapshot write for them.
      guard: ({ context, event }) => parentOf(event.child)?.id === context.id && !sameSummary(context.citySummaries[childKey(event.child)], event),
      actions: enqueueActions(({ context, event, enqueue }) => {
        const key = childKey(event.child);
        const summaries = { ...context.citySummaries };
        // Empty cities are dropped, so a gate's snapshot only grows with the cities in use.
        if (event.n === 0 && event.state === 'empty') delete summaries[key];
        else summaries[key] = { n: event.n, state: event.state, leader: event.leader, settings: event.settings, circles: event.circles };
        enqueue.assign({ citySummaries: summaries });
      }),
    },
    list: {
      actions: enqueueActions(({ context: c, event: e, enqueue }) => enqueue.emit(ok({ ...info(c, false), cities: page(cityList(c), e.offset, e.limit) }))),
    },
    info: { actions: enqueueActions(({ context, event, enqueue }) => enqueue.emit(ok(info(context, event.members !== false)))) },
    poke: { actions: enqueueActions(({ context, enqueue }) => emitAll(enqueue, reportEffect(context.id, { n: rosterSize(context.roster) }))) },
    chat: { actions: 'social' },
    whisper: { actions: 'social' },
    relay: { actions: 'social' },
    profile: { actions: 'social' },
    conn: { actions: 'social' },
  },
});
