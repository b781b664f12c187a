/**
 * One nats-server cut off from the other two (issue 14; docs/INVARIANTS.md invariants 5 and 10): three nats-servers (R3),
 * two workers and a client, each on its own test host; the client reaches the cluster through the two servers that
 * stay connected. Under durable and in-memory load, the third server's host is isolated for 10 s, then healed. The
 * cluster goes on: every acknowledged durable update is kept once and in order, nothing answered NOT_OWNER was applied,
 * no node crashes. Failed requests are counted and printed, not bounded: docs/OPERATIONS.md ("Chaos") has the figures
 * and why part of them cannot be avoided (the cut-off server led some snapshot streams; a connection still on it
 * loses what it publishes until it is moved).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ActorClient } from '../../actors/runtime/client.js';
import type { Bus } from '../../bus/bus.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import { startChaosLoad } from '../../dev/chaos/load.js';
import { createTestNet, type TestNet } from '../../dev/hosts/netns.js';
import { startNatsOnHosts, startNodeOn, type HostNatsCluster, type HostProc } from '../../dev/hosts/host-procs.js';
import { openTap, type Tap } from '../../dev/hosts/tap.js';
import { eventually } from '../../dev/wait.js';
import { checkLogs, NO_NETNS, targetsOf } from './host-setup.js';

const FLAGS = ['--set', 'node.builtinApps=demo', '--set', 'actors.shards=16', '--set', 'metrics.port=0', '--set', 'cluster.heartbeatMs=250', '--set', 'cluster.deadAfterMs=2000', '--set', 'cluster.rebalanceIntervalMs=200', '--replicas', '3', '--log-level', 'warn'];

describe.skipIf(NO_NETNS)('one nats-server cut off from the other two [test hosts, 3-server cluster]', () => {
  let net: TestNet | undefined;
  let nats: HostNatsCluster | undefined;
  const taps: Tap[] = [];
  const procs: HostProc[] = [];
  const buses: Bus[] = [];
  afterAll(async () => {
    net?.heal();
    for (const b of buses) await b.close().catch(() => undefined);
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    await Promise.all(taps.map((t) => t.close()));
    await nats?.stop();
    net?.teardown();
  });

  it('the cluster goes on: nothing acknowledged lost, duplicated or reordered, nothing NOT_OWNER applied (failures counted)', { timeout: 120_000 }, async () => {
    net = createTestNet(['n1', 'n2', 'n3', 'w1', 'w2', 'cl']);
    nats = await startNatsOnHosts(['n1', 'n2', 'n3'].map((h) => ({ host: net!.host(h), port: 4222, routePort: 6222 })));
    const urls = [0, 1, 2].map((i) => nats!.url(i)).join(',');
    for (const i of [0, 1]) taps.push(await openTap(net.host('cl'), `${net.host(`n${i + 1}`).addr}:4222`));
    const prefix = 'natscut';
    // Each worker lists every server, its own first: w1 starts on n3, the server that will be cut off.
    procs.push(await startNodeOn(net.host('w1'), ['node', '--nats', urls.split(',').reverse().join(','), '--prefix', prefix, '--node-id', 'w1', '--roles', 'worker', ...FLAGS]));
    procs.push(await startNodeOn(net.host('w2'), ['node', '--nats', urls, '--prefix', prefix, '--node-id', 'w2', '--roles', 'worker', ...FLAGS]));
    const senders = await Promise.all([0, 1].map(async () => {
      const b = await createNatsBus({ prefix, servers: taps.map((t) => t.url) });
      buses.push(b);
      return new ActorClient(b, { shards: 16, askTimeoutMs: 3000 });
    }));
    const targets = targetsOf(60, 40);
    await eventually(async () => (await Promise.all(targets.map((t) => senders[0]!.ask(t, { type: 'get' })))).length, { timeoutMs: 60_000, intervalMs: 250, what: 'every actor to answer' });
    const load = startChaosLoad(senders, targets, { ratePerSec: 150, askTimeoutMs: 3000, currentFault: () => 'n3 cut off' });
    const acked = (n: number, what: string) => eventually(() => load.stats.acknowledged >= n, { timeoutMs: 60_000, intervalMs: 50, what });
    await acked(300, '300 acknowledged before the cut');
    const sentBefore = load.stats.sent;
    net.isolate('n3');
    // The fault lasts 10 s (longer than a JetStream election and a client's ping timeout); the load meanwhile must go on.
    await new Promise((r) => setTimeout(r, 10_000));
    net.heal();
    await acked(load.stats.acknowledged + 500, '500 more acknowledged after the heal');
    await load.stop();
    const failed = [...load.stats.failedByCode.values()].reduce((a, b) => a + b, 0);
    const { durable, memory } = await checkLogs(senders[0]!, targets, load.stats);
    process.stderr.write(`[nats-cutoff] acknowledged ${load.stats.acknowledged} of ${load.stats.sent} (${load.stats.sent - sentBefore} from the cut on); failed ${failed} ${JSON.stringify(Object.fromEntries(load.stats.failedByCode))}; longest unavailability ${JSON.stringify(Object.fromEntries(load.stats.unavailability))}; durable ${JSON.stringify({ ...durable, samples: durable.samples.slice(0, 3) })}; in-memory lost ${memory.lost} dup ${memory.duplicated} order ${memory.outOfOrder}\n`);
    // A node that left says why (its exit code and last output), so a rare exit under load can be diagnosed from CI.
    for (const [i, p] of procs.entries()) if (p.gone) process.stderr.write(`[nats-cutoff] w${i + 1} exited ${await p.exited}; its last output:\n${p.output().slice(-6000)}\n`);
    expect(procs.map((p) => p.gone), 'a node crashed').toEqual([false, false]);
    expect(durable.lost).toBe(0);
    expect(durable.duplicated).toBe(0);
    expect(durable.outOfOrder).toBe(0);
    expect(durable.notOwnerApplied).toBe(0);
    expect(memory.duplicated).toBe(0);
    expect(memory.outOfOrder).toBe(0);
  });
});
