/**
 * docs/INVARIANTS.md invariants 2 and 3, with nodes in one process on a shared bus (memory, and a real nats-server): under
 * continuous sequenced load from several senders, while nodes join, drain and leave and shards are moved at random
 * moments, every message is applied exactly once and in per-sender order, and no actor is ever live on two nodes.
 *
 * The schedule of moves is drawn from a seed taken from the clock and printed; a failing run re-runs with the same
 * schedule as `GH_SEED=<seed> npx vitest run test/cluster/migration.test.ts`. GH_LONG=1 runs the long mode: moves for
 * GH_LONG_MS (default 180 000 ms) instead of a dozen rounds.
 */
import { describe, expect, it } from 'vitest';
import { ActorClient } from '../../actors/runtime/client.js';
import { BUCKETS } from '../../cluster/records.js';
import { clusterImpls as impls } from '../support/impls.js';
import { useTestCluster, clusterOf, FAST_CLUSTER } from '../support/cluster-nodes.js';
import { createEmbedded, type GatehouseNode } from '../../server/node.js';
import { counterKind, tallyKind } from '../support/test-kinds.js';
import { instanceTracker, startSeqLoad, verifyLogs } from '../../dev/load.js';
import { eventually } from '../../dev/wait.js';

const app = { name: 'test', kinds: [counterKind, tallyKind] };
const SHARDS = (FAST_CLUSTER.actors as { shards: number }).shards;
const SEED = process.env.GH_SEED ? Number(process.env.GH_SEED) : (Date.now() % 2147483646) + 1;
const LONG = process.env.GH_LONG === '1';
const LONG_MS = Number(process.env.GH_LONG_MS ?? 180_000);
const CI_ROUNDS = 12;
const MAX_NODES = 4;

/** Park–Miller: the whole schedule (which move, which shards, which node, how long between) comes from SEED. */
function prng(seed: number) {
  let s = seed % 2147483647 || 1;
  return (n: number) => {
    s = (s * 48271) % 2147483647;
    return s % n;
  };
}

console.log(`[migration] seed ${SEED}${LONG ? ` long ${LONG_MS} ms` : ''} (re-run: GH_SEED=${SEED})`);

