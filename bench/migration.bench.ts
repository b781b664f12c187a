/**
 * bench migration — 10 k actors under load moved to a new node: total time, per-actor pause p99, lost, duplicated
 * (targets ≤ 1 s, ≤ 50 ms, 0, 0; docs/BENCH-RULES.md). Each run: node A (a process) hosts 10 k in-memory actors
 * receiving sequenced tells from a load-generator process; A is set draining while it is the only worker (so nothing
 * moves), then node B starts and every shard moves to it live. Pause per actor = its "adopted on B" minus its "closed
 * on A" (lifecycle events, µs clocks of one machine). What callers see is measured too: 50 timed `get` asks a second,
 * their latency while the move runs against before it. Lost/duplicated come from each actor's sequence log afterwards.
 * Run: `npm run bench -- migration` (BENCH_RUNS, default 3; BENCH_ACTORS, default 10000).
 */
import { loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { ActorClient } from '../actors/runtime/client.js';
import { createNatsBus } from '../bus/nats/nats-bus.js';
import { createNatsStore } from '../bus/nats/nats-store.js';
import { callNode } from '../cluster/control.js';
import { demoApp } from '../actors/demo/counter.js';
import { startNatsServer } from '../dev/nats-server.js';
import { startNodeProcess, type Proc } from '../dev/procs.js';
import { ownersOf, watchLeases, watchLifecycle } from '../dev/cluster-watch.js';
import { eventually } from '../dev/wait.js';
import { hardDeadline, stats } from './harness/measure.js';
import { startPeer, stopAll, type Peer } from './harness/procs.js';
import { metric, printTable, writeResult } from './harness/report.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ACTORS = Number(process.env.BENCH_ACTORS ?? 10_000);
const RATE = Number(process.env.BENCH_RATE ?? 5000);
/** `get` asks a second from the load process, timed: the latency callers see around the move. */
const PROBE_RATE = Number(process.env.BENCH_PROBE_RATE ?? 50);
const SHARDS = 64;
hardDeadline(240_000, 'bench migration');
const log = (s: string) => process.stderr.write(`[bench migration] ${s}\n`);
// Failure detection at the product default (4 s): the test suite's 1.5 s is too eager for a machine at full load.
// Demo app only: the bench moves 10 k actors, not the empty shards of every other built-in kind.
const flags = ['--set', 'node.builtinApps=demo', ...(process.env.BENCH_LOG ? ['--log-level', process.env.BENCH_LOG] : []), '--set', 'cluster.deadAfterMs=4000', '--set', 'cluster.heartbeatMs=250', '--set', `actors.shards=${SHARDS}`, '--set', 'cluster.maxConcurrentMoves=100000', '--set', 'actors.passivateAfterMs=600000'];

interface RunResult {
  totalMs: number;
  wallMs: number;
  pauses: number[];
  /** Latency of `get` asks (ms) sent before the move started, and while it ran; asks that failed. */
  askBefore: number[];
  askDuring: number[];
  askFailed: number;
  moved: number;
  lost: number;
  duplicated: number;
  sent: number;
}

async function oneRun(url: string, run: number): Promise<RunResult> {
  const prefix = `migb${run}`;
  const procs: Proc[] = [];
  let peer: Peer | undefined;
  const bus = await createNatsBus({ prefix, servers: [url] });
  try {
    const store = createNatsStore({ connection: bus.connection, prefix });
    const client = new ActorClient(bus, { shards: SHARDS, askTimeoutMs: 10_000 });
    procs.push(await startNodeProcess({ natsUrl: url, prefix, id: `a${run}`, extra: flags }));
    // Load starts only once node A subscribes to every shard: a tell to a shard nobody holds yet is dropped (tells
    // are at most once when no node owns the shard), and the bench would count it as lost by the move.
    const units = demoApp.kinds.length * SHARDS;
    await eventually(async () => (await callNode<{ shards: number }>(bus, `a${run}`, { type: 'status' }, 2000)).shards === units, { timeoutMs: 20_000, what: `node a${run} holding all ${units} shards` });
    peer = await startPeer(new URL('./migration/load-peer.js', import.meta.url), { name: 'load', args: [url, prefix, String(SHARDS)], lifetimeMs: 120_000 });
    await peer.call('start', { actors: ACTORS, rate: RATE, probeRate: PROBE_RATE });
    await eventually(async () => (await callNode<{ actors: number }>(bus, `a${run}`, { type: 'status' }, 2000)).actors >= ACTORS, { timeoutMs: 30_000, what: `${ACTORS} actors active` });
    await callNode(bus, `a${run}`, { type: 'drain' }, 5000);
    const life = watchLifecycle(bus);
    const leases = await watchLeases(store);
    await bus.flush();
    const t0 = Date.now();
    procs.push(await startNodeProcess({ natsUrl: url, prefix, id: `b${run}`, extra: flags }));
    await leases.until((ls) => {
      const owners = ownersOf(ls);
      return ls.size === units && owners.size === 1 && owners.has(`b${run}`) && [...ls.values()].every((l) => l.st === 'owned');
    }, 60_000, 'every shard on the new node').catch((err) => {
      writeFileSync(`/tmp/mig-a${run}.log`, procs[0]!.output());
      writeFileSync(`/tmp/mig-b${run}.log`, procs[1]?.output() ?? "");
      log(`node outputs in /tmp/mig-a${run}.log and /tmp/mig-b${run}.log`);
      throw err;
    }).finally(() => leases.stop());
    const wallMs = Date.now() - t0;

    await eventually(() => life.events.filter((e) => e.e === 'active' && e.n === `b${run}`).length >= ACTORS, { timeoutMs: 10_000 }).catch(() => undefined);
    const { sent, probes } = (await peer.call('stop')) as unknown as { sent: Array<[string, number]>; probes: Array<[number, number, string]> };
    life.stop();
    // The new node may still be working through what it buffered during the move: wait until it has applied
    // everything (its processed count stops moving), bounded, before reading any log.
    let last = -1;
    await eventually(async () => {
      const st = await callNode<{ processed: number }>(bus, `b${run}`, { type: 'status' }, 5000);
      const stable = st.processed === last;
      last = st.processed;
      return stable;
    }, { timeoutMs: 60_000, intervalMs: 1000, what: 'the new node to finish its backlog' });
    const closedAt = new Map<string, number>();
    const activeAt = new Map<string, number>();
    for (const e of life.events) {
      if (e.k !== 'tally') continue;
      if (e.e === 'closed' && e.n === `a${run}`) closedAt.set(e.i, e.t);
      if ((e.e === 'adopted' || e.e === 'active') && e.n === `b${run}` && !activeAt.has(e.i)) activeAt.set(e.i, e.t);
    }
    const pauses: number[] = [];
    for (const [id, t] of closedAt) {
      const a = activeAt.get(id);
      if (a !== undefined) pauses.push((a - t) / 1000);
    }
    // BENCH_EVENTS=1: the run's lifecycle events and timed asks to /tmp for a closer look at where pauses come from.
    if (process.env.BENCH_EVENTS) {
      writeFileSync(`/tmp/mig-events-${run}.json`, JSON.stringify(life.events));
      writeFileSync(`/tmp/mig-asks-${run}.json`, JSON.stringify(probes));
    }
    const firstClose = Math.min(...closedAt.values());
    const lastActive = Math.max(...activeAt.values());
    // What a caller sees: asks sent while the move ran against asks sent in the 1 s before node B was started (same
    // actors, same load, every actor active on A).
    const bStartUs = t0 * 1000;
    const askBefore = probes.filter(([t, ms]) => t < bStartUs && t >= bStartUs - 1_000_000 && ms >= 0).map(([, ms]) => ms);
    const askDuring = probes.filter(([t, ms]) => t >= firstClose && t <= lastActive && ms >= 0).map(([, ms]) => ms);
    const askFailed = probes.filter(([, ms]) => ms < 0).length;
    // Lost / duplicated: every actor's log against what was sent to it.
    const expected = new Map(sent);
    let lost = 0;
    let duplicated = 0;
    const samples: string[] = [];
    const ids = Array.from({ length: ACTORS }, (_, i) => `a${i}`);
    for (let i = 0; i < ids.length; i += 500) {
      await Promise.all(
        ids.slice(i, i + 500).map(async (id) => {
          const want = [...['s0', 's1']].map((s) => expected.get(`${s}|tally/${id}`) ?? 0).reduce((a, b) => a + b, 0);
          const s = await eventually(async () => {
            const v = await client.ask<{ log: Array<[string, number]> }>({ kind: 'tally', id }, { type: 'get' });
            return v.log.length >= want ? v : undefined;
          }, { timeoutMs: 10_000 }).catch(() => client.ask<{ log: Array<[string, number]> }>({ kind: 'tally', id }, { type: 'get' }));
          for (const sender of ['s0', 's1']) {
            const n = expected.get(`${sender}|tally/${id}`) ?? 0;
            const got = s.log.filter(([f]) => f === sender).map(([, x]) => x);
            const uniq = new Set(got);
            duplicated += got.length - uniq.size;
            const missing: number[] = [];
            for (let k = 0; k < n; k++) if (!uniq.has(k)) missing.push(k);
            lost += missing.length;
            if (missing.length && samples.length < 8) samples.push(`${id} ${sender}: sent ${n}, got ${got.length}, missing ${missing.slice(0, 6).join(',')}${missing.length > 6 ? '…' : ''}`);
          }
        }),
      );
    }
    const total = sent.reduce((a, [, n]) => a + n, 0);
    if (samples.length) log(`lost samples:\n  ${samples.join('\n  ')}`);
    log(`run ${run}: moved ${activeAt.size} actors in ${((lastActive - firstClose) / 1000).toFixed(0)} ms (wall ${wallMs} ms incl. node start), pause p99 ${p99(pauses).toFixed(1)} ms (max ${stats(pauses).max.toFixed(1)}); lost ${lost}, dup ${duplicated} of ${total} sent`);
    return { totalMs: (lastActive - firstClose) / 1000, wallMs, pauses, askBefore, askDuring, askFailed, moved: activeAt.size, lost, duplicated, sent: total };
  } finally {
    if (process.env.BENCH_LOG) {
      // Node logs for a closer look (BENCH_LOG=info shows each move's phase timings).
      procs.forEach((p, i) => writeFileSync(`/tmp/mig-${i ? 'b' : 'a'}${run}.log`, p.output()));
    }
    await stopAll([peer]);
    await Promise.all(procs.map((p) => p.kill('SIGTERM')));
    await bus.close();
  }
}

function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))] ?? 0;
}

