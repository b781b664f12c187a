/**
 * Pub/sub throughput, ours vs raw nats.js: publisher and subscriber in separate processes, measured at the subscriber
 * (messages received per second over a window), with windows of both implementations interleaved.
 */
import type { NatsServerHandle } from '../../dev/nats-server.js';
import { procCpuSeconds, runInterleaved, sleep, stats } from '../harness/measure.js';
import { startPeer, stopAll, type Peer } from '../harness/procs.js';
import { metric, type Metric } from '../harness/report.js';
import type { Impl } from './common.js';

export interface Plan {
  windows: number;
  windowMs: number;
  warmups: number;
}

/**
 * Unacknowledged bytes the publisher may have in flight. Swept 32 KiB … 4 MiB with raw nats.js on this (loaded) host:
 * no size stood out beyond the noise at 64 B or 1 KiB. 1 MiB is well inside that plateau, and a stalled subscriber
 * still cannot pile up more than a megabyte in the server. Override: BENCH_BUS_CREDIT_KB.
 */
const CREDIT_BYTES = (Number(process.env.BENCH_BUS_CREDIT_KB) || 1024) * 1024;
/** Lets the publisher reach steady state before the subscriber starts counting. */
const RAMP_MS = 200;
const SIZES = [64, 1024] as const;
const label = (size: number) => (size >= 1024 ? `${size / 1024} KiB` : `${size} B`);

interface Window {
  rate: number;
  subUs: number;
  pubUs: number;
  srvUs: number;
  subCores: number;
  pubCores: number;
  srvCores: number;
  /** Share of the publisher's run spent out of credit: near 0 → publisher-bound, high → subscriber-bound. */
  stalled: number;
}

async function tpWindow(pub: Peer, sub: Peer, serverPid: number, size: number, ms: number): Promise<Window> {
  await pub.call('start', { size, credit: Math.max(256, Math.floor(CREDIT_BYTES / size)) });
  await sleep(RAMP_MS);
  const srv0 = procCpuSeconds(serverPid);
  const w = await sub.call<{ msgs: number; seconds: number; cpu: number }>('window', { ms });
  const srv = procCpuSeconds(serverPid) - srv0;
  const p = await pub.call<{ msgs: number; seconds: number; cpu: number; stalledMs: number }>('stop');
  await sub.call('quiet');
  return {
    rate: w.msgs / w.seconds,
    subUs: (w.cpu / w.msgs) * 1e6,
    pubUs: (p.cpu / p.msgs) * 1e6,
    srvUs: (srv / w.msgs) * 1e6,
    subCores: w.cpu / w.seconds,
    pubCores: p.cpu / p.seconds,
    srvCores: srv / w.seconds,
    stalled: p.stalledMs / 1000 / p.seconds,
  };
}

export async function pubsubPhase(server: NatsServerHandle, plan: Plan, log: (s: string) => void): Promise<Metric[]> {
  const file = new URL('./pubsub-peer.js', import.meta.url);
  const peers: Partial<Record<`${'pub' | 'sub'}-${Impl}`, Peer>> = {};
  const metrics: Metric[] = [];
  try {
    // Subscribers first, so nothing a publisher sends is lost to missing interest.
    for (const impl of ['raw', 'ours'] as const) {
      peers[`sub-${impl}`] = await startPeer(file, { name: `sub-${impl}`, args: ['sub', impl, server.url] });
    }
    for (const impl of ['raw', 'ours'] as const) {
      peers[`pub-${impl}`] = await startPeer(file, { name: `pub-${impl}`, args: ['pub', impl, server.url] });
    }
    for (const size of SIZES) {
      const pair = (impl: Impl) => () =>
        tpWindow(peers[`pub-${impl}`]!, peers[`sub-${impl}`]!, server.pid, size, plan.windowMs);
      const r = await runInterleaved<Window>(plan, { raw: pair('raw'), ours: pair('ours') });
      const L = label(size);
      const col = (impl: Impl, k: keyof Window) => r[impl]!.map((x) => x[k]);
      const ours = (name: string, unit: string, k: keyof Window, base: string, targetRatio?: number) =>
        metric({
          name: `Bus pub/sub ${L}${name}`,
          unit,
          runs: col('ours', k),
          higherIsBetter: k === 'rate',
          baseline: { name: base, runs: col('raw', k) },
          targetRatio,
        });
      metrics.push(
        metric({ name: `raw nats.js pub/sub ${L}`, unit: 'msg/s', runs: col('raw', 'rate'), higherIsBetter: true }),
        ours('', 'msg/s', 'rate', 'raw nats.js', 0.9),
        ours(': subscriber CPU', 'µs/msg', 'subUs', 'raw subscriber'),
        ours(': publisher CPU', 'µs/msg', 'pubUs', 'raw publisher'),
        ours(': nats-server CPU', 'µs/msg', 'srvUs', 'raw run'),
      );
      for (const impl of ['raw', 'ours'] as const) {
        const med = (k: keyof Window, pct = false) => {
          const m = stats(col(impl, k)).median;
          return pct ? (100 * m).toFixed(0) : m.toFixed(2);
        };
        log(
          `pub/sub ${L} ${impl}: CPU s per wall s (median): publisher ${med('pubCores')}, ` +
            `subscriber ${med('subCores')}, nats-server ${med('srvCores')}; ` +
            `publisher out of credit ${med('stalled', true)} % of the time`,
        );
      }
    }
  } finally {
    await stopAll(Object.values(peers));
  }
  return metrics;
}
