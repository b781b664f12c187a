/**
 * bench memory — heap per idle actor with 100 k actors activated then idle (an embedded node: live cells with their
 * XState actors) vs a bare XState actor of the same machine (`createActor(machine).start()`, kept in a Map by id):
 * target ≤ 1.3×; and the same actors once hibernated (actors.hibernateAfterMs: a compact image each, target ≤ 1.5 KB),
 * with the cost of waking each by one tell next to the cost of activating it. Each measurement is a fresh process started with --expose-gc (bench/memory/peer.ts): heapUsed after
 * full GCs before and after activating, divided by the actor count. Ours and bare alternate.
 *
 * Per connected WebSocket client (socket + connection actor, target ≤ 16 KB) is measured by bench gateway, which
 * already holds ~20 k real clients against a bare `ws` server in the same run; starting 20 k sockets again here would
 * only repeat it. Its figure is copied from bench/results/gateway.json, named as such, with that run's date.
 * Run: `npm run bench -- memory` (BENCH_ACTORS, BENCH_WINDOWS = runs per variant). About 30 s on an idle host; killed at 15 min (three variants, each a fresh process per run).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { hardDeadline, planFromEnv, runInterleaved, stats } from './harness/measure.js';
import { resultsDir } from './harness/paths.js';
import { startPeer } from './harness/procs.js';
import { metric, printTable, writeResult, type Metric } from './harness/report.js';

// Fresh processes: no warm-up window is needed (each peer warms its own code paths before measuring).
const plan = { ...planFromEnv({ windows: 3, windowMs: 0 }), warmups: 0 };
const N = Number(process.env.BENCH_ACTORS ?? 100_000);
// Activation is bounded by the host's load: 100 k actors take ~2 s on an idle 2-core host and over a minute at a
// load average of 20. The budget allows the latter; the run still stops by itself.
hardDeadline(900_000, 'bench memory');
const log = (s: string) => process.stderr.write(`[bench memory] ${s}\n`);
const load = () => `load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`;

interface Sample {
  bytesPerActor: number;
  live: number;
  seconds: number;
  cpu: number;
  /** Hibernated only: waking every actor by one tell, wall and CPU seconds, and how many woke. */
  wake?: number;
  wakeCpu?: number;
  woken?: number;
}

async function sample(variant: 'ours' | 'hibernated' | 'bare'): Promise<Sample> {
  const p = await startPeer(new URL('./memory/peer.js', import.meta.url), {
    name: variant,
    args: [variant, String(N)],
    execArgv: ['--expose-gc'],
    lifetimeMs: 200_000,
  });
  try {
    const r = await p.call<Sample>('measure', {}, 190_000);
    const woke = r.wake === undefined ? '' : `; woke ${r.woken} in ${r.wake.toFixed(1)} s (${((r.wakeCpu! / r.woken!) * 1e6).toFixed(1)} µs CPU each)`;
    log(`${variant}: ${r.live} idle actors, ${(r.bytesPerActor / 1024).toFixed(2)} KB each (activated in ${r.seconds.toFixed(1)} s, ${((r.cpu / r.live) * 1e6).toFixed(1)} µs CPU each)${woke}; ${load()}`);
    return r;
  } finally {
    await p.stop();
  }
}

/** The per-client figure of the last bench gateway run, if there is one. */
function gatewayClientMetric(): Metric | undefined {
  const file = join(resultsDir(), 'gateway.json');
  if (!existsSync(file)) return undefined;
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { date: string; metrics: Metric[] };
  const m = doc.metrics.find((x) => x.name.startsWith('heap per client'));
  return m && { ...m, name: `${m.name} — from bench gateway, ${doc.date.slice(0, 10)}` };
}

try {
  log(`${N} actors; ${plan.windows} runs per variant, alternating; ${load()}`);
  const r = await runInterleaved<Sample>(plan, { bare: () => sample('bare'), ours: () => sample('ours'), hibernated: () => sample('hibernated') });
  const kb = (v: 'ours' | 'hibernated' | 'bare') => r[v]!.map((s) => s.bytesPerActor / 1024);
  const perActorUs = (xs: Sample[], f: (s: Sample) => number) => xs.map((s) => (f(s) / s.live) * 1e6);
  const metrics: Metric[] = [
    metric({
      name: `heap per idle actor (${N / 1000} k actors)`,
      unit: 'KB',
      runs: kb('ours'),
      higherIsBetter: false,
      baseline: { name: 'bare XState actor', runs: kb('bare') },
      targetRatio: 1.3,
    }),
    metric({
      name: `heap per hibernated idle actor (${N / 1000} k actors)`,
      unit: 'KB',
      runs: kb('hibernated'),
      higherIsBetter: false,
      baseline: { name: 'bare XState actor', runs: kb('bare') },
      target: 1.5,
    }),
    // Waking is restoring the image (decode + createActor from the snapshot) and running the turn; activation is
    // creating the cell and the actor and running the turn. Both CPU µs per actor, in the same process.
    metric({
      name: 'wake-up CPU per hibernated actor (one tell)',
      unit: 'µs',
      runs: r.hibernated!.map((s) => (s.wakeCpu! / s.woken!) * 1e6),
      higherIsBetter: false,
      baseline: { name: 'activation of a new actor (one tell)', runs: perActorUs(r.hibernated!, (s) => s.cpu) },
    }),
    metric({
      name: 'activation rate (tell → live cell; bare: createActor + send)',
      unit: 'actors/s',
      runs: r.ours!.map((s) => s.live / s.seconds),
      higherIsBetter: true,
      baseline: { name: 'bare XState actor', runs: r.bare!.map((s) => s.live / s.seconds) },
    }),
  ];
  const gw = gatewayClientMetric();
  if (gw) metrics.push(gw);
  else log('no bench/results/gateway.json: run `npm run bench -- gateway` for the per-client figure');
  printTable('bench memory — medians over runs (a fresh process each); ratio = value / baseline from this run', metrics);
  log(`ours ${stats(kb('ours')).median.toFixed(2)} KB vs bare ${stats(kb('bare')).median.toFixed(2)} KB per actor; wrote ${writeResult('memory', metrics)}; ${load()}`);
} catch (err) {
  process.exitCode = 1;
  log(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
}
process.exit();
