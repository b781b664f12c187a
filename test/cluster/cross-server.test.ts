/**
 * The same cluster across the stand-in for several hosts: a 3-server NATS cluster (KV with 3 replicas), one node
 * process with two worker-thread nodes on server 0, node processes on servers 1 and 2, senders on every server.
 * Shards are moved at random moments between threads and processes (and across NATS servers) under sequenced load:
 * every message applied exactly once, in per-sender order, and no actor ever live on two nodes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorClient } from '../../actors/runtime/client.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import { createNatsStore } from '../../bus/nats/nats-store.js';
import type { Bus } from '../../bus/bus.js';
import { BUCKETS } from '../../cluster/records.js';
import { startNatsCluster, type NatsCluster } from '../../dev/nats-cluster.js';
import { startNodeProcess, type Proc, DEMO_ONLY } from '../../dev/procs.js';
import { ownersOf, readLeases, watchLifecycle } from '../../dev/cluster-watch.js';
import { startSeqLoad, verifyLogs } from '../../dev/load.js';
import { eventually } from '../../dev/wait.js';

const SHARDS = 16;

describe('cluster across a 3-server NATS cluster, nodes as threads and processes', { timeout: 120_000 }, () => {
  let cluster: NatsCluster;
  const procs: Proc[] = [];
  const buses: Bus[] = [];
  beforeAll(async () => {
    cluster = await startNatsCluster(3);
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    for (const b of buses) await b.close().catch(() => undefined);
    await cluster?.stop();
  });

  it('moves shards between threads and processes on different servers: exactly once, in order, one instance', async () => {
    const prefix = 'xs';
    const repl = ['--replicas', '3', ...DEMO_ONLY];
    procs.push(await startNodeProcess({ natsUrl: cluster.urls[0]!, prefix, id: 'pa', threads: 2, roles: 'worker', extra: repl }));
    procs.push(await startNodeProcess({ natsUrl: cluster.urls[1]!, prefix, id: 'pb', extra: repl }));
    procs.push(await startNodeProcess({ natsUrl: cluster.urls[2]!, prefix, id: 'pc', extra: repl }));
    const nodeIds = ['pa-t0', 'pa-t1', 'pb', 'pc'];
    const conn = async (i: number) => {
      const b = await createNatsBus({ prefix, servers: [cluster.urls[i % 3]!] });
      buses.push(b);
      return b;
    };
    const toolBus = await conn(0);
    const store = createNatsStore({ connection: (toolBus as Bus & { connection: never }).connection, prefix, replicas: 3 });
    await eventually(async () => {
      const owners = ownersOf(await readLeases(store));
      return nodeIds.every((n) => (owners.get(n) ?? 0) > 0);
    }, { timeoutMs: 30_000, intervalMs: 200, what: 'shards on all four nodes' });
    const life = watchLifecycle(toolBus);
    await toolBus.flush();

    const senders = await Promise.all([0, 1, 2].map(async (i) => new ActorClient(await conn(i), { shards: SHARDS, askTimeoutMs: 20_000 })));
    const targets = [
      ...Array.from({ length: 48 }, (_, i) => ({ kind: 'tally', id: `t${i}` })),
      ...Array.from({ length: 24 }, (_, i) => ({ kind: 'ledger', id: `l${i}` })),
    ];
    const load = startSeqLoad(senders, targets, { perTick: 3, maxPerSender: 100_000, askEvery: 11 });
    const pins = await store.bucket(BUCKETS.pins);
    const pinned = new Map<string, string>();
    let rnd = 99;
    const rand = () => (rnd = (rnd * 48271) % 2147483647);
    for (let round = 0; round < 8; round++) {
      await eventually(() => load.total() > (round + 1) * 600, { what: 'load progressing' });
      for (let k = 0; k < 5; k++) {
        const kind = rand() % 2 ? 'tally' : 'ledger';
        const key = `${kind}.${rand() % SHARDS}`;
        const to = nodeIds[rand() % nodeIds.length]!;
        pinned.set(key, to);
        await pins.put(key, new TextEncoder().encode(to));
      }
    }
    await eventually(async () => {
      const leases = await readLeases(store);
      return [...leases.values()].every((l) => l.st === 'owned') && [...pinned].every(([k, n]) => leases.get(k)?.o === n);
    }, { timeoutMs: 30_000, what: 'every pinned shard on its node' });
    await load.stop();

    const problems = await verifyLogs(senders[0]!, targets, load.sent);
    expect(problems).toEqual([]);
    expect(life.events.length).toBeGreaterThan(0);
    expect(life.violations()).toEqual([]);
    life.stop();
  });
});
