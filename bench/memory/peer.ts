/**
 * One measurement of bench memory, in a fresh process started with --expose-gc: `peer.js <ours|hibernated|bare> <actors>`.
 *
 *   ours  an embedded node (startNode over the in-memory bus); each actor is activated by one tell from an
 *         ActorClient and then left idle (a live cell: XState actor, mailbox, dedupe marks, indexes)
 *   hibernated  the same, with actors.hibernateAfterMs short: measured once every actor has hibernated (a compact
 *         image, actors/runtime/hibernate.ts); then each is sent one more tell, which wakes it (`wake` seconds and
 *         CPU seconds: restore + the turn, to compare with the activation's)
 *   bare  `createActor(machine).start()` of the same machine, sent the same event, kept in a Map by id (the least
 *         any actor system holds: a way to find the actor)
 * `measure` returns heapUsed after a full GC before and after, so the node's fixed cost is not counted per actor.
 */
import type { AnyActor } from 'xstate';
import { ActorClient } from '../../actors/runtime/client.js';
import { silentLogger } from '../../common/logger.js';
import { createEmbedded, startNode, type GatehouseNode } from '../../server/node.js';
import { cpuSeconds, sleep } from '../harness/measure.js';
import { servePeer } from '../harness/peer-protocol.js';
import { EVENT, KIND, PREFIX, actorId, bareActor, benchApp, nodeConfig } from '../actors/common.js';

const [variant, actorsArg] = process.argv.slice(2) as ['ours' | 'hibernated' | 'bare', string];
const HIBERNATE_MS = 200;
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
    if (variant !== 'bare') {
      const embedded = createEmbedded();
      const config = nodeConfig({ kind: 'memory' }, { hibernateAfterMs: variant === 'hibernated' ? HIBERNATE_MS : 0 });
      node = await startNode({ config, apps: [benchApp], embedded, log: silentLogger });
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
      const cpu0 = cpuSeconds();
      if (variant !== 'bare') await activateOurs();
      else activateBare();
      const seconds = (performance.now() - t0) / 1000;
      const cpu = cpuSeconds() - cpu0;
      // Hibernated: wait for the sweeps (every 100 ms here) to have reduced every actor, the warm-up one included.
      if (variant === 'hibernated') while (node!.host.metrics.hibernations < N + 1) await sleep(50);
      const after = await settledHeap();
      const live = variant !== 'bare' ? node!.host.activeCount() - 1 : bare.size;
      const out = { bytesPerActor: (after - before) / live, live, before, after, seconds, cpu, rss: process.memoryUsage().rss };
      if (variant !== 'hibernated') return out;
      // Hibernation off for the wake-up phase: the sweeps (every 100 ms here, over every cell) would land in its CPU
      // figure (they took more than the wake-ups themselves at 100 k actors). The limits object is the host's own.
      node!.host.limits.hibernateAfterMs = 0;
      await sleep(150); // the sweep scheduled with the short interval runs once more, then the long interval applies
      const w0 = performance.now();
      const wcpu0 = cpuSeconds();
      const wakes0 = node!.host.metrics.wakes;
      await activateOurs();
      const wake = (performance.now() - w0) / 1000;
      const wakeCpu = cpuSeconds() - wcpu0;
      return { ...out, wake, wakeCpu, woken: node!.host.metrics.wakes - wakes0 };
    },
  },
  close: () => node?.stop(),
});
