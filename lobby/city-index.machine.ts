/**
 * The city search index of one server type (`lobby-cindex/Expert`): every open city on the servers of that type,
 * with what MH3 players search by (goal, seeking text, HR range, room left). Cities feed it on every change and on
 * their refresh timer; entries not refreshed for two sweeps are dropped, so a city lost with its node cannot linger.
 * Memory-only and updated in place, like the player index (player-index.machine.ts says why).
 */
import { assign, enqueueActions, setup } from 'xstate';
import type { Effect } from '../actors/runtime/effects.js';
import { ok, type CitySettings, type CitySummary } from './model.js';

interface Entry extends CitySummary {
  gen: number;
}

export interface CityIndexInput {
  id: string;
  cityCapacity: number;
  sweepMs: number;
}

export interface CityIndexContext extends CityIndexInput {
  entries: Map<string, Entry>;
  gen: number;
  version: number;
}

export interface CityQuery {
  /** Substring of the goal, case-insensitive ('' = any). */
  goal: string;
  /** Substring of the seeking text, case-insensitive ('' = any). */
  seeking: string;
  /** Only cities admitting this Hunter Rank (0 = any). */
  hr: number;
  /** Only cities with room left. */
  joinable: boolean;
  limit: number;
}

export type CityIndexEvent = ({ type: 'put'; city: string } & CitySummary) | { type: 'del'; city: string } | ({ type: 'query' } & CityQuery);

export function matchCities(c: Pick<CityIndexContext, 'entries' | 'cityCapacity'>, q: CityQuery) {
  const goal = q.goal.toLowerCase();
  const seeking = q.seeking.toLowerCase();
  const hits: Array<{ city: string; n: number; leader?: string; settings?: CitySettings; circles: number }> = [];
  for (const [city, e] of c.entries) {
    const s = e.settings;
    if (!s) continue;
    if (goal && !s.goal.toLowerCase().includes(goal)) continue;
    if (seeking && !s.seeking.toLowerCase().includes(seeking)) continue;
    if (q.hr && (q.hr < s.hrMin || q.hr > s.hrMax)) continue;
    if (q.joinable && e.n >= c.cityCapacity) continue;
    if (hits.length === q.limit) return { hits, more: true };
    hits.push({ city, n: e.n, leader: e.leader, settings: s, circles: e.circles });
  }
  return { hits, more: false };
}

export const cityIndexMachine = setup({
  types: {} as { context: CityIndexContext; events: CityIndexEvent; input: CityIndexInput; emitted: Effect },
  delays: { sweep: ({ context }) => context.sweepMs },
}).createMachine({
  id: 'lobby-cindex',
  context: ({ input }) => ({ ...input, entries: new Map(), gen: 0, version: 0 }),
  initial: 'idle',
  states: {
    idle: { always: { guard: ({ context }) => context.entries.size > 0, target: 'live' } },
    live: {
      always: { guard: ({ context }) => context.entries.size === 0, target: 'idle' },
      after: {
        sweep: {
          target: 'live',
          reenter: true,
          actions: assign(({ context: c }) => {
            const gen = c.gen + 1;
            for (const [id, e] of c.entries) if (e.gen < gen - 2) c.entries.delete(id);
            return { gen, version: c.version + 1 };
          }),
        },
      },
    },
  },
  on: {
    put: {
      actions: assign(({ context: c, event: e }) => {
        c.entries.set(e.city, { n: e.n, state: e.state, leader: e.leader, settings: e.settings, circles: e.circles, gen: c.gen });
        return { version: c.version + 1 };
      }),
    },
    del: {
      guard: ({ context, event }) => context.entries.has(event.city),
      actions: assign(({ context: c, event: e }) => {
        c.entries.delete(e.city);
        return { version: c.version + 1 };
      }),
    },
    query: { actions: enqueueActions(({ context, event, enqueue }) => enqueue.emit(ok(matchCities(context, event)))) },
  },
});
