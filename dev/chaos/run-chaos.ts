/**
 * One chaos run: the cluster of chaos-cluster.ts under durable (ledger) and in-memory (tally) load, the seeded fault
 * schedule carried out one fault at a time, then every actor's log checked against what was acknowledged and the
 * lifecycle feed checked for overlapping instances. Returns counts; the bench prints them and the test asserts them.
 */
import { ActorClient } from '../../actors/runtime/client.js';
import type { Bus } from '../../bus/bus.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import { subjects } from '../../bus/subjects.js';
import { DEFAULTS } from '../../config/defaults.js';
import { decodeLifecycle, type LifecycleEvent } from '../../server/lifecycle-events.js';
import { eventually } from '../wait.js';
import { checkActorLog, emptyCounts, overlappingInstances, type Overlap, type SeqCounts } from './checks.js';
import { nowUs, startChaosCluster, type NodeCrash } from './chaos-cluster.js';
import { startChaosLoad, type Target } from './load.js';
import { FAULT_KINDS, makeSchedule, type Fault, type FaultKind } from './schedule.js';
import { natsKillBreakdown, type NatsKillBreakdown } from './stream-pauses.js';
import { openStreamWatch, type Election, type StreamWatch } from './streams.js';

export interface ChaosOptions {
  seed: number;
  durationMs: number;
  slotMs: number;
  kinds?: readonly FaultKind[];
  durableActors: number;
  memoryActors: number;
  ratePerSec: number;
  shards: number;
  /** Cluster timings; the product defaults (config/defaults.ts) when absent. */
  heartbeatMs?: number;
  deadAfterMs?: number;
  useNetns?: boolean;
  log: (s: string) => void;
}

