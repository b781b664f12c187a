/**
 * One shard of the player search index (`lobby-pindex/p0`…`p<N-1>`): the online players whose Capcom ID hashes to
 * it, with their hunter name and location. Player records feed it on login, every move and logout; the layer a
 * player stands in re-feeds it on each audit (every refresh period), so an index shard lost with its node is whole
 * again one period later, and entries nobody refreshed for two sweeps are dropped (a lost `del`).
 *
 * A query goes to every shard in parallel (lobby/search.ts) and each scans its share: with N shards spread over the
 * nodes, a query costs one round trip plus a scan of online/N entries. The entries live in a Map updated in place:
 * this actor is memory-only (`persistence: 'none'`), and copying a thousand-entry object per update would cost more
 * than the scan. `version` changes with every update so the runtime still sees a new state.
 */
import { assign, enqueueActions, setup } from 'xstate';
import type { Effect } from '../actors/runtime/effects.js';
import { ok, type PlayerHit } from './model.js';

interface Entry {
  name: string;
  /** Equipment shown in search results (lobby/equipment.ts). */
  weapon?: string;
  /** Lower-cased name, computed once per update instead of once per query. */
  lname: string;
  loc: string[];
  seq: number;
  gen: number;
}

export interface PlayerIndexInput {
  id: string;
  sweepMs: number;
}

export interface PlayerIndexContext extends PlayerIndexInput {
  entries: Map<string, Entry>;
  /** Sequence of the last `del` per player, so a late `put` from before the logout cannot resurrect it. */
  gone: Map<string, { seq: number; gen: number }>;
  gen: number;
  version: number;
}

export type PlayerIndexEvent =
  | { type: 'put'; id: string; name: string; loc: string[]; seq: number; weapon?: string }
  | { type: 'del'; id: string; seq: number }
  | { type: 'query'; q: string; limit: number }
  | { type: 'lookup'; ids: string[] }
  | { type: 'count' };

const hit = (id: string, e: Entry): PlayerHit => ({ id, name: e.name, loc: e.loc, ...(e.weapon && { weapon: e.weapon }) });

/** Players whose Capcom ID contains `q` (upper-cased) or whose name contains it (case-insensitive). */
export function matchPlayers(entries: Map<string, Entry>, q: string, limit: number): { hits: PlayerHit[]; more: boolean } {
  const upper = q.toUpperCase();
  const lower = q.toLowerCase();
  const hits: PlayerHit[] = [];
  for (const [id, e] of entries) {
    if (!id.includes(upper) && !e.lname.includes(lower)) continue;
    if (hits.length === limit) return { hits, more: true };
    hits.push(hit(id, e));
  }
  return { hits, more: false };
}

export const playerIndexMachine = setup({
  types: {} as { context: PlayerIndexContext; events: PlayerIndexEvent; input: PlayerIndexInput; emitted: Effect },
  delays: { sweep: ({ context }) => context.sweepMs },
}).createMachine({
  id: 'lobby-pindex',
  context: ({ input }) => ({ ...input, entries: new Map(), gone: new Map(), gen: 0, version: 0 }),
  initial: 'idle',
  states: {
    idle: { always: { guard: ({ context }) => context.entries.size + context.gone.size > 0, target: 'live' } },
    live: {
      always: { guard: ({ context }) => context.entries.size + context.gone.size === 0, target: 'idle' },
      after: {
        sweep: {
          target: 'live',
          reenter: true,
          actions: assign(({ context: c }) => {
            const gen = c.gen + 1;
            for (const [id, e] of c.entries) if (e.gen < gen - 2) c.entries.delete(id);
            for (const [id, g] of c.gone) if (g.gen < gen - 2) c.gone.delete(id);
            return { gen, version: c.version + 1 };
          }),
        },
      },
    },
  },
  on: {
    put: {
      guard: ({ context: c, event: e }) => (c.entries.get(e.id)?.seq ?? -1) <= e.seq && (c.gone.get(e.id)?.seq ?? -1) < e.seq,
      actions: assign(({ context: c, event: e }) => {
        c.entries.set(e.id, { name: e.name, lname: e.name.toLowerCase(), loc: e.loc, seq: e.seq, gen: c.gen, ...(e.weapon && { weapon: e.weapon }) });
        c.gone.delete(e.id);
        return { version: c.version + 1 };
      }),
    },
    del: {
      guard: ({ context: c, event: e }) => (c.entries.get(e.id)?.seq ?? -1) <= e.seq,
      actions: assign(({ context: c, event: e }) => {
        c.entries.delete(e.id);
        c.gone.set(e.id, { seq: e.seq, gen: c.gen });
        return { version: c.version + 1 };
      }),
    },
    query: { actions: enqueueActions(({ context, event, enqueue }) => enqueue.emit(ok(matchPlayers(context.entries, event.q, event.limit)))) },
    lookup: {
      actions: enqueueActions(({ context, event, enqueue }) => {
        const hits: PlayerHit[] = [];
        for (const id of event.ids) {
          const e = context.entries.get(id);
          if (e) hits.push(hit(id, e));
        }
        enqueue.emit(ok({ hits }));
      }),
    },
    count: { actions: enqueueActions(({ context, enqueue }) => enqueue.emit(ok({ n: context.entries.size }))) },
  },
});
