/**
 * One measurement of bench memory, in a fresh process started with --expose-gc: `peer.js <ours|bare> <actors>`.
 *
 *   ours  an embedded node (startNode over the in-memory bus); each actor is activated by one tell from an
 *         ActorClient and then left idle (a live cell: XState actor, mailbox, dedupe marks, indexes)
 *   bare  `createActor(machine).start()` of the same machine, sent the same event, kept in a Map by id (the least
 *         any actor system holds: a way to find the actor)
 * `measure` returns heapUsed after a full GC before and after, so the node's fixed cost is not counted per actor.
 */
import type { AnyActor } from 'xstate';
import { ActorClient } from '../../actors/runtime/client.js';
import { silentLogger } from '../../common/logger.js';
import { createEmbedded, startNode, type GatehouseNode } from '../../server/node.js';
import { servePeer } from '../harness/peer-protocol.js';
import { EVENT, KIND, PREFIX, actorId, bareActor, benchApp, nodeConfig } from '../actors/common.js';

const [variant, actorsArg] = process.argv.slice(2) as ['ours' | 'bare', string];
const N = Number(actorsArg);
const BURST = 4096;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('bench memory peers need --expose-gc');
const tick = () => new Promise((r) => setImmediate(r));

/** Full GCs until heapUsed stops shrinking: one pass can leave garbage that a finalisation frees on the next. */
async function settledHeap(): Promise<number> {
  let last = Infinity;
  for (let i = 0; i < 5; i++) {
    gc!();
    await tick();
    const h = process.memoryUsage().heapUsed;
    if (h >= last - 1024) return h;
    last = h;
  }
  return last;
}

let node: GatehouseNode | undefined;
let client: ActorClient | undefined;
const bare = new Map<string, AnyActor>();

async function activateOurs(): Promise<void> {
  const p0 = node!.host.metrics.processed;
  for (let i = 0; i < N; i += BURST) {
    for (let k = i; k < Math.min(N, i + BURST); k++) client!.tell({ kind: KIND, id: actorId(k) }, EVENT);
    // Let the host catch up before the next burst: the broker queue should not inflate the peak heap.
    while (node!.host.metrics.processed - p0 < Math.min(N, i + BURST)) await tick();
  }
}

function activateBare(): void {
  for (let i = 0; i < N; i++) {
    const a = bareActor();
    a.send(EVENT);
    bare.set(actorId(i), a);
  }
}

await servePeer({
  async setup() {
    if (variant === 'ours') {
      const embedded = createEmbedded();
      node = await startNode({ config: nodeConfig({ kind: 'memory' }), apps: [benchApp], embedded, log: silentLogger });
      client = new ActorClient(embedded.broker.connect({ prefix: PREFIX, name: 'bench-client' }), {
        shards: node.config.actors.shards,
        askTimeoutMs: 10_000,
      });
      // One tell to a throwaway actor first: lazily created per-process structures (codec buffers, the first
      // subject-cache entries, JIT) are not per-actor costs.
      client.tell({ kind: KIND, id: 'warm' }, EVENT);
      while (node.host.metrics.processed < 1) await tick();
    } else bareActor().send(EVENT);
    return { variant, actors: N };
  },
  commands: {
    async measure() {
      const before = await settledHeap();
      const t0 = performance.now();
      if (variant === 'ours') await activateOurs();
      else activateBare();
      const seconds = (performance.now() - t0) / 1000;
      const after = await settledHeap();
      const live = variant === 'ours' ? node!.host.activeCount() - 1 : bare.size;
      return { bytesPerActor: (after - before) / live, live, before, after, seconds, rss: process.memoryUsage().rss };
    },
  },
  close: () => node?.stop(),
});
