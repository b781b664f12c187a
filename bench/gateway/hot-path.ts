/**
 * The gateway's request path alone, for profiling and quick comparisons (issue 16): one gateway and one bare `ws`
 * echo server, a few held clients each (HOT_CLIENTS, default 128), then windows of request → answer at 64 and at 1 in
 * flight, interleaved, with each server's CPU per request (user + system, system apart) and the RTT p50. No
 * connect-rate or heap figures: that is `bench gateway`'s job.
 *
 *   node dist/bench/gateway/hot-path.js            (HOT_WINDOWS, default 6; HOT_WINDOW_MS, default 3000)
 *   BENCH_CPU_PROF='^server-ours$' node dist/bench/gateway/hot-path.js   → .tmp/prof/server-ours.*.cpuprofile
 *   HOT_PERF=1 (servers with --perf-basic-prof, for `perf record -p`; their pids are logged), HOT_FLAGS='--trace-deopt
 *   …' (the gateway's)
 *   HOT_PROF=1: the servers sample (100 µs) during the measured windows only; self time per request by area and by
 *   function is printed at the end (phase-prof.ts), profiles in .tmp/prof/hot-<server>-<inflight>-w<n>.cpuprofile
 *   HOT_ONLY64=1: the 64-in-flight windows only; HOT_INFLIGHT=1 (or 64,8,1 …): those in-flight counts' windows
 *   HOT_WARMUP: windows discarded first (default 3: V8 was still optimizing the gateway's path through windows 1-2)
 *   HOT_BASE=<another build's dist/bench/gateway/server-peer.js>: a third server, that build's gateway, in the same
 *   windows: a change's before and after on the same load (a loaded host swings between runs by tens of percent).
 *   Several builds, comma-separated, run as base, base2, base3 … (bisecting: copies of dist/ cut short at different
 *   points of the path, each compared in the same windows)
 */
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Histogram, stats, type HistogramData } from '../harness/measure.js';
import { repoRoot } from '../harness/paths.js';
import { startPeer, stopAll, type Peer } from '../harness/procs.js';
import { areas, formatAreas } from './phase-prof.js';

const CLIENTS = Number(process.env.HOT_CLIENTS ?? 128);
const WINDOWS = Number(process.env.HOT_WINDOWS ?? 6);
const WINDOW_MS = Number(process.env.HOT_WINDOW_MS ?? 3000);
const PROF = process.env.HOT_PROF === '1';
const INFLIGHT = process.env.HOT_INFLIGHT ? process.env.HOT_INFLIGHT.split(',').map(Number) : process.env.HOT_ONLY64 === '1' ? [64] : [64, 1];
const BASES = (process.env.HOT_BASE ?? '').split(',').filter(Boolean);
const baseName = (i: number) => (i === 0 ? 'base' : `base${i + 1}`);
const WARMUP = Number(process.env.HOT_WARMUP ?? 3);
const log = (s: string) => process.stderr.write(`[hot-path] ${s}\n`);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

interface RttResult {
  count: number;
  seconds: number;
  hist: HistogramData;
}
interface Usage {
  user: number;
  system: number;
}
interface Win {
  rate: number;
  cpuUs: number;
  sysUs: number;
  p50: number;
  p99: number;
}
interface Server {
  /** ours, bare, or base, base2 … (HOT_BASE's builds in order) */
  name: string;
  server: Peer;
  loader: Peer;
}