const server = await startNatsServer();
try {
  log(`nats-server ${server.url}; ${RUNS} runs of ${ACTORS} actors at ${RATE} msg/s; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const results: RunResult[] = [];
  for (let r = 0; r < RUNS; r++) results.push(await oneRun(server.url, r));
  const metrics = [
    metric({ name: 'migration total time (first actor closed → last active)', unit: 'ms', runs: results.map((r) => r.totalMs), higherIsBetter: false, target: 1000 }),
    metric({ name: 'per-actor pause p99', unit: 'ms', runs: results.map((r) => p99(r.pauses)), higherIsBetter: false, target: 50 }),
    metric({ name: 'per-actor pause p50', unit: 'ms', runs: results.map((r) => stats(r.pauses).median), higherIsBetter: false }),
    metric({ name: 'ask p99 while the move runs', unit: 'ms', runs: results.map((r) => p99(r.askDuring)), higherIsBetter: false, baseline: { name: 'before node B started', runs: results.map((r) => p99(r.askBefore)) } }),
    metric({ name: 'ask p50 while the move runs', unit: 'ms', runs: results.map((r) => stats(r.askDuring).median), higherIsBetter: false, baseline: { name: 'before node B started', runs: results.map((r) => stats(r.askBefore).median) } }),
    metric({ name: 'asks failed (timeout or error)', unit: 'asks', runs: results.map((r) => r.askFailed), higherIsBetter: false, target: 0 }),
    metric({ name: 'actors moved', unit: 'actors', runs: results.map((r) => r.moved), higherIsBetter: true, target: ACTORS }),
    metric({ name: 'messages lost', unit: 'msgs', runs: results.map((r) => r.lost), higherIsBetter: false, target: 0 }),
    metric({ name: 'messages duplicated', unit: 'msgs', runs: results.map((r) => r.duplicated), higherIsBetter: false, target: 0 }),
    metric({ name: 'wall time, new node start → all shards on it', unit: 'ms', runs: results.map((r) => r.wallMs), higherIsBetter: false }),
    metric({ name: 'messages sent per run (load during the move)', unit: 'msgs', runs: results.map((r) => r.sent), higherIsBetter: true }),
  ];
  printTable('bench migration — medians over runs', metrics);
  log(`wrote ${writeResult('migration', metrics)}`);
} catch (err) {
  process.exitCode = 1;
  log(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
} finally {
  await server.stop();
}
process.exit();
