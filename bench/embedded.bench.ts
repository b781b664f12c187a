/**
 * bench embedded — tell events/s through an embedded node (ActorClient → in-memory bus → ActorHost → XState, all in
 * one process) vs bare XState `send` over the same number of actors of the same machine (target ≥ 0.8×), for one
 * actor and for 100 k actors. Each variant runs in its own process (bench/embedded/peer.ts), so neither's heap or GC
 * lands on the other; windows are interleaved. CPU seconds per event are reported per process, and events per CPU
 * second next to events per wall second: on a loaded host the wall rates depend on each process's share of the CPU.
 * Run: `npm run bench -- embedded` (BENCH_ACTOR_COUNTS=1,100000, BENCH_WINDOWS, BENCH_WINDOW_MS; BENCH_CPU_PROF=ours
 * profiles our side). About 60 s; killed at 170 s whatever happens.
 */
import { loadavg } from 'node:os';
import { hardDeadline, planFromEnv, runInterleaved, stats } from './harness/measure.js';
import { startPeer, stopAll, type Peer } from './harness/procs.js';
import { metric, printTable, writeResult, type Metric } from './harness/report.js';
import type { WindowReport } from './actors/common.js';

const plan = planFromEnv({ windows: 5, windowMs: 1000 });
const COUNTS = (process.env.BENCH_ACTOR_COUNTS ?? '1,100000').split(',').map(Number);
hardDeadline(170_000, 'bench embedded');
const log = (s: string) => process.stderr.write(`[bench embedded] ${s}\n`);
const load = () => `load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`;
const label = (n: number) => (n >= 1000 ? `${n / 1000} k actors` : n === 1 ? 'one actor' : `${n} actors`);

interface Window {
  rate: number;
  cpuUs: number;
  cores: number;
}

const toWindow = (r: WindowReport): Window => ({ rate: r.count / r.seconds, cpuUs: (r.cpu / r.count) * 1e6, cores: r.cpu / r.seconds });

const metrics: Metric[] = [];
let peers: Peer[] = [];
try {
  log(`${plan.warmups} warm-up + ${plan.windows} measured windows of ${plan.windowMs} ms per variant, interleaved; ${load()}`);
  for (const n of COUNTS) {
    const start = (v: 'ours' | 'bare') =>
      startPeer(new URL('./embedded/peer.js', import.meta.url), { name: v, args: [v, String(n)], lifetimeMs: 120_000 });
    peers = [await start('ours'), await start('bare')];
    const [ours, bare] = peers as [Peer, Peer];
    for (const p of peers) {
      const r = await p.call<{ live: number; seconds: number }>('prepare', {}, 100_000);
      log(`${p.name}: ${r.live} actors live after ${r.seconds.toFixed(1)} s of activation`);
    }
    const win = (p: Peer) => async () => toWindow(await p.call<WindowReport>('window', { ms: plan.windowMs }));
    const r = await runInterleaved<Window>(plan, { bare: win(bare), ours: win(ours) });
    const col = (v: 'ours' | 'bare', k: keyof Window) => r[v]!.map((x) => x[k]);
    metrics.push(
      metric({
        name: `tell events/s, embedded, ${label(n)}`,
        unit: '1/s',
        runs: col('ours', 'rate'),
        higherIsBetter: true,
        baseline: { name: 'bare XState send', runs: col('bare', 'rate') },
        targetRatio: 0.8,
      }),
      // Per core: the wall rate depends on how much of the shared host each process got; CPU time does not.
      metric({
        name: `tell events per CPU second, embedded, ${label(n)}`,
        unit: '1/s',
        runs: col('ours', 'cpuUs').map((us) => 1e6 / us),
        higherIsBetter: true,
        baseline: { name: 'bare XState send', runs: col('bare', 'cpuUs').map((us) => 1e6 / us) },
        targetRatio: 0.8,
      }),
      metric({
        name: `CPU per event, ${label(n)}`,
        unit: 'µs',
        runs: col('ours', 'cpuUs'),
        higherIsBetter: false,
        baseline: { name: 'bare XState send', runs: col('bare', 'cpuUs') },
      }),
    );
    const med = (v: 'ours' | 'bare') => stats(col(v, 'cores')).median.toFixed(2);
    log(`${label(n)}: CPU s per wall s (median): ours ${med('ours')}, bare ${med('bare')}; ${load()}`);
    await stopAll(peers);
    peers = [];
  }
  printTable('bench embedded — medians over measured windows; ratio = value / baseline from this run', metrics);
  log(`wrote ${writeResult('embedded', metrics)}; ${load()}`);
} catch (err) {
  process.exitCode = 1;
  log(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
} finally {
  await stopAll(peers);
}
process.exit();
