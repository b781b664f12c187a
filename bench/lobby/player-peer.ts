/**
 * bench lobby peer: a process holding lobby players on real client connections to one gateway.
 *   bots   {url, from, count, ramp, relayHz, wanderMs, chatMs}  starts LobbyBots (lobby/bot.ts)
 *   idle   {url, from, count, ramp, servers, gates}            logs in players who enter a gate and stay (a population)
 *   status                                                      how many are logged in / in cities
 *   window {ms}                                                 relay latency histogram and counts over `ms`
 *   searchers {url, clients, first}                             logs in the clients `query` uses (once, before the crowd)
 *   relays {on}                                                 pauses or resumes every bot's position relays
 *   quiet                                                       every bot settles where it is and stops relaying
 *   query  {ms, route, population}                              `route` (search or whoami) back to back, 1 in flight each
 *   stop                                                        logs everyone out, closes connections
 */
import { connect, type GatehouseClient } from '../../client/node.js';
import { LobbyBot, botCapcomId } from '../../lobby/bot.js';
import { Histogram, sleep } from '../harness/measure.js';
import { servePeer } from '../harness/peer-protocol.js';

const bots: LobbyBot[] = [];
const clients: GatehouseClient[] = [];
/** Logged-in clients that run search/whoami queries (see `searchers`). */
let searchers: GatehouseClient[] = [];
let hist = new Histogram();
let failed = 0;
let firstError = '';

function open(url: string): Promise<GatehouseClient> {
  return connect({ url, requestTimeoutMs: 30_000, connectTimeoutMs: 30_000, reconnect: false }).then((c) => {
    clients.push(c);
    return c;
  });
}

let retried = 0;
/**
 * A login that timed out under load may still have gone through: its connection is closed (ending that session and
 * freeing the Capcom ID) and the login tried again on a new one, a few times, before it counts as failed.
 */
async function withRetries<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 4) throw err;
      retried++;
      firstError ||= (err as Error).message;
      await sleep(1000 + attempt * 1000);
    }
  }
}

/** Runs `fn(i)` for `count` items, starting `ramp` per second, at most 16 at once. */
async function ramped(count: number, ramp: number, fn: (i: number) => Promise<void>, deadline = Infinity): Promise<void> {
  const running = new Set<Promise<void>>();
  let done = 0;
  const t0 = performance.now();
  const progress = setInterval(() => {
    process.stderr.write(`[${process.env.GH_PEER_NAME}] ${done}/${count} in ${((performance.now() - t0) / 1000).toFixed(0)} s, ${running.size} in flight, ${retried} retries, ${failed} failed ${firstError}\n`);
  }, 10_000);
  for (let i = 0; i < count && performance.now() < deadline; i++) {
    const p = fn(i).then(
      () => void done++,
      (err: unknown) => {
        failed++;
        firstError ||= (err as Error).message;
      },
    );
    running.add(p);
    void p.finally(() => running.delete(p));
    // A few logins at a time: more only queue behind durable writes and, past the gateway's route timeout, turn
    // into retries that add load (a login storm).
    if (running.size >= 16) await Promise.race(running);
    await sleep(1000 / ramp);
  }
  await Promise.all(running);
  clearInterval(progress);
}

