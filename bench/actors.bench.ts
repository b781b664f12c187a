/**
 * bench actors — a sender process → an actor node process over NATS, against baselines measured in the same run:
 *   - tell events/s into 10 k in-memory actors vs the raw pipeline (msgpackr → nats.js → unpack → XState send into
 *     as many bare actors, in its own process): target ≥ 0.7×;
 *   - ask p50/p99 at 1 in flight vs the raw request floor (p50 ≤ 1.3×, p99 ≤ 2×), and req/s at 64 in flight
 *     (≥ 0.6× the floor at 64; the bare XState responder beside it shows what XState alone allows); CPU per message
 *     of every process (sender, receiver, nats-server).
 * The node is a dedicated peer (bench/actors/node-peer.ts) that runs `startNode`, the code `gatehouse node` runs,
 * with one app holding the bench kind (the demo counter machine, in memory) and owning every shard.
 * Run: `npm run bench -- actors` (BENCH_ACTORS, BENCH_WINDOWS, BENCH_WINDOW_MS; BENCH_CPU_PROF=node profiles the
 * node). About 80 s; killed at 170 s whatever happens; every process it starts is stopped on exit.
 */
import { loadavg } from 'node:os';
import { DEFAULTS } from '../config/index.js';
import { startNatsServer, type NatsServerHandle } from '../dev/nats-server.js';
import { hardDeadline, planFromEnv } from './harness/measure.js';
import { startPeer, stopAll, type Peer } from './harness/procs.js';
import { printTable, writeResult, type Metric } from './harness/report.js';
import { askPhase } from './actors/ask-phase.js';
import { tellPhase } from './actors/tell-phase.js';

const plan = planFromEnv({ windows: 5, windowMs: 1000 });
const ACTORS = Number(process.env.BENCH_ACTORS ?? 10_000);
/** BENCH_PHASES=tell,ask1,ask64 (any subset): e.g. to profile one phase alone. */
const PHASES = new Set((process.env.BENCH_PHASES ?? 'tell,ask1,ask64').split(','));
hardDeadline(170_000, 'bench actors');
const log = (s: string) => process.stderr.write(`[bench actors] ${s}\n`);
// Other work on the host shows up in every figure here; the load average says how much there was.
const load = () => `load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`;

let server: NatsServerHandle | undefined;
const peers: Peer[] = [];
try {
  // Core NATS only: the bench kind keeps its state in memory, so nothing needs JetStream.
  server = await startNatsServer({ jetstream: false });
  const peer = (file: string, name: string, args: string[]) =>
    startPeer(new URL(file, import.meta.url), { name, args: [server!.url, ...args], lifetimeMs: 160_000 });
  const [node, raw] = await Promise.all([peer('./actors/node-peer.js', 'node', []), peer('./actors/raw-peer.js', 'raw', [])]);
  // Receivers first: nothing the sender publishes may be lost to missing interest.
  const sender = await peer('./actors/sender-peer.js', 'sender', [String(DEFAULTS.actors.shards)]);
  peers.push(node!, raw!, sender);
  const p = { node: node!, raw: raw!, sender, serverPid: server.pid };
  log(`nats-server pid ${server.pid}; node pid ${node!.pid}, raw pid ${raw!.pid}, sender pid ${sender.pid}; ${ACTORS} actors`);
  log(`${plan.warmups} warm-up + ${plan.windows} measured windows of ${plan.windowMs} ms per variant, interleaved; ${load()}`);
  const metrics: Metric[] = [];
  if (PHASES.has('tell')) {
    log('tell throughput…');
    metrics.push(...(await tellPhase(p, plan, ACTORS, log)));
  }
  for (const inflight of [1, 64]) {
    if (!PHASES.has(`ask${inflight}`)) continue;
    log(`ask, ${inflight} in flight…; ${load()}`);
    metrics.push(...(await askPhase(p, plan, ACTORS, inflight, log)));
  }
  printTable('bench actors — medians over measured windows; ratio = value / baseline from this run', metrics);
  log(`wrote ${writeResult('actors', metrics)}; ${load()}`);
} catch (err) {
  process.exitCode = 1;
  log(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
} finally {
  await stopAll(peers);
  await server?.stop();
}
process.exit();
