/**
 * The gateway's request path alone, for profiling and quick comparisons (issue 16): one gateway and one bare `ws`
 * echo server, a few held clients each (HOT_CLIENTS, default 128), then windows of request → answer at 64 and at 1 in
 * flight, interleaved, with each server's CPU per request and the RTT p50. No connect-rate or heap figures: that is
 * `bench gateway`'s job.
 *
 *   node dist/bench/gateway/hot-path.js            (HOT_WINDOWS, default 6; HOT_WINDOW_MS, default 3000)
 *   BENCH_CPU_PROF='^server-ours$' node dist/bench/gateway/hot-path.js   → .tmp/prof/server-ours.*.cpuprofile
 *   HOT_PERF=1 (both servers with --perf-basic-prof, for `perf record -p`), HOT_FLAGS='--trace-deopt …' (the gateway's)
 */
import { loadavg } from 'node:os';
import { Histogram, stats, type HistogramData } from '../harness/measure.js';
import { startPeer, stopAll, type Peer } from '../harness/procs.js';

const CLIENTS = Number(process.env.HOT_CLIENTS ?? 128);
const WINDOWS = Number(process.env.HOT_WINDOWS ?? 6);
const WINDOW_MS = Number(process.env.HOT_WINDOW_MS ?? 3000);
const log = (s: string) => process.stderr.write(`[hot-path] ${s}\n`);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

interface RttResult {
  count: number;
  seconds: number;
  hist: HistogramData;
}

const peers: Peer[] = [];
try {
  const server = (kind: 'ours' | 'bare') =>
    startPeer(new URL('./server-peer.js', import.meta.url), { name: `server-${kind}`, args: [kind], execArgv: ['--expose-gc', ...(process.env.HOT_PERF === '1' ? ['--perf-basic-prof'] : []), ...(kind === 'ours' ? (process.env.HOT_FLAGS ?? '').split(' ').filter(Boolean) : [])], lifetimeMs: 600_000, readyTimeoutMs: 60_000 });
  const loader = (i: number) => startPeer(new URL('./load-peer.js', import.meta.url), { name: `load${i}`, lifetimeMs: 600_000, readyTimeoutMs: 60_000 });
  const [ours, bare, lo, lb] = await Promise.all([server('ours'), server('bare'), loader(0), loader(1)]);
  peers.push(ours!, bare!, lo!, lb!);
  await lo!.call('open', { url: String(ours!.info.url), n: CLIENTS, mode: 'native', localAddress: '127.0.0.2' }, 120_000);
  await lb!.call('open', { url: String(bare!.info.url), n: CLIENTS, mode: 'bare', localAddress: '127.0.0.3' }, 120_000);
  // CPU with the clients held and nothing asked: what the windows' CPU per request also carries.
  const idle = async (s: Peer) => {
    const c0 = (await s.call('cpu')).cpuTotal;
    await new Promise((r) => setTimeout(r, 3000));
    return (((await s.call('cpu')).cpuTotal - c0) / 3) * 100;
  };
  log(`idle CPU: ours ${(await idle(ours!)).toFixed(1)} %, bare ${(await idle(bare!)).toFixed(1)} %; load ${load()}`);
  const total = new Map<Peer, number>();
  const window = async (l: Peer, s: Peer, inflight: number) => {
    const c0 = (await s.call('cpu')).cpuTotal;
    const r = (await l.call<RttResult>('rtt', { ms: WINDOW_MS, inflight }, WINDOW_MS + 30_000)) as unknown as RttResult;
    const cpu = (await s.call('cpu')).cpuTotal - c0;
    total.set(s, (total.get(s) ?? 0) + r.count);
    return { rate: r.count / r.seconds, cpuUs: (cpu / Math.max(1, r.count)) * 1e6, p50: Histogram.from(r.hist).percentile(50) };
  };
  const runs: Record<string, Array<{ rate: number; cpuUs: number; p50: number }>> = { o64: [], b64: [], o1: [], b1: [] };
  for (let w = 0; w <= WINDOWS; w++) {
    const r = [await window(lo!, ours!, 64), await window(lb!, bare!, 64), await window(lo!, ours!, 1), await window(lb!, bare!, 1)];
    if (w === 0) continue; // warm-up
    runs.o64!.push(r[0]!);
    runs.b64!.push(r[1]!);
    runs.o1!.push(r[2]!);
    runs.b1!.push(r[3]!);
    const f = (x: { rate: number; cpuUs: number; p50: number }) => `${x.rate.toFixed(0)}/s ${x.cpuUs.toFixed(1)}us p50 ${x.p50.toFixed(0)}`;
    log(`w${w}: 64: ours ${f(r[0]!)} | bare ${f(r[1]!)} ;; 1: ours ${f(r[2]!)} | bare ${f(r[3]!)} ; load ${load()}`);
  }
  const med = (k: string, f: 'rate' | 'cpuUs' | 'p50') => stats(runs[k]!.map((x) => x[f])).median;
  const ratio = (k: string, f: 'rate' | 'cpuUs' | 'p50') => stats(runs[`o${k}`]!.map((x, i) => x[f] / runs[`b${k}`]![i]![f])).median;
  log(
    `median: 64 in flight: ours ${med('o64', 'rate').toFixed(0)}/s (${ratio('64', 'rate').toFixed(2)}x bare), CPU ${med('o64', 'cpuUs').toFixed(1)} us/req vs ${med('b64', 'cpuUs').toFixed(1)}; ` +
      `1 in flight: p50 ${med('o1', 'p50').toFixed(0)} us (${ratio('1', 'p50').toFixed(2)}x bare ${med('b1', 'p50').toFixed(0)}), CPU ${med('o1', 'cpuUs').toFixed(1)} vs ${med('b1', 'cpuUs').toFixed(1)} us/req; load ${load()}`,
  );
  log(`requests answered in all (warm-up included): ours ${total.get(ours!)}, bare ${total.get(bare!)}`);
} catch (err) {
  process.exitCode = 1;
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
} finally {
  await stopAll(peers);
}
process.exit();
