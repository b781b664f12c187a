/**
 * A drain ends only when the new owners hold every lease, and the drained node stopping at once (as the CLI does)
 * loses nothing. Regression: a node counted its leases while skipping the shards it was handing over, so it declared
 * itself drained as soon as it had *sent* everything; it stopped, its balancer reverted the moves still landing, and
 * the new owner dropped shards it had just adopted (in-memory state gone; bench migration lost ~400 messages in 3 runs
 * of 12). The race needs a lease change to land in the instant after the last shard is sent, which this test does not
 * force; it checks the contract (drained = no lease names the node) and that an immediate stop loses nothing.
 */
import { describe, expect, it } from 'vitest';
import { ActorClient } from '../../actors/runtime/client.js';
import { createEmbedded } from '../../server/node.js';
import { impls } from '../support/impls.js';
import { useTestCluster, clusterOf, FAST_CLUSTER } from '../support/cluster-nodes.js';
import { tallyKind } from '../support/test-kinds.js';
import { readLeases } from '../support/cluster-watch.js';
import { eventually } from '../support/wait.js';

const app = { name: 'test', kinds: [tallyKind] };
const SHARDS = (FAST_CLUSTER.actors as { shards: number }).shards;
const ACTORS = 1000;

for (const impl of impls) {
  describe(`drain [${impl.name}]`, { timeout: 60_000 }, () => {
    const cluster = useTestCluster(impl);

    it('completes only when no lease names the node; stopping right then loses no in-memory state', async () => {
      const prefix = 'drn';
      const embedded = createEmbedded();
      const start = (id: string) => cluster.start({ prefix, id, apps: [app], embedded });
      const a = await start('node-a');
      await eventually(() => a.host.ownedShards().length === SHARDS, { what: 'node-a owns every shard', timeoutMs: 10_000 });
      const bus = impl.name === 'memory' ? embedded.broker.connect({ prefix }) : await cluster.env.connect(prefix);
      const store = impl.name === 'memory' ? embedded.kv.store(prefix) : await cluster.env.store(prefix);
      const client = new ActorClient(bus, { shards: SHARDS, askTimeoutMs: 10_000 });
      const ids = Array.from({ length: ACTORS }, (_, i) => `t${i}`);
      await Promise.all(ids.map((id) => client.ask({ kind: 'tally', id }, { type: 'inc', by: 3 })));

      const b = await start('node-b');
      const drainedAt: Array<{ o: string; st: string }[]> = [];
      const component = clusterOf(a);
      const stopped = component.drained.then(async () => {
        drainedAt.push([...(await readLeases(store)).values()].map((l) => ({ o: l.o, st: l.st })));
        await cluster.stop(a);
      });
      component.drain();
      await stopped;

      expect(drainedAt[0]!.length).toBe(SHARDS);
      expect(drainedAt[0]!.filter((l) => l.o === 'node-a')).toEqual([]);
      await eventually(() => b.host.ownedShards().length === SHARDS, { what: 'node-b owns every shard', timeoutMs: 10_000 });
      const counts = await Promise.all(ids.map((id) => client.ask<{ count: number }>({ kind: 'tally', id }, { type: 'get' })));
      expect(counts.filter((c) => c.count !== 3).length).toBe(0);
      if (impl.name === 'nats') await bus.close();
    });
  });
}
