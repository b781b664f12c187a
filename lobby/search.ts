/**
 * Search across the whole lobby, from a route. Players: the query goes to every index shard at once and the answers
 * are merged (one round trip, however many nodes hold the shards); a shard that does not answer in time makes the
 * result `partial` instead of failing it. Cities: one index per server type, asked directly.
 */
import { askActor } from '../node-api/ask-actor.js';
import type { RouteContext } from '../node-api/gateway-app.js';
import type { PlayerHit } from './model.js';
import { indexShardOf, K, type ServerType } from './tree.js';

const SEARCH_TIMEOUT_MS = 2000;

export async function searchPlayers(ctx: Pick<RouteContext, 'actors' | 'log'>, shards: number, q: string, limit: number) {
  const answers = await Promise.allSettled(
    Array.from({ length: shards }, (_, i) =>
      askActor<{ hits: PlayerHit[]; more: boolean }>(ctx, { kind: K.playerIndex, id: `p${i}` }, { type: 'query', q, limit }, SEARCH_TIMEOUT_MS),
    ),
  );
  const hits: PlayerHit[] = [];
  let more = false;
  let partial = false;
  for (const a of answers) {
    if (a.status === 'rejected') {
      partial = true;
      ctx.log.warn({ err: a.reason }, 'lobby: a player-index shard did not answer');
      continue;
    }
    hits.push(...a.value.hits);
    more ||= a.value.more;
  }
  hits.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { hits: hits.slice(0, limit), more: more || hits.length > limit, partial };
}

/** Online state and location of some players (a friend list), asking only the shards that hold them. */
export async function lookupPlayers(ctx: Pick<RouteContext, 'actors' | 'log'>, shards: number, ids: string[]): Promise<Map<string, PlayerHit>> {
  const byShard = new Map<string, string[]>();
  for (const id of ids) {
    const s = indexShardOf(id, shards);
    byShard.set(s, [...(byShard.get(s) ?? []), id]);
  }
  const out = new Map<string, PlayerHit>();
  await Promise.all(
    [...byShard].map(async ([shard, list]) => {
      try {
        const r = await askActor<{ hits: PlayerHit[] }>(ctx, { kind: K.playerIndex, id: shard }, { type: 'lookup', ids: list }, SEARCH_TIMEOUT_MS);
        for (const h of r.hits) out.set(h.id, h);
      } catch (err) {
        ctx.log.warn({ err, shard }, 'lobby: a player-index shard did not answer a lookup');
      }
    }),
  );
  return out;
}

export function searchCities(ctx: Pick<RouteContext, 'actors'>, type: ServerType, q: { goal: string; seeking: string; hr: number; joinable: boolean; limit: number }) {
  return askActor(ctx, { kind: K.cityIndex, id: type }, { type: 'query', ...q }, SEARCH_TIMEOUT_MS);
}
