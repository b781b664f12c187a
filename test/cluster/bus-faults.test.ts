/**
 * docs/INVARIANTS.md invariant 10, with node processes on a 3-server NATS cluster (streams replicated 3×):
 * - a node started while the new replicated streams cannot have a leader (one server of three up) waits for them,
 *   saying what it waits for, and runs once the other servers start: it never exits for that;
 * - killing (-9) the nats-server leading some of the snapshot streams fails only the writes of actors in those
 *   streams, no node lapses (liveness is over core NATS), and every acknowledged update is stored exactly once, in
 *   order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { ActorClient } from '../../actors/runtime/client.js';
import { snapshotBucketNames } from '../../actors/runtime/snapshots.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import type { Bus } from '../../bus/bus.js';
import { shardOf } from '../../bus/subjects.js';
import { callNode } from '../../cluster/control.js';
import { startNatsCluster, type NatsCluster } from '../../dev/nats-cluster.js';
import { runCli, fastClusterFlags, startNodeProcess, DEMO_ONLY, type Proc } from '../../dev/procs.js';
import { eventually } from '../../dev/wait.js';
import { ackedProblems } from '../../dev/load.js';

const SHARDS = 16;
const BUCKETS = 6;

describe('bus faults [3-server NATS cluster, node processes]', { timeout: 180_000 }, () => {
  let cluster: NatsCluster | undefined;
  let procs: Proc[] = [];
  let buses: Bus[] = [];
  afterEach(async () => {
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    for (const b of buses) await b.close().catch(() => undefined);
    await cluster?.stop();
    procs = [];
    buses = [];
    cluster = undefined;
  });

  it('a node started before its replicated streams can have a leader waits for them and runs', async () => {
    cluster = await startNatsCluster(3, 'gs', { startNow: 1 });
    const p = runCli(['node', '--nats', cluster.urls[0]!, '--prefix', 'st', '--node-id', 's1', '--roles', 'worker', '--replicas', '3', ...fastClusterFlags(SHARDS), ...DEMO_ONLY]);
    procs.push(p);
    await p.waitFor(/start step waiting for the bus or store|JetStream not ready/, 60_000);
    await cluster.restart(1);
    await cluster.restart(2);
    await p.waitFor(/is running/, 90_000);
    const bus = await createNatsBus({ prefix: 'st', servers: cluster.urls });
    buses.push(bus);
    const client = new ActorClient(bus, { shards: SHARDS, askTimeoutMs: 5000 });
    const n = await eventually(() => client.ask<number>({ kind: 'ledger', id: 'after-start' }, { type: 'inc' }).catch(() => undefined), { timeoutMs: 30_000, what: 'the node answering' });
    expect(n).toBe(1);
    // What it waited for was said per step, not per try (one line when it starts waiting, then every 5 s).
    const waits = p.output().split('\n').filter((l) => l.includes('start step waiting'));
    expect(waits.length).toBeLessThan(30);
  });

  it('kill -9 of the server leading some snapshot streams: only their actors fail, no node lapses, nothing acknowledged lost', async () => {
    cluster = await startNatsCluster(3, 'gk');
    const prefix = 'nk';
    // Both nodes and the client sit on server 0: the server killed is never one a node is connected to.
    for (const id of ['w1', 'w2']) {
      procs.push(await startNodeProcess({ natsUrl: cluster.urls[0]!, prefix, id, extra: ['--replicas', '3', ...DEMO_ONLY] }));
    }
    const bus = await createNatsBus({ prefix, servers: [cluster.urls[0]!] });
    buses.push(bus);
    const client = new ActorClient(bus, { shards: SHARDS, askTimeoutMs: 3000 });
    const actors = Array.from({ length: 48 }, (_, i) => `acct-${i}`);
    await eventually(async () => (await Promise.all(actors.map((id) => client.ask({ kind: 'ledger', id }, { type: 'get' }).then(() => 1, () => 0)))).every((x) => x === 1), {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: 'every actor answering',
    });

    // Which server leads which snapshot stream; make one of servers 1 and 2 lead at least one of them.
    const nc = (bus as unknown as { connection: NatsConnection }).connection;
    const jsm = await nc.jetstreamManager();
    const streams = snapshotBucketNames(BUCKETS).map((b) => `KV_${prefix}_${b}`);
    const leaders = async () => Promise.all(streams.map(async (s) => (await jsm.streams.info(s)).cluster?.leader ?? '?'));
    let led = await leaders();
    for (let i = 0; i < 20 && !led.some((l) => l === 'gk-1' || l === 'gk-2'); i++) {
      await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${streams[0]}`, undefined, { timeout: 5000 }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 500));
      led = await leaders();
    }
    const count = (s: string) => led.filter((l) => l === s).length;
    const victim = count('gk-1') >= count('gk-2') ? 1 : 2;
    const victimGroups = new Set(led.flatMap((l, g) => (l === `gk-${victim}` ? [g] : [])));
    expect(victimGroups.size).toBeGreaterThan(0);
    const inVictimStream = (id: string) => victimGroups.has(shardOf(id, SHARDS) % BUCKETS);

    // Load: per-sender sequence numbers, four senders (one connection), each actor's updates acknowledged or not.
    const acked = new Map<string, Map<string, number[]>>();
    const failedBy = new Map<string, number>();
    const failedActors = new Set<string>();
    let killed = false;
    let running = true;
    let sent = 0;
    const okAfterKill = new Set<string>();
    const sender = async (s: number) => {
      const from = `s${s}`;
      const next = new Map<string, number>();
      for (let i = 0; running; i++) {
        const id = actors[(i * 5 + s * 11) % actors.length]!;
        const n = next.get(id) ?? 0;
        next.set(id, n + 1);
        sent++;
        try {
          await client.ask({ kind: 'ledger', id }, { type: 'inc', from, n });
          const a = acked.get(id) ?? acked.set(id, new Map()).get(id)!;
          (a.get(from) ?? a.set(from, []).get(from)!).push(n);
          if (killed) okAfterKill.add(id);
        } catch (err) {
          const code = (err as { code?: string }).code ?? '?';
          failedBy.set(code, (failedBy.get(code) ?? 0) + 1);
          if (killed) failedActors.add(id);
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    const loops = [0, 1, 2, 3].map(sender);
    await eventually(() => sent > 400, { timeoutMs: 30_000, what: 'load running' });
    const killedAt = Date.now();
    await cluster.kill(victim);
    killed = true;
    await eventually(() => okAfterKill.size === actors.length, { timeoutMs: 90_000, intervalMs: 100, what: 'every actor answering after the kill' });
    const pauseMs = Date.now() - killedAt;
    running = false;
    await Promise.all(loops);

    // Only actors whose snapshot stream the dead server led failed.
    const outside = [...failedActors].filter((id) => !inVictimStream(id));
    expect(outside, `failures outside the killed server's streams (${[...failedBy]})`).toEqual([]);
    // No node lapsed or lost anyone: liveness never touched JetStream.
    for (const id of ['w1', 'w2']) {
      const st = await callNode<{ lapses: number; liveNodes: string[] }>(bus, id, { type: 'status' }, 5000);
      expect(st.lapses, `${id} lapses`).toBe(0);
      expect(st.liveNodes).toEqual(['w1', 'w2']);
    }
    for (const p of procs) expect(p.output()).not.toMatch(/declared dead|cannot confirm this node is heard/);
    // Every acknowledged update is there exactly once, in order.
    const problems: string[] = [];
    for (const id of actors) {
      const { log } = await eventually(() => client.ask<{ log: Array<[string, number]> }>({ kind: 'ledger', id }, { type: 'get' }), { timeoutMs: 20_000 });
      problems.push(...ackedProblems(log, acked.get(id) ?? new Map(), id));
    }
    expect(problems).toEqual([]);
    console.log(`[bus-faults] server gk-${victim} led ${victimGroups.size}/${BUCKETS} snapshot streams; failed asks ${[...failedBy].map(([c, k]) => `${c}=${k}`).join(' ')} on ${failedActors.size}/${actors.length} actors; every actor answering ${pauseMs} ms after the kill`);
  });
});
