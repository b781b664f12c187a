/**
 * bench elasticity — 100 k actors on 4 node processes; a 5th joins under load (targets: balanced
 * within 10 s, ≈ 1/5 of the actors moved, 0 lost, 0 duplicated). Each run: four worker processes share the shards,
 * a load process (bench/migration/load-peer.ts) sends sequenced tells round robin over 100 k in-memory `tally` actors
 * until all are active, then a fifth node starts while the load runs. Balanced = every lease owned (none moving) and
 * each shard where the pure allocation (cluster/allocation.ts) over five equal nodes puts it. Moved = actors active on
 * the new node (lifecycle feed) over all actors; lost and duplicated come from every actor's sequence log afterwards.
 * Run: `npm run bench -- elasticity` (BENCH_RUNS, default 1; BENCH_ACTORS, default 100000; BENCH_RATE, 5000).
 */
import { loadavg } from 'node:os';
import { ActorClient } from '../actors/runtime/client.js';
import { demoApp } from '../actors/demo/counter.js';
import { createNatsBus } from '../bus/nats/nats-bus.js';
import { createNatsStore } from '../bus/nats/nats-store.js';
import { allUnits, allocate } from '../cluster/allocation.js';
import { callNode } from '../cluster/control.js';
import { watchLeases, watchLifecycle } from '../dev/cluster-watch.js';
import { startNatsServer } from '../dev/nats-server.js';
import { startNodeProcess, type Proc } from '../dev/procs.js';
import { eventually } from '../dev/wait.js';
import { hardDeadline } from './harness/measure.js';
import { startPeer, stopAll, type Peer } from './harness/procs.js';
import { metric, printTable, writeResult } from './harness/report.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 1);
const ACTORS = Number(process.env.BENCH_ACTORS ?? 100_000);
const RATE = Number(process.env.BENCH_RATE ?? 5000);
const SHARDS = 64;
const NODES = 4;
hardDeadline(600_000 * RUNS, 'bench elasticity');
const log = (s: string) => process.stderr.write(`[bench elasticity] ${s}\n`);
// The product's failure detection (deadAfter 4 s) and the migration bench's move settings; demo kinds only.
const flags = ['--set', 'node.builtinApps=demo', '--set', 'cluster.deadAfterMs=4000', '--set', 'cluster.heartbeatMs=250', '--set', `actors.shards=${SHARDS}`, '--set', 'cluster.maxConcurrentMoves=100000', '--set', 'actors.passivateAfterMs=600000'];

interface RunResult {
  balancedMs: number;
  balancedAfterRunningMs: number;
  movedFraction: number;
  shardsMovedFraction: number;
  lost: number;
  duplicated: number;
  sent: number;
}