await servePeer({
  commands: {
    async bots(a) {
      const o = a as unknown as { url: string; from: number; count: number; ramp: number; relayHz: number; wanderMs: number; chatMs: number; budgetMs: number };
      // Starting stops when the budget is spent: on a loaded machine the table then says how many bots there were.
      const deadline = performance.now() + (o.budgetMs ?? Infinity);
      await ramped(o.count, o.ramp, async (i) => {
        const bot = await withRetries(async () => {
          const c = await open(o.url);
          const b = new LobbyBot(c, {
            index: o.from + i,
            idPrefix: 'B',
            relayHz: o.relayHz,
            wanderMs: o.wanderMs,
            chatMs: o.chatMs,
            gates: 40,
            onLatency: (ms) => hist.record(ms * 1000),
          });
          // Bots join quiet (no relays) so a crowd's logins do not queue behind the relays of those already in;
          // `relays {on: true}` starts everyone at once.
          b.relaying = false;
          try {
            await b.start();
            return b;
          } catch (err) {
            await b.stop().catch(() => undefined);
            await c.close();
            throw err;
          }
        });
        bots.push(bot);
      }, deadline);
      return { started: bots.length, failed, retried, firstError };
    },
    async idle(a) {
      const o = a as unknown as { url: string; from: number; count: number; ramp: number; servers: Array<{ id: string; type: string }>; gates: number };
      let done = 0;
      await ramped(o.count, o.ramp, async (i) => {
        const n = o.from + i;
        const hr = 31 + (n % 200);
        const fits = o.servers.filter((s) => s.type !== 'Rookie');
        const server = fits[n % fits.length]!.id;
        await withRetries(async () => {
          const c = await open(o.url);
          try {
            await c.request('lobby.login', { capcomId: botCapcomId('I', n), name: `Idle${n}`, hr });
            await c.request('lobby.enter', { layer: `${server}-g${String(1 + (Math.floor(n / fits.length) % o.gates)).padStart(2, '0')}` });
          } catch (err) {
            await c.close();
            throw err;
          }
        });
        done++;
      });
      return { idle: done, failed, retried, firstError };
    },
    status() {
      return {
        loggedIn: bots.filter((b) => b.stats.loggedIn).length,
        inCities: bots.filter((b) => b.stats.loc.length === 3).length,
        errors: bots.reduce<Record<string, number>>((acc, b) => {
          for (const [k, v] of Object.entries(b.stats.errors)) acc[k] = (acc[k] ?? 0) + v;
          return acc;
        }, {}),
      };
    },
    async window(a) {
      const ms = Number(a.ms);
      const sent0 = bots.reduce((n, b) => n + b.stats.relaysSent, 0);
      const recv0 = bots.reduce((n, b) => n + b.stats.relaysReceived, 0);
      hist = new Histogram();
      const t0 = performance.now();
      await sleep(ms);
      const seconds = (performance.now() - t0) / 1000;
      const h = hist;
      hist = new Histogram();
      return {
        seconds,
        sent: bots.reduce((n, b) => n + b.stats.relaysSent, 0) - sent0,
        received: bots.reduce((n, b) => n + b.stats.relaysReceived, 0) - recv0,
        hist: h.toJSON(),
        inCities: bots.filter((b) => b.stats.loc.length === 3).length,
      };
    },
    async searchers(a) {
      const o = a as unknown as { url: string; clients: number; first: number };
      searchers = await Promise.all(
        // Retried like the bots' logins: on a host at load average 25 one session's first store read timed out and
        // failed the whole run before any bot started.
        Array.from({ length: o.clients }, (_, i) =>
          withRetries(async () => {
            const c = await open(o.url);
            try {
              await c.request('lobby.login', { capcomId: botCapcomId('Q', o.first + i), name: `Searcher${i}`, hr: 50 });
            } catch (err) {
              await c.close();
              throw err;
            }
            return c;
          }),
        ),
      );
      return { searchers: searchers.length };
    },
    relays(a) {
      for (const b of bots) b.relaying = a.on === true;
      return { bots: bots.length, relaying: a.on === true };
    },
    /** Every bot stays where it is and stops relaying: a lobby of players online and standing still. */
    async quiet() {
      for (const b of bots) b.relaying = false;
      await Promise.all(bots.map((b) => b.settle()));
      return { bots: bots.length };
    },
    async query(a) {
      const o = a as unknown as { ms: number; route: 'lobby.search.players' | 'lobby.whoami'; population: number };
      const qs = searchers;
      if (qs.length === 0) throw new Error('query before searchers: no clients logged in to search with');
      const h = new Histogram();
      let count = 0;
      let errors = 0;
      const until = performance.now() + o.ms;
      await Promise.all(
        qs.map(async (c) => {
          while (performance.now() < until) {
            // A random piece of a hunter name or Capcom ID of the idle population: a few to a few hundred matches.
            const n = Math.floor(Math.random() * o.population);
            const body = o.route === 'lobby.whoami' ? null : { q: Math.random() < 0.5 ? `idle${n}`.slice(0, 4 + (n % 4)) : botCapcomId('I', n).slice(1, 5), limit: 20 };
            const t = performance.now();
            try {
              await c.request(o.route, body);
              h.record((performance.now() - t) * 1000);
              count++;
            } catch {
              errors++;
            }
            // Stay under the gateway's per-connection rate limit (50/s).
            await sleep(25);
          }
        }),
      );
      return { count, errors, hist: h.toJSON() };
    },
    async stop() {
      await Promise.all(bots.map((b) => b.stop().catch(() => undefined)));
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      return {};
    },
  },
  async close() {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  },
});
