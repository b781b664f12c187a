/**
 * docs/INVARIANTS.md invariant 5: with a 3-server NATS cluster (KV replicated 3×), killing the server a node is connected
 * to makes it reconnect elsewhere, and no acknowledged update is lost. Asks during the outage fail with an error, never
 * hang; the system serves again by itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorClient } from '../../actors/runtime/client.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import { createNatsStore } from '../../bus/nats/nats-store.js';
import type { Bus } from '../../bus/bus.js';
import { startNatsCluster, type NatsCluster } from '../../dev/nats-cluster.js';
import { startNodeProcess, type Proc, DEMO_ONLY } from '../../dev/procs.js';
import { ownersOf, readLeases } from '../../dev/cluster-watch.js';
import { eventually } from '../../dev/wait.js';
import { ackedProblems } from '../../dev/load.js';

describe('NATS server failure under load [3-server cluster]', { timeout: 120_000 }, () => {
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

  it('a node whose server dies reconnects; every acknowledged durable update survives', async () => {
    const prefix = 'busfail';
    // w1 knows only server 0 at start: it learns the others from the cluster and must fail over to them.
    procs.push(await startNodeProcess({ natsUrl: cluster.urls[0]!, prefix, id: 'w1', extra: ['--replicas', '3', ...DEMO_ONLY] }));
    procs.push(await startNodeProcess({ natsUrl: cluster.urls[1]!, prefix, id: 'w2', extra: ['--replicas', '3', ...DEMO_ONLY] }));
    const bus = await createNatsBus({ prefix, servers: [cluster.urls[2]!, cluster.urls[1]!] });
    buses.push(bus);
    const store = createNatsStore({ connection: bus.connection, prefix, replicas: 3 });
    await eventually(async () => {
      const o = ownersOf(await readLeases(store));
      return (o.get('w1') ?? 0) > 0 && (o.get('w2') ?? 0) > 0;
    }, { timeoutMs: 30_000, intervalMs: 200, what: 'shards on both nodes' });
    const client = new ActorClient(bus, { shards: 16, askTimeoutMs: 3000 });
    // Durability asserted directly, before anything is killed: every bucket of this deployment is a stream with 3
    // replicas placed on 3 servers (with 1, killing its server would lose acknowledged state, and the test below would
    // only time out).
    const jsm = await bus.connection.jetstreamManager();
    const streams = (await jsm.streams.list().next()).filter((si) => si.config.name.startsWith(`KV_${prefix}_`));
    expect(streams.length).toBeGreaterThan(0);
    for (const si of streams) {
      expect({ name: si.config.name, replicas: si.config.num_replicas }).toEqual({ name: si.config.name, replicas: 3 });
      expect(1 + (si.cluster?.replicas?.length ?? 0)).toBe(3);
    }

    const acked = new Map<string, Map<string, number[]>>();
    const failures: string[] = [];
    let sent = 0;
    const okAfterKill = new Set<string>();
    let killed = false;
    let running = true;
    const worker = async (w: number) => {
      const from = `w${w}`;
      const next = new Map<string, number>();
      for (let i = 0; running; i++) {
        const id = `acct-${(i * 4 + w) % 40}`;
        const n = next.get(id) ?? 0;
        next.set(id, n + 1);
        sent++;
        try {
          await client.ask<number>({ kind: 'ledger', id }, { type: 'inc', from, n });
          const a = acked.get(id) ?? acked.set(id, new Map()).get(id)!;
          (a.get(from) ?? a.set(from, []).get(from)!).push(n);
          if (killed) okAfterKill.add(id);
        } catch (err) {
          failures.push((err as { code: string }).code);
          // Load pacing, not a wait: errors come fast during the outage, do not spin.
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    const loops = [0, 1, 2, 3].map(worker);
    await eventually(() => sent > 300, { what: 'load running' });
    await cluster.kill(0);
    killed = true;
    // Serving again by itself: after the kill, every one of the 40 actors answered successfully at least once.
    await eventually(() => okAfterKill.size === 40, { timeoutMs: 60_000, intervalMs: 100, what: 'every actor answering again after the server died' });
    running = false;
    await Promise.all(loops);

    // Failures are errors that say what happened (asks end by their timeout at the latest: the loops all ended).
    expect(failures.every((c) => ['TIMEOUT', 'NO_RESPONDERS', 'NOT_OWNER', 'MAYBE_APPLIED', 'STORE_ERROR', 'CLOSED'].includes(c)), failures.join()).toBe(true);
    // Per update: every acknowledged (sender, n) is stored once, in order (not just "count ≥ acknowledged").
    const problems: string[] = [];
    for (const id of acked.keys()) {
      const { log } = await eventually(() => client.ask<{ log: Array<[string, number]> }>({ kind: 'ledger', id }, { type: 'get' }), { timeoutMs: 20_000 });
      problems.push(...ackedProblems(log, acked.get(id)!, id));
    }
    expect(problems).toEqual([]);
    expect(acked.size).toBe(40);
    // w1 is still a member (it reconnected through another server) or rejoined: both nodes hold shards again.
    await eventually(async () => {
      const o = ownersOf(await readLeases(store));
      return (o.get('w1') ?? 0) > 0 && (o.get('w2') ?? 0) > 0;
    }, { timeoutMs: 30_000, intervalMs: 200, what: 'both nodes holding shards after the failure' });
  });
});
