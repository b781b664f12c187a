/**
 * bench lobby's search phase: 10 000 online (the bots plus a population standing in gates), then player search
 * (`lobby.search.players`) and a one-actor request (`lobby.whoami`, the baseline) in interleaved windows, first while
 * the bots relay, then in a quiet lobby (bots settled, relays paused). How the population gets there: see the
 * bench's header (put straight into the index over the bus, or BENCH_IDLE_LOGIN logins over the gateway).
 */
import { ActorClient } from '../../actors/runtime/client.js';
import type { Bus } from '../../bus/bus.js';
import { LOBBY_DEFAULTS } from '../../lobby/config.js';
import { botCapcomId } from '../../lobby/bot.js';
import { indexShardOf, K } from '../../lobby/tree.js';
import { eventually } from '../../dev/wait.js';
import { Histogram, runInterleaved, type HistogramData, type WindowPlan } from '../harness/measure.js';
import type { Peer } from '../harness/procs.js';

interface QueryOut {
  count: number;
  errors: number;
  hist: HistogramData;
}
export interface QueryRun {
  h: Histogram;
  rate: number;
  errors: number;
}
export interface SearchResult {
  online: number;
  inIndex: number;
  relaying: Record<string, QueryRun[]>;
  quiet: Record<string, QueryRun[]>;
}

export interface SearchPhaseOptions {
  bus: Bus;
  url: string;
  shards: number;
  searchShards: number;
  /** The bots online (they relay in the first windows). */
  bots: number;
  idle: number;
  idlePeers: readonly Peer[];
  botPeers: readonly Peer[];
  plan: WindowPlan & { windowMs: number };
  log: (s: string) => void;
  load: () => string;
}

export async function searchPhase(o: SearchPhaseOptions): Promise<SearchResult> {
  const { log, load, plan } = o;
  const servers = LOBBY_DEFAULTS.servers.map((type, i) => ({ id: `s${String(i + 1).padStart(2, '0')}`, type })).filter((s) => s.type !== 'Rookie');
  const client = new ActorClient(o.bus, { shards: o.shards, askTimeoutMs: 10_000 });
  const t1 = Date.now();
  let online = o.bots;
  if (process.env.BENCH_IDLE_LOGIN) {
    const perIdle = Math.ceil(o.idle / 2);
    const idleStarts = await Promise.all(o.idlePeers.map((p, i) => p.call<{ idle: number; failed: number; retried: number; firstError: string }>('idle', { url: o.url, from: 1 + i * perIdle, count: perIdle, ramp: 75, servers, gates: 40 }, 400_000)));
    online += idleStarts.reduce((s, r) => s + r.idle, 0);
    log(`${online - o.bots} idle players logged in in ${((Date.now() - t1) / 1000).toFixed(0)} s (${idleStarts.reduce((s, r) => s + r.retried, 0)} retries, ${idleStarts.reduce((s, r) => s + r.failed, 0)} failed ${idleStarts.find((r) => r.firstError)?.firstError ?? ''}); ${load()}`);
  } else {
    for (let n = 1; n <= o.idle; n++) {
      const id = botCapcomId('I', n);
      const server = servers[n % servers.length]!.id;
      const loc = [server, `${server}-g${String(1 + (Math.floor(n / servers.length) % 40)).padStart(2, '0')}`];
      client.tell({ kind: K.playerIndex, id: indexShardOf(id, o.searchShards) }, { type: 'put', id, name: `Idle${n}`, loc, seq: 1 });
      if (n % 500 === 0) await o.bus.flush();
    }
    online += o.idle;
    log(`${o.idle} more players put in the search index in ${((Date.now() - t1) / 1000).toFixed(1)} s; ${load()}`);
  }
  const indexed = async () => {
    const counts = await Promise.all(Array.from({ length: o.searchShards }, (_, i) => client.ask<{ n: number }>({ kind: K.playerIndex, id: `p${i}` }, { type: 'count' })));
    return counts.reduce((s, c) => s + c.n, 0);
  };
  await eventually(async () => (await indexed()) >= online * 0.98, { timeoutMs: 60_000, intervalMs: 1000, what: 'the search index to hold everyone online' }).catch((err: Error) => log(err.message));
  const inIndex = await indexed();
  log(`search index holds ${inIndex} players; ${load()}`);

  const queryWindow = (route: string) => async (): Promise<QueryRun> => {
    const r = await o.idlePeers[0]!.call<QueryOut>('query', { ms: plan.windowMs, route, population: online - o.bots }, plan.windowMs + 60_000);
    return { h: Histogram.from(r.hist), rate: r.count / (plan.windowMs / 1000), errors: r.errors };
  };
  log('search windows while the bots relay…');
  const relaying = await runInterleaved(plan, { search: queryWindow('lobby.search.players'), whoami: queryWindow('lobby.whoami') });
  log(`search windows in a quiet lobby (bots settled, relays paused)…; ${load()}`);
  await Promise.all(o.botPeers.map((p) => p.call('quiet', {}, 60_000)));
  const quiet = await runInterleaved(plan, { search: queryWindow('lobby.search.players'), whoami: queryWindow('lobby.whoami') });
  return { online, inIndex, relaying, quiet };
}
