/**
 * docs/DESIGN.md invariants 2 and 3, with nodes in one process on a shared bus (memory, and a real nats-server): under
 * continuous sequenced load from several senders, while nodes join and shards are moved back and forth at random
 * moments, every message is applied exactly once and in per-sender order, and no actor is ever live on two nodes.
 */
import { describe, expect, it } from 'vitest';
import { ActorClient } from '../../actors/runtime/client.js';
import { BUCKETS } from '../../cluster/records.js';
import { impls } from '../support/impls.js';
import { useTestCluster, clusterOf, FAST_CLUSTER } from '../support/cluster-nodes.js';
import { createEmbedded } from '../../server/node.js';
import { counterKind, tallyKind } from '../support/test-kinds.js';
import { instanceTracker, startSeqLoad, verifyLogs } from '../../dev/load.js';
import { eventually } from '../../dev/wait.js';

const app = { name: 'test', kinds: [counterKind, tallyKind] };
const SHARDS = (FAST_CLUSTER.actors as { shards: number }).shards;

for (const impl of impls) {
  describe(`live migration [${impl.name}]`, { timeout: 120_000 }, () => {
    const cluster = useTestCluster(impl);

    it('moves shards under load: exactly once, in order, one instance at a time', async () => {
      const prefix = 'mig';
      const embedded = createEmbedded();
      const tracker = instanceTracker();
      // A window of 3 actors and 1 KiB chunks (defaults: 300, 256 KiB): hand-overs wait on acks and split an actor
      // list over several chunks, paths a move of a few dozen actors would otherwise never take.
      const overrides = { cluster: { ...FAST_CLUSTER.cluster, migration: { handoverWindowActors: 3, chunkBytes: 1024 } } };
      const start = (id: string) => cluster.start({ prefix, id, apps: [app], embedded, lifecycle: tracker.hook, overrides });
      const a = await start('node-a');
      await eventually(() => a.host.ownedShards().length === SHARDS * 2, { what: 'first node owns every shard', timeoutMs: 10_000 });

      const conn = async () => (impl.name === 'memory' ? embedded.broker.connect({ prefix }) : cluster.env.connect(prefix));
      const senders = await Promise.all([0, 1, 2, 3].map(async () => new ActorClient(await conn(), { shards: SHARDS, askTimeoutMs: 20_000 })));
      const targets = [
        ...Array.from({ length: 40 }, (_, i) => ({ kind: 'tally', id: `t${i}` })),
        ...Array.from({ length: 20 }, (_, i) => ({ kind: 'counter', id: `c${i}` })),
      ];
      const load = startSeqLoad(senders, targets, { perTick: 5, maxPerSender: 2500, askEvery: 7 });

      const b = await start('node-b');
      await eventually(() => b.host.ownedShards().length > 0, { what: 'second node took shards', timeoutMs: 10_000 });
      const pins = await (impl.name === 'memory' ? embedded.kv.store(prefix) : await cluster.env.store(prefix)).bucket(BUCKETS.pins);
      // Random moves back and forth while the load runs.
      let rnd = 7;
      for (let round = 0; round < 6 && load.total() < senders.length * 2500; round++) {
        rnd = (rnd * 48271) % 2147483647;
        const to = round % 2 === 0 ? 'node-a' : 'node-b';
        for (let k = 0; k < 6; k++) {
          const kind = (rnd + k) % 2 ? 'tally' : 'counter';
          await pins.put(`${kind}.${(rnd + k * 5) % SHARDS}`, new TextEncoder().encode(to));
        }
        await new Promise((r) => setTimeout(r, 150)); // let the load run between rounds (load pacing, not a wait)
      }
      const c = await start('node-c');
      await load.stop();

      const leaderStatus = () => [a, b, c].map((n) => clusterOf(n).status!()).find((s) => s.leader) as
        | { movesInFlight: number; balancer: { moved: number } }
        | undefined;
      // Settled: every node holds shards and no move is in flight.
      await eventually(() => leaderStatus()?.movesInFlight === 0 && [a, b, c].every((n) => n.host.ownedShards().length > 0), {
        timeoutMs: 20_000,
        what: 'the cluster to settle over three nodes',
      });
      expect(leaderStatus()!.balancer.moved).toBeGreaterThan(0);

      const problems = await verifyLogs(senders[0]!, targets, load.sent, { timeoutMs: 20_000 });
      expect(problems).toEqual([]);
      expect(tracker.violations).toEqual([]);
      for (const s of senders) await s.bus.close();
    });
  });
}
