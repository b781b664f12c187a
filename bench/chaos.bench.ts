/**
 * bench chaos — a bounded, seeded fault schedule against 3 nats-servers (R3), 1 gateway and 3 workers as processes,
 * on test hosts (network namespaces) when run as root, under durable (ledger) and in-memory (tally) load with
 * per-actor sequence numbers: kill -9 of a worker, of a nats-server and of the gateway, SIGSTOP of a worker past
 * deadAfterMs, a worker host cut off from the others, drain (dev/chaos/). Prints acknowledged, lost, duplicated, out of
 * order, failed by code, the longest unavailability per fault, overlapping instances and node crashes, and writes
 * bench/results/chaos.json. Targets: 0 lost, 0 duplicated, 0 out of order, 0 overlapping, 0 node
 * crashes; unavailability is reported.
 *
 * Run: `npm run chaos -- [--duration S] [--seed N] [--faults kind,kind]` (defaults 180 s, a seed from the clock,
 * printed, every fault kind; `--faults kill-nats` runs only nats-server kills, e.g. for their per-stream breakdown).
 * Cluster timings are the product defaults (config/defaults.ts) unless CHAOS_DEAD_AFTER_MS (and CHAOS_HEARTBEAT_MS) are set.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS } from '../config/defaults.js';
import { runChaos, type ChaosResult } from '../dev/chaos/run-chaos.js';
import { FAULT_KINDS, type FaultKind } from '../dev/chaos/schedule.js';
import { PAUSE_MS } from '../dev/chaos/stream-pauses.js';
import { hardDeadline } from './harness/measure.js';
import { appendResult, metric, printTable, type Metric } from './harness/report.js';
import { tmpdir } from 'node:os';

const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const durationS = Number(arg('duration') ?? 180);
const kinds = arg('faults')?.split(',').map((k) => k.trim()) as FaultKind[] | undefined;
for (const k of kinds ?? []) {
  if (!FAULT_KINDS.includes(k)) {
    process.stderr.write(`bench chaos: --faults: unknown fault kind "${k}" (known: ${FAULT_KINDS.join(', ')})\n`);
    process.exit(2);
  }
}
const seed = Number(arg('seed') ?? Date.now() % 1_000_000);
const deadAfterMs = process.env.CHAOS_DEAD_AFTER_MS ? Number(process.env.CHAOS_DEAD_AFTER_MS) : undefined;
const heartbeatMs = process.env.CHAOS_HEARTBEAT_MS ? Number(process.env.CHAOS_HEARTBEAT_MS) : undefined;
const log = (s: string) => process.stderr.write(`[chaos] ${s}\n`);
hardDeadline(durationS * 1000 + 300_000, 'bench chaos');
log(`seed ${seed}, ${durationS} s (re-run this schedule with --seed ${seed} --duration ${durationS})`);

function chaosMetrics(r: ChaosResult): Metric[] {
  const count = (name: string, v: number, target?: number) => metric({ name, unit: 'count', runs: [v], higherIsBetter: false, target });
  const m: Metric[] = [
    metric({ name: 'acknowledged updates', unit: 'count', runs: [r.acknowledged], higherIsBetter: true }),
    metric({ name: 'updates sent', unit: 'count', runs: [r.sent], higherIsBetter: true }),
    count('durable: acknowledged lost', r.durable.lost, 0),
    count('durable: duplicated', r.durable.duplicated, 0),
    count('durable: out of order', r.durable.outOfOrder, 0),
    count('durable: NOT_OWNER yet applied', r.durable.notOwnerApplied, 0),
    count('in-memory: duplicated', r.memory.duplicated, 0),
    count('in-memory: out of order', r.memory.outOfOrder, 0),
    count('in-memory: NOT_OWNER yet applied', r.memory.notOwnerApplied, 0),
    count('in-memory: acknowledged lost (a killed node loses its in-memory actors by design)', r.memory.lost),
    count('overlapping instances', r.overlapping.length, 0),
    ...Object.entries(r.overlappingByFault).sort().map(([fault, n]) => count(`overlapping instances: ${fault}`, n)),
    count('node crashes (exits not asked for, failed starts)', r.crashes.length, 0),
  ];
  for (const [code, n] of Object.entries(r.failedByCode).sort()) m.push(count(`failed: ${code}`, n));
  for (const [fault, u] of Object.entries(r.unavailability).sort()) {
    m.push(metric({ name: `longest unavailability of one actor: ${fault}`, unit: 'ms', runs: [u.ms], higherIsBetter: false }));
  }
  for (const k of r.natsKills) {
    const ms = (name: string, v: number) => metric({ name: `${k.fault}: ${name}`, unit: 'ms', runs: [v], higherIsBetter: false });
    m.push(
      count(`${k.fault}: streams it led (of ${k.streams})`, k.led.length),
      k.electionMs === null ? count(`${k.fault}: a led stream without a leader after 60 s`, 1, 0) : ms('election, longest of its streams (same run)', k.electionMs),
      count(`${k.fault}: actors of its streams paused ≥ ${PAUSE_MS} ms (of ${k.ledStreams.actors})`, k.ledStreams.paused),
      ms('longest pause, actors of its streams', k.ledStreams.longestMs),
      ...(k.overElectionMs === null ? [] : [metric({ name: `${k.fault}: longest pause beyond its own stream's election`, unit: 'ms', runs: [k.overElectionMs], higherIsBetter: false })]),
      count(`${k.fault}: durable actors of other streams paused (of ${k.otherStreams.actors})`, k.otherStreams.paused, 0),
      ms('longest pause, durable actors of other streams', k.otherStreams.longestMs),
      count(`${k.fault}: in-memory actors paused (of ${k.inMemory.actors})`, k.inMemory.paused, 0),
      ms('longest pause, in-memory actors', k.inMemory.longestMs),
    );
  }
  return m;
}

try {
  const r = await runChaos({
    seed,
    durationMs: durationS * 1000,
    slotMs: Math.max(15_000, (deadAfterMs ?? DEFAULTS.cluster.deadAfterMs) * 4),
    kinds,
    durableActors: 200,
    memoryActors: 100,
    ratePerSec: 300,
    shards: 32,
    heartbeatMs,
    deadAfterMs,
    log,
  });
  const metrics = chaosMetrics(r);
  printTable(`bench chaos — seed ${seed}, ${durationS} s, ${r.mode === 'netns' ? 'each process on its own test host' : 'loopback'}; faults: ${r.faults.map((f) => f.kind).join(', ')}`, metrics);
  log(`wrote ${appendResult('chaos', metrics, { seed, durationS, mode: r.mode })} (kept with the runs before it)`);
  for (const k of r.natsKills) {
    const e = k.elections.map((x) => `${x.stream.replace(/^KV_[^_]+_/, '')} ${x.ms ?? '-'} ms → ${x.newLeader || '?'}`).join(', ');
    if (k.pausedOutside.length) log(`${k.fault}: paused outside its streams (actor ms node): ${k.pausedOutside.map((x) => `${x.actor} ${x.ms} ${x.node || '?'}`).join(', ')}`);
    log(`${k.fault} (${k.server}) led ${k.led.length} of ${k.streams} streams; elections: ${e || 'none'}; longest pauses: its streams ${k.ledStreams.longestMs} ms (${k.ledStreams.longestActor}), other streams ${k.otherStreams.longestMs} ms (${k.otherStreams.longestActor}), in-memory ${k.inMemory.longestMs} ms (${k.inMemory.longestActor})`);
  }
  const detail = join(tmpdir(), `chaos-detail-${seed}.json`);
  writeFileSync(detail, JSON.stringify({ ...r, crashes: r.crashes.map((c) => ({ ...c, tail: c.tail.slice(-600) })), overlapping: r.overlapping.slice(0, 50) }, null, 2) + '\n');
  for (const s of [...r.durable.samples, ...r.memory.samples.filter((x) => !x.includes('not in the log')), ...r.overlapping.slice(0, 10).map((v) => `${v.actor} active on ${v.live} and ${v.second}`)]) log(`problem: ${s}`);
  for (const c of r.crashes) log(`crash: ${c.node} (${c.code}): ${c.tail.split('\n').filter(Boolean).slice(-3).join(' | ')}`);
} catch (err) {
  process.exitCode = 1;
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
}
process.exit();
