/**
 * docs/INVARIANTS.md invariants 2 and 10 for a stalled process: a worker SIGSTOPped past deadAfterMs under load loses its
 * shards to the other; when it is continued, it activates nothing before it has re-read its leases (no actor of a
 * lost shard comes back to life on it, not even for a moment), and no actor is ever live on both nodes (lifecycle
 * events). Then it serves again and takes its share back by live migration. Three workers: in a cluster of two, the
 * survivor of a silent peer cannot tell the peer's stall from its own server's cut, and lapses too (docs/INVARIANTS.md,
 * "Failover"); this test is about the stalled node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorClient } from '../../actors/runtime/client.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import { createNatsStore } from '../../bus/nats/nats-store.js';
import type { Bus } from '../../bus/bus.js';
import { callNode } from '../../cluster/control.js';
import { ownersOf, readLeases, watchLifecycle } from '../../dev/cluster-watch.js';
import { startSeqLoad } from '../../dev/load.js';
import { startNatsServer, type NatsServerHandle } from '../../dev/nats-server.js';
import { startNodeProcess, DEMO_ONLY, type Proc } from '../../dev/procs.js';
import { eventually } from '../../dev/wait.js';

const SHARDS = 16;

describe('a stalled worker (SIGSTOP past the dead time, then SIGCONT) [nats, node processes]', { timeout: 120_000 }, () => {
  let nats: NatsServerHandle;
  const procs: Proc[] = [];
  const buses: Bus[] = [];
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    for (const p of procs) {
      try {
        process.kill(p.pid, 'SIGCONT');
      } catch {
        // gone already
      }
    }
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    for (const b of buses) await b.close().catch(() => undefined);
    await nats?.stop();
  });

  it('activates nothing before re-reading its leases; never two live instances', async () => {
    const prefix = 'stall';
    const [, w2] = await Promise.all(['w1', 'w2', 'w3'].map(async (id) => {
      const p = await startNodeProcess({ natsUrl: nats.url, prefix, id, extra: DEMO_ONLY });
      procs.push(p);
      return p;
    }));
    const bus = await createNatsBus({ prefix, servers: [nats.url] });
    buses.push(bus);
    const store = createNatsStore({ connection: bus.connection, prefix });
    const client = new ActorClient(bus, { shards: SHARDS, askTimeoutMs: 3000 });
    const both = async () => {
      const o = ownersOf(await readLeases(store));
      return (o.get('w1') ?? 0) > 0 && (o.get('w2') ?? 0) > 0 && (o.get('w3') ?? 0) > 0;
    };
    await eventually(both, { timeoutMs: 45_000, intervalMs: 200, what: 'shards on every node' });
    const targets = Array.from({ length: 120 }, (_, i) => ({ kind: i % 3 ? 'tally' : 'ledger', id: `s${i}` }));
    await eventually(async () => (await Promise.all(targets.map((t) => client.ask(t, { type: 'get' }).then(() => true, () => false)))).every(Boolean), {
      timeoutMs: 30_000,
      what: 'every target answering',
    });
    const life = watchLifecycle(bus);
    await bus.flush();
    const load = startSeqLoad([client], targets, { perTick: 2, maxPerSender: 1_000_000, askEvery: 7 });
    await eventually(() => load.total() > 500, { what: 'load running' });

    process.kill(w2!.pid, 'SIGSTOP');
    // Past the dead time: the others declared w2 dead and took its shards.
    await eventually(async () => (ownersOf(await readLeases(store)).get('w2') ?? 0) === 0, { timeoutMs: 30_000, intervalMs: 100, what: 'w1 and w3 holding every shard' });
    await eventually(() => load.total() > 0, { what: 'load still running' });
    const continuedAt = Date.now();
    process.kill(w2!.pid, 'SIGCONT');
    // w2 noticed its lapse, re-read the leases and serves again (its status says so; it lapsed exactly once).
    const st = await eventually(async () => {
      const s = await callNode<{ serving: boolean; lapses: number }>(bus, 'w2', { type: 'status' }, 2000).catch(() => undefined);
      return s?.serving && s.lapses > 0 ? s : undefined;
    }, { timeoutMs: 20_000, intervalMs: 50, what: 'w2 serving again' });
    const servingAt = Date.now();
    expect(st.lapses).toBe(1);
    // And takes its share back (live migration), under the same load.
    await eventually(both, { timeoutMs: 45_000, intervalMs: 200, what: 'shards on every node again' });
    await load.stop();
    await bus.flush();
    await new Promise((r) => setTimeout(r, 100)); // the last lifecycle batch (20 ms batches)
    life.stop();

    // Nothing was activated on w2 between waking and serving again: no actor of a lost shard came back there.
    const early = life.events.filter((e) => e.n === 'w2' && e.e === 'active' && e.t >= continuedAt && e.t < servingAt);
    expect(early).toEqual([]);
    // Its fence was reported after it woke, stamped with the end of its last confirmed window (before the take-over):
    // its instances from before the stop count as closed from then on, whichever it activated while the watch ran.
    const fenced = life.events.filter((e) => e.n === 'w2' && e.e === 'fenced');
    expect(fenced).toHaveLength(1);
    expect(fenced[0]!.t).toBeLessThan(continuedAt * 1000);
    expect(life.violations()).toEqual([]);
    expect(w2!.output()).toMatch(/cannot confirm this node is heard/);
  });
});