async function oneRun(url: string, run: number): Promise<RunResult> {
  const prefix = `elas${run}`;
  const procs: Proc[] = [];
  let peer: Peer | undefined;
  const bus = await createNatsBus({ prefix, servers: [url] });
  try {
    const store = createNatsStore({ connection: bus.connection, prefix });
    const client = new ActorClient(bus, { shards: SHARDS, askTimeoutMs: 20_000 });
    const ids = Array.from({ length: NODES + 1 }, (_, i) => `e${run}n${i}`);
    const units = allUnits(demoApp.kinds.map((k) => k.name), SHARDS);
    const targetFor = (n: number) => allocate(units, ids.slice(0, n).map((id) => ({ id, capacity: 1 })));
    const leases = await watchLeases(store);
    const placed = (want: Map<string, string>) => (ls: Map<string, { o: string; st: string }>) =>
      ls.size === want.size && [...want].every(([k, o]) => ls.get(k)?.o === o && ls.get(k)?.st === 'owned');
    for (const id of ids.slice(0, NODES)) procs.push(await startNodeProcess({ natsUrl: url, prefix, id, extra: flags }));
    await leases.until(placed(targetFor(NODES)), 60_000, `the shards placed over ${NODES} nodes`);
    peer = await startPeer(new URL('./migration/load-peer.js', import.meta.url), { name: 'load', args: [url, prefix, String(SHARDS)], lifetimeMs: 400_000 });
    await peer.call('start', { actors: ACTORS, rate: RATE, probeRate: 0 });
    const activeNow = async () => {
      const st = await Promise.all(ids.slice(0, NODES).map((id) => callNode<{ actors: number }>(bus, id, { type: 'status' }, 5000)));
      return st.reduce((a, s) => a + s.actors, 0);
    };
    await eventually(async () => (await activeNow()) >= ACTORS, { timeoutMs: Math.max(60_000, (ACTORS / RATE) * 3000), intervalMs: 1000, what: `${ACTORS} actors active` });
    const life = watchLifecycle(bus);
    await bus.flush();
    const t0 = Date.now();
    const joiner = startNodeProcess({ natsUrl: url, prefix, id: ids[NODES]!, extra: flags });
    procs.push(await joiner);
    const running = Date.now();
    const want = targetFor(NODES + 1);
    await leases.until(placed(want), 120_000, 'the shards placed over five nodes');
    const balanced = Date.now();
    leases.stop();
    const shardsToNew = [...want.values()].filter((o) => o === ids[NODES]).length;
    log(`run ${run}: balanced ${balanced - t0} ms after the 5th node was started (${balanced - running} ms after it said it was running); ${shardsToNew} of ${units.length} shards went to it`);
    const { sent } = (await peer.call('stop', {}, 60_000)) as unknown as { sent: Array<[string, number]> };
    // The new node may still be applying what it buffered during the moves: its processed count must stop moving.
    let last = -1;
    await eventually(async () => {
      const st = await callNode<{ processed: number }>(bus, ids[NODES]!, { type: 'status' }, 5000);
      const stable = st.processed === last;
      last = st.processed;
      return stable;
    }, { timeoutMs: 60_000, intervalMs: 1000, what: 'the new node to finish its backlog' });
    life.stop();
    const movedIds = new Set(life.events.filter((e) => e.k === 'tally' && (e.e === 'adopted' || e.e === 'active') && e.n === ids[NODES]).map((e) => e.i));
    const expected = new Map(sent);
    let lost = 0;
    let duplicated = 0;
    const actorIds = Array.from({ length: ACTORS }, (_, i) => `a${i}`);
    for (let i = 0; i < actorIds.length; i += 1000) {
      await Promise.all(
        actorIds.slice(i, i + 1000).map(async (id) => {
          const s = await client.ask<{ log: Array<[string, number]> }>({ kind: 'tally', id }, { type: 'get' });
          for (const sender of ['s0', 's1']) {
            const n = expected.get(`${sender}|tally/${id}`) ?? 0;
            const got = s.log.filter(([f]) => f === sender).map(([, x]) => x);
            const uniq = new Set(got);
            duplicated += got.length - uniq.size;
            for (let k = 0; k < n; k++) if (!uniq.has(k)) lost++;
          }
        }),
      );
    }
    const total = sent.reduce((a, [, n]) => a + n, 0);
    log(`run ${run}: ${movedIds.size} actors moved to the new node (${((movedIds.size / ACTORS) * 100).toFixed(1)} %), lost ${lost}, duplicated ${duplicated} of ${total} sent`);
    return {
      balancedMs: balanced - t0,
      balancedAfterRunningMs: balanced - running,
      movedFraction: movedIds.size / ACTORS,
      shardsMovedFraction: shardsToNew / units.length,
      lost,
      duplicated,
      sent: total,
    };
  } finally {
    await stopAll([peer]);
    await Promise.all(procs.map((p) => p.kill('SIGTERM')));
    await bus.close();
  }
}

const server = await startNatsServer();
try {
  log(`nats-server ${server.url}; ${RUNS} run(s): ${ACTORS} actors on ${NODES} nodes, a 5th joins, load ${RATE} msg/s; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const results: RunResult[] = [];
  for (let r = 0; r < RUNS; r++) results.push(await oneRun(server.url, r));
  const metrics = [
    metric({ name: 'time until balanced (5th node started → every shard where the allocation puts it)', unit: 'ms', runs: results.map((r) => r.balancedMs), higherIsBetter: false, target: 10_000 }),
    metric({ name: 'time until balanced after the 5th node said it was running', unit: 'ms', runs: results.map((r) => r.balancedAfterRunningMs), higherIsBetter: false }),
    metric({ name: 'fraction of actors moved (fair share 1/5)', unit: 'fraction', runs: results.map((r) => r.movedFraction), higherIsBetter: false, baseline: { name: 'fair share 1/5', runs: results.map(() => 0.2) }, targetRatio: 1.25 }),
    metric({ name: 'fraction of shards moved (allocation)', unit: 'fraction', runs: results.map((r) => r.shardsMovedFraction), higherIsBetter: false, baseline: { name: 'fair share 1/5', runs: results.map(() => 0.2) } }),
    metric({ name: 'messages lost', unit: 'msgs', runs: results.map((r) => r.lost), higherIsBetter: false, target: 0 }),
    metric({ name: 'messages duplicated', unit: 'msgs', runs: results.map((r) => r.duplicated), higherIsBetter: false, target: 0 }),
    metric({ name: 'messages sent per run', unit: 'msgs', runs: results.map((r) => r.sent), higherIsBetter: true }),
  ];
  printTable(`bench elasticity — ${ACTORS} actors, ${NODES} → ${NODES + 1} nodes, medians over runs`, metrics);
  log(`wrote ${writeResult('elasticity', metrics)}`);
} catch (err) {
  process.exitCode = 1;
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
} finally {
  await server.stop();
}
process.exit();
