/**
 * One side of bench embedded, in its own process: `peer.js <ours|bare> <actors>`.
 *
 *   ours  an embedded node (startNode over the in-memory bus) and an ActorClient on its own broker connection, as
 *         an embedded gateway would hold one: tell → envelope encode → MemoryBroker → ActorHost → cell → XState
 *   bare  the same number of bare XState actors of the same machine, `actor.send(event)` in a loop
 * Both send in bursts and yield to the event loop between bursts (the broker delivers in setImmediate batches; the
 * bare loop yields as often, so neither starves timers). `prepare` activates every actor before any window.
 */
import { ActorClient } from '../../actors/runtime/client.js';
import { silentLogger } from '../../common/logger.js';
import { createEmbedded, startNode, type GatehouseNode } from '../../server/node.js';
import { cpuSeconds } from '../harness/measure.js';
import { servePeer } from '../harness/peer-protocol.js';
import { EVENT, KIND, PREFIX, actorId, bareActor, benchApp, nodeConfig } from '../actors/common.js';

const [variant, actorsArg] = process.argv.slice(2) as ['ours' | 'bare', string];
const N = Number(actorsArg);
const BURST = 1024;
/** Tells queued but not yet processed, at most: two broker batches, so the host never waits on the sender. */
const CREDIT = 8192;
const tick = () => new Promise((r) => setImmediate(r));

let node: GatehouseNode | undefined;
let client: ActorClient | undefined;
const bare: Array<ReturnType<typeof bareActor>> = [];
const addrs = Array.from({ length: N }, (_, i) => ({ kind: KIND, id: actorId(i) }));

async function setupOurs(): Promise<void> {
  const embedded = createEmbedded();
  node = await startNode({ config: nodeConfig({ kind: 'memory' }), apps: [benchApp], embedded, log: silentLogger });
  const bus = embedded.broker.connect({ prefix: PREFIX, name: 'bench-client' });
  client = new ActorClient(bus, { shards: node.config.actors.shards, askTimeoutMs: 10_000 });
}

const processed = () => node!.host.metrics.processed;

/** Sends for `ms` (or until `total` sends); returns events processed, seconds and CPU seconds. */
async function run(ms: number, total = Infinity) {
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  const end = t0 + ms;
  let i = 0;
  let count = 0;
  if (variant === 'bare') {
    while (performance.now() < end && i < total) {
      const n = Math.min(BURST, total - i);
      for (let k = 0; k < n; k++, i++) bare[i % N]!.send(EVENT);
      await tick();
    }
    count = i;
  } else {
    const c = client!;
    const p0 = processed();
    const base = p0;
    while (performance.now() < end && processed() - p0 < total) {
      if (i - (processed() - base) < CREDIT && i < total) {
        const n = Math.min(BURST, total - i);
        for (let k = 0; k < n; k++, i++) c.tell(addrs[i % N]!, EVENT);
      }
      await tick();
    }
    count = processed() - p0;
  }
  return { count, seconds: (performance.now() - t0) / 1000, cpu: cpuSeconds() - cpu0 };
}

await servePeer({
  async setup() {
    if (variant === 'ours') await setupOurs();
    return { variant, actors: N };
  },
  commands: {
    /** Activates every actor with one event, so windows measure steady-state sends, not activation. */
    async prepare() {
      const t0 = performance.now();
      if (variant === 'bare') for (let i = 0; i < N; i++) bare.push(bareActor());
      await run(600_000, N);
      const live = variant === 'bare' ? bare.length : node!.host.activeCount();
      return { live, seconds: (performance.now() - t0) / 1000 };
    },
    window: (a) => run(Number(a.ms)),
  },
  close: () => node?.stop(),
});
