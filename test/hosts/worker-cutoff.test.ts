/**
 * A worker host cut off from NATS under load, then healed (issue 14; docs/INVARIANTS.md invariants 2 and 4): three workers
 * and a nats-server, each on its own test host (network namespaces), durable (ledger) and in-memory (tally) asks from a
 * client host. The busiest worker's host is isolated until the others hold all its shards, then healed: every
 * acknowledged durable update is kept once and in order, the cut-off node rejoins by itself (it owns shards again)
 * and never crashed.
 *
 * "It stops serving before the majority takes over" is the lifecycle check (no actor live on two nodes at once): the
 * cut-off node closes every sharded instance at its fence, before the others may take its shards (cluster/cluster.ts).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ActorClient } from '../../actors/runtime/client.js';
import type { Bus } from '../../bus/bus.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import { createNatsStore } from '../../bus/nats/nats-store.js';
import { subjects } from '../../bus/subjects.js';
import { decodeLifecycle, type LifecycleEvent } from '../../server/lifecycle-events.js';
import { overlappingInstances } from '../../dev/chaos/checks.js';
import { startChaosLoad } from '../../dev/chaos/load.js';
import { ownersOf, readLeases } from '../../dev/cluster-watch.js';
import { createTestNet, type TestNet } from '../../dev/hosts/netns.js';
import { startNatsOnHosts, startNodeOn, type HostNatsCluster, type HostProc } from '../../dev/hosts/host-procs.js';
import { openTap, type Tap } from '../../dev/hosts/tap.js';
import { eventually } from '../../dev/wait.js';
import { checkLogs, NO_NETNS, targetsOf } from './host-setup.js';

const FLAGS = ['--set', 'node.builtinApps=demo', '--set', 'actors.shards=16', '--set', 'actors.lifecycleEvents=true', '--set', 'metrics.port=0', '--set', 'cluster.heartbeatMs=250', '--set', 'cluster.deadAfterMs=2000', '--set', 'cluster.rebalanceIntervalMs=200', '--log-level', 'warn'];

describe.skipIf(NO_NETNS)('a worker host cut off from NATS under load, then healed [test hosts]', () => {
  let net: TestNet | undefined;
  let nats: HostNatsCluster | undefined;
  let tap: Tap | undefined;
  const procs: HostProc[] = [];
  const buses: Bus[] = [];
  afterAll(async () => {
    net?.heal();
    for (const b of buses) await b.close().catch(() => undefined);
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    await tap?.close();
    await nats?.stop();
    net?.teardown();
  });

  it('stops serving, the others take over, nothing acknowledged is lost, and it rejoins by itself after the heal', { timeout: 120_000 }, async () => {
    net = createTestNet(['n1', 'w1', 'w2', 'w3', 'cl']);
    nats = await startNatsOnHosts([{ host: net.host('n1'), port: 4222, routePort: 6222 }]);
    tap = await openTap(net.host('cl'), `${net.host('n1').addr}:4222`);
    const prefix = 'cut';
    for (const w of ['w1', 'w2', 'w3']) procs.push(await startNodeOn(net.host(w), ['node', '--nats', nats.url(0), '--prefix', prefix, '--node-id', w, '--roles', 'worker', ...FLAGS]));
    const connect = async () => {
      const b = await createNatsBus({ prefix, servers: [tap!.url] });
      buses.push(b);
      return b;
    };
    const observer = await connect();
    const store = createNatsStore({ connection: observer.connection, prefix });
    const events: LifecycleEvent[] = [];
    observer.subscribe(subjects.sys('lifecycle'), (m) => void events.push(...decodeLifecycle(m.data)));
    const senders = await Promise.all([0, 1].map(async () => new ActorClient(await connect(), { shards: 16, askTimeoutMs: 3000 })));
    const targets = targetsOf(60, 40);
    await eventually(async () => (await Promise.all(targets.map((t) => senders[0]!.ask(t, { type: 'get' })))).length, { timeoutMs: 30_000, intervalMs: 250, what: 'every actor to answer' });
    const load = startChaosLoad(senders, targets, { ratePerSec: 150, askTimeoutMs: 3000, currentFault: () => 'cut' });
    const acked = (n: number, what: string) => eventually(() => load.stats.acknowledged >= n, { timeoutMs: 30_000, intervalMs: 50, what });

    await acked(300, '300 acknowledged before the cut');
    const owners = ownersOf(await readLeases(store));
    const victim = [...owners].sort((a, b) => b[1] - a[1])[0]![0];
    const victimProc = procs[['w1', 'w2', 'w3'].indexOf(victim)]!;
    net.isolate(victim);
    await eventually(async () => !ownersOf(await readLeases(store)).has(victim), { timeoutMs: 30_000, intervalMs: 200, what: `the others to take every shard of ${victim}` });
    await acked(load.stats.acknowledged + 300, '300 more acknowledged while cut off');
    net.heal();
    await eventually(async () => (ownersOf(await readLeases(store)).get(victim) ?? 0) > 0, { timeoutMs: 60_000, intervalMs: 200, what: `${victim} to own shards again after the heal` });
    await acked(load.stats.acknowledged + 300, '300 more acknowledged after the heal');
    await load.stop();

    const { durable, memory } = await checkLogs(senders[0]!, targets, load.stats);
    await observer.flush();
    const overlaps = overlappingInstances(events, []);
    process.stderr.write(`[worker-cutoff] victim ${victim}; acknowledged ${load.stats.acknowledged} of ${load.stats.sent}; failed ${JSON.stringify(Object.fromEntries(load.stats.failedByCode))}; durable ${JSON.stringify({ ...durable, samples: durable.samples.slice(0, 3) })}; in-memory dup ${memory.duplicated} order ${memory.outOfOrder}; overlapping instances ${overlaps.length} (${overlaps.filter((o) => o.live === victim).length} still live on ${victim})\n`);
    expect(victimProc.gone, `${victim} crashed`).toBe(false);
    expect(durable.lost).toBe(0);
    expect(durable.duplicated).toBe(0);
    expect(durable.outOfOrder).toBe(0);
    expect(durable.notOwnerApplied).toBe(0);
    expect(memory.duplicated).toBe(0);
    expect(memory.outOfOrder).toBe(0);
    expect(overlaps.slice(0, 5)).toEqual([]);
  });
});