const peers: Peer[] = [];
try {
  const names: Array<Server['name']> = ['ours', 'bare', ...BASES.map((_, i) => baseName(i))];
  const start = (name: Server['name']) => {
    const script = name.startsWith('base') ? BASES[name === 'base' ? 0 : Number(name.slice(4)) - 1]! : new URL('./server-peer.js', import.meta.url);
    const flags = name === 'bare' ? [] : (process.env.HOT_FLAGS ?? '').split(' ').filter(Boolean);
    const execArgv = ['--expose-gc', ...(process.env.HOT_PERF === '1' ? ['--perf-basic-prof'] : []), ...flags];
    return startPeer(script, { name: `server-${name}`, args: [name === 'bare' ? 'bare' : 'ours'], execArgv, lifetimeMs: 900_000, readyTimeoutMs: 60_000 });
  };
  const loader = (i: number) => startPeer(new URL('./load-peer.js', import.meta.url), { name: `load${i}`, lifetimeMs: 900_000, readyTimeoutMs: 60_000 });
  const started = await Promise.all(names.flatMap((n, i) => [start(n), loader(i)]));
  peers.push(...started);
  const servers: Server[] = names.map((name, i) => ({ name, server: started[2 * i]!, loader: started[2 * i + 1]! }));
  for (const [i, s] of servers.entries()) {
    const mode = s.name === 'bare' ? 'bare' : 'native';
    await s.loader.call('open', { url: String(s.server.info.url), n: CLIENTS, mode, localAddress: `127.0.0.${2 + i}` }, 120_000);
  }
  log(`server pids: ${servers.map((s) => `${s.name} ${s.server.pid}`).join(', ')}`);
  // CPU with the clients held and nothing asked: what the windows' CPU per request also carries.
  const idle = async (s: Peer) => {
    const c0 = (await s.call('cpu')).cpuTotal;
    await new Promise((r) => setTimeout(r, 3000));
    return (((await s.call('cpu')).cpuTotal - c0) / 3) * 100;
  };
  const idles: string[] = [];
  for (const s of servers) idles.push(`${s.name} ${(await idle(s.server)).toFixed(1)} %`);
  log(`idle CPU: ${idles.join(', ')}; load ${load()}`);

  const profDir = join(repoRoot(), '.tmp', 'prof');
  if (PROF) mkdirSync(profDir, { recursive: true });
  const profiled = new Map<string, { files: string[]; requests: number }>();
  const total = new Map<string, number>();
  let w = 0;
  const window = async (s: Server, inflight: number): Promise<Win> => {
    const prof = PROF && w >= WARMUP;
    const key = `${s.name}-${inflight}`;
    const file = join(profDir, `hot-${key}-w${w}.cpuprofile`);
    if (prof) await s.server.call('profStart', { intervalUs: 100 });
    const u0 = await s.server.call<Usage>('usage');
    const r = (await s.loader.call<RttResult>('rtt', { ms: WINDOW_MS, inflight }, WINDOW_MS + 30_000)) as unknown as RttResult;
    const u1 = await s.server.call<Usage>('usage');
    if (prof) {
      await s.server.call('profStop', { file }, 60_000);
      const p = profiled.get(key) ?? { files: [], requests: 0 };
      p.files.push(file);
      p.requests += r.count;
      profiled.set(key, p);
    }
    total.set(s.name, (total.get(s.name) ?? 0) + r.count);
    const n = Math.max(1, r.count);
    const cpuUs = (u1.user - u0.user + u1.system - u0.system) / n;
    return { rate: r.count / r.seconds, cpuUs, sysUs: (u1.system - u0.system) / n, p50: Histogram.from(r.hist).percentile(50), p99: Histogram.from(r.hist).percentile(99) };
  };
  const runs = new Map<string, Win[]>();
  const f = (x: Win) => `${x.rate.toFixed(0)}/s ${x.cpuUs.toFixed(1)}us (sys ${x.sysUs.toFixed(1)}) p50 ${x.p50.toFixed(0)}`;
  for (; w < WARMUP + WINDOWS; w++) {
    const parts: string[] = [];
    for (const inflight of INFLIGHT) {
      for (const s of servers) {
        const r = await window(s, inflight);
        if (w < WARMUP) continue;
        const k = `${s.name}${inflight}`;
        runs.set(k, [...(runs.get(k) ?? []), r]);
        parts.push(`${inflight}: ${s.name} ${f(r)}`);
      }
    }
    if (w >= WARMUP) log(`w${w}: ${parts.join(' | ')} ; load ${load()}`);
  }
  const med = (k: string, x: keyof Win) => stats(runs.get(k)!.map((r) => r[x])).median;
  // Ratios per window (both sides saw the same load), then their median.
  const ratio = (a: string, b: string, x: keyof Win) => stats(runs.get(a)!.map((r, i) => r[x] / runs.get(b)![i]![x])).median;
  for (const inflight of INFLIGHT) {
    const row = servers.map((s) => `${s.name} ${med(`${s.name}${inflight}`, 'rate').toFixed(0)}/s CPU ${med(`${s.name}${inflight}`, 'cpuUs').toFixed(1)} us/req (sys ${med(`${s.name}${inflight}`, 'sysUs').toFixed(1)}) p50 ${med(`${s.name}${inflight}`, 'p50').toFixed(0)} us p99 ${med(`${s.name}${inflight}`, 'p99').toFixed(0)} us`);
    const vs = servers
      .filter((s) => s.name !== 'bare')
      .map((s) => `${s.name}/bare: rate ${ratio(`${s.name}${inflight}`, `bare${inflight}`, 'rate').toFixed(2)}x, CPU ${ratio(`${s.name}${inflight}`, `bare${inflight}`, 'cpuUs').toFixed(2)}x, p50 ${ratio(`${s.name}${inflight}`, `bare${inflight}`, 'p50').toFixed(2)}x, p99 ${ratio(`${s.name}${inflight}`, `bare${inflight}`, 'p99').toFixed(2)}x`);
    for (const [i] of BASES.entries()) vs.push(`ours/${baseName(i)} CPU ${ratio(`ours${inflight}`, `${baseName(i)}${inflight}`, 'cpuUs').toFixed(3)}x`);
    log(`median, ${inflight} in flight: ${row.join('; ')}; ${vs.join('; ')}; load ${load()}`);
  }
  for (const [key, p] of profiled) log(formatAreas(`profile ${key} in flight`, areas(p.files, p.requests), Number(process.env.HOT_PROF_TOP ?? 25)));
  log(`requests answered in all (warm-up included): ${[...total].map(([k, v]) => `${k} ${v}`).join(', ')}`);
} catch (err) {
  process.exitCode = 1;
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
} finally {
  await stopAll(peers);
}
process.exit();
