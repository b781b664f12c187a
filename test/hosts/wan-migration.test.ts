/**
 * A live migration with 20 ms between hosts (issue 14; docs/INVARIANTS.md invariant 3): a nats-server, two workers and a
 * client, each on its own test host; every host other than the server's reaches it through a delaying relay on its
 * own host (dev/hosts/relay.ts: 10 ms each way, 20 ms per round trip; this kernel has no netem). Under sequenced
 * tells to durable and in-memory actors, a second worker joins (half the shards move live), then the first drains
 * (the rest move): every message sent is applied exactly once and in per-sender order, and no actor is ever live on
 * two nodes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ActorClient } from '../../actors/runtime/client.js';
import type { Bus } from '../../bus/bus.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import { createNatsStore } from '../../bus/nats/nats-store.js';
import { callNode } from '../../cluster/control.js';
import { ownersOf, watchLeases, watchLifecycle } from '../../dev/cluster-watch.js';
import { createTestNet, type TestNet } from '../../dev/hosts/netns.js';
import { startNatsOnHosts, startNodeOn, startRelayOn, type HostNatsCluster, type HostProc } from '../../dev/hosts/host-procs.js';
import { openTap, type Tap } from '../../dev/hosts/tap.js';
import { startSeqLoad, verifyLogs } from '../../dev/load.js';
import { eventually } from '../../dev/wait.js';
import { NO_NETNS, targetsOf } from './host-setup.js';

const SHARDS = 16;
const FLAGS = ['--set', 'node.builtinApps=demo', '--set', `actors.shards=${SHARDS}`, '--set', 'actors.lifecycleEvents=true', '--set', 'metrics.port=0', '--set', 'cluster.heartbeatMs=250', '--set', 'cluster.deadAfterMs=3000', '--set', 'cluster.rebalanceIntervalMs=200', '--log-level', 'warn'];
const DELAY_MS = 10;

describe.skipIf(NO_NETNS)('live migration with 20 ms between hosts [test hosts, delaying relays]', () => {
  let net: TestNet | undefined;
  let nats: HostNatsCluster | undefined;
  let tap: Tap | undefined;
  const procs: HostProc[] = [];
  const buses: Bus[] = [];
  afterAll(async () => {
    for (const b of buses) await b.close().catch(() => undefined);
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    await tap?.close();
    await nats?.stop();
    net?.teardown();
  });

  it('a join and a drain under load: 0 lost, 0 duplicated, per-sender order, one instance', { timeout: 120_000 }, async () => {
    net = createTestNet(['n1', 'w1', 'w2', 'cl']);
    nats = await startNatsOnHosts([{ host: net.host('n1'), port: 4222, routePort: 6222 }]);
    const server = `${net.host('n1').addr}:4222`;
    // Each host's own relay to the server: what it sends and receives is 10 ms late each way.
    const via: Record<string, string> = {};
    for (const h of ['w1', 'w2', 'cl']) {
      const addr = `${net.host(h).addr}:14222`;
      procs.push(await startRelayOn(net.host(h), addr, server, DELAY_MS));
      via[h] = `nats://${addr}`;
    }
    tap = await openTap(net.host('cl'), via.cl!.replace('nats://', ''));
    const prefix = 'wan';
    const node = (w: string) => startNodeOn(net!.host(w), ['node', '--nats', via[w]!, '--prefix', prefix, '--node-id', w, '--roles', 'worker', ...FLAGS]);
    const connect = async () => {
      const b = await createNatsBus({ prefix, servers: [tap!.url] });
      buses.push(b);
      return b;
    };
    const observer = await connect();
    const leases = await watchLeases(createNatsStore({ connection: observer.connection, prefix }));
    const life = watchLifecycle(observer);
    const w1 = await node('w1');
    procs.push(w1);
    const units = 3 * SHARDS;
    // Tells to a shard nobody holds are dropped (at most once): the load starts once w1 holds every shard.
    await leases.until((ls) => ls.size === units && [...ls.values()].every((l) => l.o === 'w1' && l.st === 'owned'), 30_000, 'w1 holding every shard');
    const senders = await Promise.all([0, 1, 2].map(async () => new ActorClient(await connect(), { shards: SHARDS, askTimeoutMs: 10_000 })));
    const targets = targetsOf(40, 40);
    const load = startSeqLoad(senders, targets, { perTick: 1, maxPerSender: 12_000, askEvery: 50 });
    await eventually(() => load.total() >= 1500, { timeoutMs: 30_000, what: 'load before the join' });
    procs.push(await node('w2'));
    await leases.until((ls) => {
      const o = ownersOf(ls);
      return (o.get('w2') ?? 0) > 0 && (o.get('w1') ?? 0) > 0 && [...ls.values()].every((l) => l.st === 'owned');
    }, 60_000, 'the join to settle with shards on both nodes');
    const afterJoin = load.total();
    await callNode(observer, 'w1', { type: 'drain' }, 10_000);
    await leases.until((ls) => ls.size === units && [...ls.values()].every((l) => l.o === 'w2' && l.st === 'owned'), 60_000, 'every shard on w2 after the drain');
    const code = await w1.exited;
    await load.stop();
    leases.stop();
    const problems = await verifyLogs(senders[0]!, targets, load.sent, { timeoutMs: 20_000 });
    await observer.flush();
    const overlaps = life.violations();
    life.stop();
    process.stderr.write(`[wan-migration] ${load.total()} messages (${afterJoin} by the end of the join); w1 exited ${code}; problems ${problems.length}; overlapping ${overlaps.length}\n`);
    expect(code, 'w1 exits 0 after its drain').toBe(0);
    expect(problems.slice(0, 10)).toEqual([]);
    expect(overlaps.slice(0, 10)).toEqual([]);
  });
});
