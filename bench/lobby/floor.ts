/**
 * bench lobby's floor, run inside the lobby bench: a raw `ws` relay server (raw-relay-server.ts, one process) and two
 * load processes of relay-only bots (relay-peer.ts) at the same 2 Hz and the same mean city size as the gatehouse run.
 * Bots are added step by step (the bot counts given); at each step, after a warm-up window, `windows` windows measure
 * relay p99 and the server's CPU per relay sent. The ramp stops at the first step whose median p99 passes the limit:
 * the last step within it is the floor's capacity. Everything is stopped before it returns, also on failure.
 */
import { Histogram, procCpuSeconds, sleep, stats, type HistogramData } from '../harness/measure.js';
import { startPeer, stopAll, type Peer } from '../harness/procs.js';

export interface RelayWindow {
  secs: number;
  sent: number;
  received: number;
  p50Ms: number;
  p99Ms: number;
  /** Server CPU seconds in the window. */
  cpu: number;
}

export interface FloorStep {
  bots: number;
  windows: RelayWindow[];
  p99Ms: number;
}

export async function runFloor(o: { meanCity: number; steps: number[]; windows: number; windowMs: number; p99LimitMs: number; log: (s: string) => void }): Promise<FloorStep[]> {
  const peers: Peer[] = [];
  const out: FloorStep[] = [];
  try {
    const server = await startPeer(new URL('./raw-relay-server.js', import.meta.url), { name: 'raw-relay', lifetimeMs: 600_000 });
    peers.push(server);
    const load = await Promise.all([0, 1].map((i) => startPeer(new URL('./relay-peer.js', import.meta.url), { name: `floor${i}`, lifetimeMs: 600_000 })));
    peers.push(...load);
    const url = String(server.info.url);
    const window = async (): Promise<RelayWindow> => {
      const c0 = procCpuSeconds(server.pid);
      const t0 = performance.now();
      const rs = await Promise.all(load.map((p) => p.call<{ sent: number; received: number; hist: HistogramData }>('window', { ms: o.windowMs }, o.windowMs + 30_000)));
      const secs = (performance.now() - t0) / 1000;
      const h = new Histogram();
      for (const r of rs) h.merge(r.hist);
      return { secs, sent: rs.reduce((s, r) => s + r.sent, 0), received: rs.reduce((s, r) => s + r.received, 0), p50Ms: h.percentile(50) / 1000, p99Ms: h.percentile(99) / 1000, cpu: procCpuSeconds(server.pid) - c0 };
    };
    let have = 0;
    for (const bots of o.steps) {
      const more = bots - have;
      if (more <= 0) continue;
      await Promise.all(load.map((p, i) => p.call('open', { url, count: Math.floor(more / 2) + (i < more % 2 ? 1 : 0), meanCity: o.meanCity }, 120_000)));
      have = bots;
      await Promise.all(load.map((p) => p.call('relays', { on: true, hz: 2 })));
      await sleep(1000); // every bot's first relay (random phase within 500 ms) has gone out
      await window(); // warm-up, discarded
      const windows: RelayWindow[] = [];
      for (let w = 0; w < o.windows; w++) windows.push(await window());
      const p99Ms = stats(windows.map((w) => w.p99Ms)).median;
      out.push({ bots, windows, p99Ms });
      const cpu = stats(windows.map((w) => (w.cpu / w.sent) * 1e6)).median;
      o.log(`floor ${bots} bots: ${stats(windows.map((w) => w.received / w.secs)).median.toFixed(0)} relays delivered/s, p99 ${p99Ms.toFixed(1)} ms, ${cpu.toFixed(1)} µs server CPU per relay`);
      if (p99Ms > o.p99LimitMs) break;
    }
    return out;
  } finally {
    await stopAll(peers);
  }
}