export interface ChaosResult {
  seed: number;
  mode: 'netns' | 'loopback';
  whyLoopback?: string;
  faults: Fault[];
  sent: number;
  acknowledged: number;
  durable: SeqCounts;
  memory: SeqCounts;
  failedByCode: Record<string, number>;
  /** fault label ("kill-worker w2") → longest unavailability of one actor, ms. */
  unavailability: Record<string, { ms: number; actor: string }>;
  overlapping: Overlap[];
  /** fault label → overlapping instances that began while it ran (or during its recovery, until the next fault). */
  overlappingByFault: Record<string, number>;
  crashes: NodeCrash[];
  /** Per nats-server kill: the streams it led, their elections, and which actors paused (stream-pauses.ts). */
  natsKills: NatsKillBreakdown[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const prefix = `chaos${o.seed % 10000}`;
  const nodeFlags = [
    '--set', 'node.builtinApps=gateway,demo',
    '--set', `actors.shards=${o.shards}`,
    '--set', 'actors.lifecycleEvents=true',
    '--set', 'metrics.port=0',
    ...(o.heartbeatMs ? ['--set', `cluster.heartbeatMs=${o.heartbeatMs}`] : []),
    ...(o.deadAfterMs ? ['--set', `cluster.deadAfterMs=${o.deadAfterMs}`] : []),
    '--log-level', 'warn',
  ];
  const deadAfterMs = o.deadAfterMs ?? DEFAULTS.cluster.deadAfterMs;
  const cluster = await startChaosCluster({ prefix, nodeFlags, useNetns: o.useNetns, log: o.log });
  const buses: Bus[] = [];
  let watch: StreamWatch | undefined;
  try {
    const kinds = (o.kinds ?? FAULT_KINDS).filter((k) => k !== 'partition-worker' || cluster.mode === 'netns');
    if (cluster.mode === 'loopback') o.log(`no test hosts (${cluster.whyLoopback}): everything on loopback, no partition faults`);
    const faults = makeSchedule({ seed: o.seed, durationMs: o.durationMs, slotMs: o.slotMs, kinds, workers: 3, natsServers: 3 });
    const connect = async () => {
      const b = await createNatsBus({ prefix, servers: cluster.clientUrls });
      buses.push(b);
      return b;
    };
    const observer = await connect();
    const events: LifecycleEvent[] = [];
    observer.subscribe(subjects.sys('lifecycle'), (m) => {
      for (const e of decodeLifecycle(m.data)) events.push(e);
    });
    await observer.flush();
    watch = await openStreamWatch(cluster.clientUrls, prefix);
    const kills: Array<{ label: string; server: string; leaders: Map<string, string>; elections: Promise<Election[]>; at: number }> = [];
    const askTimeoutMs = 3000;
    const senders = await Promise.all([0, 1].map(async () => new ActorClient(await connect(), { shards: o.shards, askTimeoutMs })));
    const targets: Target[] = [
      ...Array.from({ length: o.durableActors }, (_, i) => ({ kind: 'ledger', id: `d${i}` })),
      ...Array.from({ length: o.memoryActors }, (_, i) => ({ kind: 'tally', id: `m${i}` })),
    ];
    // Every actor answers once before the clock starts: a fresh cluster is still electing stream leaders and placing
    // shards, which is start-up, not a fault.
    await eventually(async () => {
      await Promise.all(targets.map((t) => senders[0]!.ask(t, { type: 'get' })));
      return true;
    }, { timeoutMs: 60_000, intervalMs: 500, what: 'every actor to answer before the load starts' });

    let current = 'no fault';
    const windows: Array<{ label: string; t: number }> = [{ label: current, t: nowUs() }];
    const load = startChaosLoad(senders, targets, { ratePerSec: o.ratePerSec, askTimeoutMs, currentFault: () => current });
    const t0 = Date.now();
    const hold = deadAfterMs + 1500;
    for (const f of faults) {
      const wait = t0 + f.at - Date.now();
      if (wait > 0) await sleep(wait);
      await cluster.settled();
      const w = cluster.workerIds[f.target]!;
      const base = f.kind === 'kill-nats' ? `${f.kind} n${f.target + 1}` : f.kind === 'kill-gateway' ? f.kind : `${f.kind} ${w}`;
      // A fault hit twice gets its own label the second time: the per-fault figures are per occurrence.
      const again = windows.filter((x) => x.label === base || x.label.startsWith(`${base} #`)).length;
      current = again ? `${base} #${again + 1}` : base;
      windows.push({ label: current, t: nowUs() });
      o.log(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${current}`);
      switch (f.kind) {
        case 'kill-worker': await cluster.killWorker(f.target, 1000); break;
        case 'kill-gateway': await cluster.killGateway(1000); break;
        case 'kill-nats': {
          const server = cluster.nats.name(f.target);
          const { leaders } = await watch.leadership();
          const led = [...leaders].filter(([, l]) => l === server).map(([s2]) => s2);
          const killedAt = Date.now();
          let back = false;
          const killing = cluster.killNats(f.target, 2000).then(() => {
            back = true;
          });
          // Timed in the background (the next fault may start first); awaited before the report.
          kills.push({ label: current, server, leaders, elections: watch.elections(led, server, killedAt, 60_000, () => back), at: nowUs() });
          await killing;
          break;
        }
        case 'stop-worker': await cluster.stopWorker(f.target, hold); break;
        case 'partition-worker': await cluster.partitionWorker(f.target, hold * 2); break;
        case 'drain-worker': await cluster.drainWorker(f.target, observer); break;
      }
    }
    const left = t0 + o.durationMs - Date.now();
    if (left > 0) await sleep(left);
    await cluster.settled();
    current = 'after the last fault';
    await load.stop();
    o.log(`load stopped: ${load.stats.acknowledged} acknowledged of ${load.stats.sent}; checking every actor's log`);

    const durable = emptyCounts();
    const memory = emptyCounts();
    const reader = senders[0]!;
    for (const t of targets) {
      const rec = load.stats.records.get(`${t.kind}/${t.id}`)!;
      const s = await eventually(() => reader.ask<{ log: Array<[string, number]> }>(t, { type: 'get' }), { timeoutMs: 60_000, intervalMs: 250, what: `${t.kind}/${t.id} to answer get` });
      checkActorLog(`${t.kind}/${t.id}`, s.log, rec.acked, rec.notOwner, t.kind === 'ledger' ? durable : memory);
    }
    // Lifecycle batches are sent within 20 ms; a flush round trip on the observer's connection covers what is in flight.
    await observer.flush();
    await sleep(500);
    const overlapping = overlappingInstances(events, cluster.halts);
    const natsKills: NatsKillBreakdown[] = [];
    for (const k of kills) {
      natsKills.push(
        natsKillBreakdown({
          fault: k.label,
          server: k.server,
          prefix,
          shards: o.shards,
          snapshotBuckets: DEFAULTS.actors.snapshotBuckets,
          leaders: k.leaders,
          elections: await k.elections,
          pauses: load.stats.pauses.get(k.label) ?? new Map(),
          // The node whose 'active' event for the actor came last before the kill: where it was served then.
          nodeOf: (actor) => {
            let node = '';
            for (const e of events) if (e.e === 'active' && `${e.k}/${e.i}` === actor && e.t <= k.at) node = e.n;
            return node;
          },
          durable: targets.filter((t) => t.kind === 'ledger'),
          memory: targets.filter((t) => t.kind !== 'ledger'),
        }),
      );
    }
    const overlappingByFault: Record<string, number> = {};
    for (const ov of overlapping) {
      const w = [...windows].reverse().find((x) => x.t <= ov.t) ?? windows[0]!;
      overlappingByFault[w.label] = (overlappingByFault[w.label] ?? 0) + 1;
    }
    return {
      seed: o.seed,
      mode: cluster.mode,
      whyLoopback: cluster.whyLoopback,
      faults,
      sent: load.stats.sent,
      acknowledged: load.stats.acknowledged,
      durable,
      memory,
      failedByCode: Object.fromEntries(load.stats.failedByCode),
      unavailability: Object.fromEntries(load.stats.unavailability),
      overlapping,
      overlappingByFault,
      crashes: cluster.crashes,
      natsKills,
    };
  } finally {
    await Promise.allSettled([...buses.map((b) => b.close()), watch?.close()]);
    await cluster.stop();
  }
}
