/**
 * Load generator for bench migration (a separate process): sequenced tells `inc {from, n}` to N tally actors at a
 * fixed rate, round robin, from two senders. `stop` returns how many messages each (sender, actor) pair was sent.
 * A third client asks `get` of actors spread over all shards (`probeRate` a second) and times each answer: the
 * latency a caller sees before, during and after the move.
 */
import { ActorClient } from '../../actors/runtime/client.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import { servePeer } from '../harness/peer-protocol.js';

const [url, prefix, shardsArg] = process.argv.slice(2);
const shards = Number(shardsArg);
let clients: ActorClient[] = [];
let prober: ActorClient | undefined;
let timer: NodeJS.Timeout | undefined;
let probeTimer: NodeJS.Timeout | undefined;
/** [sent at (µs, timeOrigin-based like lifecycle events), latency ms or -1 when the ask failed, actor id]. */
const probes: Array<[number, number, string]> = [];
const pendingProbes = new Set<Promise<void>>();
const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
const sent = new Map<string, number>();
let total = 0;

await servePeer({
  async setup() {
    clients = await Promise.all([0, 1].map(async () => new ActorClient(await createNatsBus({ prefix: prefix!, servers: [url!] }), { shards, askTimeoutMs: 10_000 })));
    prober = new ActorClient(await createNatsBus({ prefix: prefix!, servers: [url!] }), { shards, askTimeoutMs: 10_000 });
  },
  commands: {
    start(args) {
      const { actors, rate, probeRate = 0 } = args as unknown as { actors: number; rate: number; probeRate?: number };
      const tickMs = 5;
      const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
      let next = 0;
      timer = setInterval(() => {
        for (let k = 0; k < perTick; k++) {
          const s = (next + k) % clients.length;
          const id = `a${(next + k) % actors}`;
          const key = `s${s}|tally/${id}`;
          const n = sent.get(key) ?? 0;
          sent.set(key, n + 1);
          clients[s]!.tell({ kind: 'tally', id }, { type: 'inc', from: `s${s}`, n });
        }
        next += perTick;
        total += perTick;
      }, tickMs);
      if (probeRate > 0) {
        const every = Math.max(1, Math.round(1000 / probeRate));
        let p = 0;
        probeTimer = setInterval(() => {
          // A stride coprime with the actor count visits every actor, spread over all shards.
          const id = `a${(p++ * 7919) % actors}`;
          const at = nowUs();
          const t0 = performance.now();
          const done = prober!.ask({ kind: 'tally', id }, { type: 'get' }, { timeoutMs: 10_000 }).then(
            () => void probes.push([at, performance.now() - t0, id]),
            () => void probes.push([at, -1, id]),
          );
          pendingProbes.add(done);
          void done.finally(() => pendingProbes.delete(done));
        }, every);
      }
      return {};
    },
    progress() {
      return { total };
    },
    async stop() {
      if (timer) clearInterval(timer);
      if (probeTimer) clearInterval(probeTimer);
      await Promise.all(clients.map((c) => c.bus.flush()));
      await Promise.all(pendingProbes);
      return { total, sent: [...sent], probes };
    },
  },
  async close() {
    await Promise.all([...clients, ...(prober ? [prober] : [])].map((c) => c.bus.close()));
  },
});