for (const impl of impls) {
  describe(`live migration [${impl.name}]`, { timeout: LONG ? LONG_MS + 240_000 : 180_000 }, () => {
    const cluster = useTestCluster(impl);

    it(`moves shards, joins and drains nodes under continuous load: exactly once, in order, one instance at a time (seed ${SEED})`, async () => {
      const rnd = prng(SEED);
      const prefix = 'mig';
      const embedded = createEmbedded();
      const tracker = instanceTracker();
      // A window of 3 actors and 1 KiB chunks (defaults: 300, 256 KiB): hand-overs wait on acks and split an actor
      // list over several chunks, paths a move of a few dozen actors would otherwise never take.
      const overrides = { cluster: { ...FAST_CLUSTER.cluster, migration: { handoverWindowActors: 3, chunkBytes: 1024 } } };
      const live: GatehouseNode[] = [];
      let named = 0;
      const join = async () => {
        const n = await cluster.start({ prefix, id: `node-${named++}`, apps: [app], embedded, lifecycle: tracker.hook, overrides });
        live.push(n);
        return n;
      };
      const a = await join();
      await eventually(() => a.host.ownedShards().length === SHARDS * 2, { what: 'first node owns every shard', timeoutMs: 10_000 });

      const conn = async () => (impl.name === 'memory' ? embedded.broker.connect({ prefix }) : cluster.env.connect(prefix));
      const senders = await Promise.all([0, 1, 2, 3].map(async () => new ActorClient(await conn(), { shards: SHARDS, askTimeoutMs: 20_000 })));
      const targets = [
        ...Array.from({ length: 40 }, (_, i) => ({ kind: 'tally', id: `t${i}` })),
        ...Array.from({ length: 20 }, (_, i) => ({ kind: 'counter', id: `c${i}` })),
      ];
      // Unbounded per sender: the load runs until every move below has completed, and is stopped only then.
      const load = startSeqLoad(senders, targets, { perTick: 1, maxPerSender: Number.MAX_SAFE_INTEGER, askEvery: 7 });
      await eventually(() => load.total() > 200, { what: 'load running' });

      const pins = await (impl.name === 'memory' ? embedded.kv.store(prefix) : await cluster.env.store(prefix)).bucket(BUCKETS.pins);
      const leader = () => live.map((n) => clusterOf(n).status!()).find((s) => s.leader) as
        | { movesInFlight: number; balancer: { moved: number } }
        | undefined;
      const moved = () => live.reduce((m, n) => m + ((clusterOf(n).status!() as { balancer?: { moved: number } }).balancer?.moved ?? 0), 0);
      let movedBefore = 0; // moves counted by leaders since stopped (a drained leader takes its counter with it)
      const counts = { pins: 0, joins: 0, drains: 0 };
      const started = Date.now();
      const more = (round: number) => (LONG ? Date.now() - started < LONG_MS : round < CI_ROUNDS);
      for (let round = 0; more(round); round++) {
        // Round 0 is always a join (one node cannot move shards); afterwards pins, joins and drains at random.
        const r = round === 0 ? 0 : rnd(10);
        if (r < 3 && live.length < MAX_NODES) {
          const n = await join();
          counts.joins++;
          await eventually(() => n.host.ownedShards().length > 0, { what: `${n.id} took shards`, timeoutMs: 20_000 });
        } else if (r < 5 && live.length > 2) {
          const victim = live[rnd(live.length)]!;
          const c = clusterOf(victim);
          movedBefore += (c.status!() as { balancer?: { moved: number } }).balancer?.moved ?? 0;
          c.drain();
          await c.drained;
          live.splice(live.indexOf(victim), 1);
          await cluster.stop(victim);
          counts.drains++;
        } else {
          for (let k = 0; k < 6; k++) {
            const to = live[rnd(live.length)]!.id;
            await pins.put(`${rnd(2) ? 'tally' : 'counter'}.${rnd(SHARDS)}`, new TextEncoder().encode(to));
          }
          counts.pins++;
        }
        // Load pacing, not a wait for an event: the next move lands at a random moment of the previous one.
        await new Promise((r) => setTimeout(r, 50 + rnd(250)));
      }
      // Settled while the load still runs: no move in flight and every shard of both kinds owned by a live node. Not
      // "every live node holds shards": pins and rendezvous placement may leave a node none (seed 1112672301: after
      // seven pin rounds, node-3 owned 0 of 32 with nothing moving, and the test waited for a move that never comes).
      const owned = () => new Set(live.flatMap((n) => n.host.ownedShards().map((o) => `${o.kind}.${o.shard}`))).size;
      await eventually(() => leader()?.movesInFlight === 0 && owned() === 2 * SHARDS, {
        timeoutMs: 30_000,
        what: 'the cluster to settle',
      });
      await load.stop();
      console.log(`[migration ${impl.name}] seed ${SEED}: ${counts.joins} joins, ${counts.drains} drains, ${counts.pins} pin rounds, ` +
        `${movedBefore + moved()} shard moves, ${load.total()} messages`);
      expect(counts.joins).toBeGreaterThan(0);
      expect(movedBefore + moved()).toBeGreaterThan(0);

      // All targets at once, under one shared 20 s wait: waited in turn (20 s each), 60 targets whose updates were lost
      // outlast the test's timeout, and the loss shows as a timeout instead of failing the per-update check below
      // (the [nats] variant under the audit's no-buffer mutation; test/unit/migration-mutants.test.ts catches that one
      // directly, in 0.1 s).
      const problems = (await Promise.all(targets.map((t) => verifyLogs(senders[0]!, [t], load.sent, { timeoutMs: 20_000 })))).flat();
      expect(problems).toEqual([]);
      expect(tracker.violations).toEqual([]);
      for (const s of senders) await s.bus.close();
    });
  });
}
