/**
 * Load generator for bench migration (a separate process): sequenced tells `inc {from, n}` to N tally actors at a
 * fixed rate, round robin, from two senders. `stop` returns how many messages each (sender, actor) pair was sent.
 */
import { ActorClient } from '../../actors/runtime/client.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import { servePeer } from '../harness/peer-protocol.js';

const [url, prefix, shardsArg] = process.argv.slice(2);
const shards = Number(shardsArg);
let clients: ActorClient[] = [];
let timer: NodeJS.Timeout | undefined;
const sent = new Map<string, number>();
let total = 0;

await servePeer({
  async setup() {
    clients = await Promise.all([0, 1].map(async () => new ActorClient(await createNatsBus({ prefix: prefix!, servers: [url!] }), { shards, askTimeoutMs: 10_000 })));
  },
  commands: {
    start(args) {
      const { actors, rate } = args as unknown as { actors: number; rate: number };
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
      return {};
    },
    progress() {
      return { total };
    },
    async stop() {
      if (timer) clearInterval(timer);
      await Promise.all(clients.map((c) => c.bus.flush()));
      return { total, sent: [...sent] };
    },
  },
  async close() {
    await Promise.all(clients.map((c) => c.bus.close()));
  },
});
