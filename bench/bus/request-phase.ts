/**
 * Request/reply latency and throughput: bus.request() against a bus.subscribe + bus.respond responder, vs the raw
 * request floor (bench/raw-request-floor.ts) and nc.request() against a raw responder. Requesters and responders are
 * separate processes; windows of the three variants are interleaved.
 */
import type { NatsServerHandle } from '../../dev/nats-server.js';
import { Histogram, procCpuSeconds, runInterleaved, stats, type HistogramData } from '../harness/measure.js';
import { startPeer, stopAll, type Peer } from '../harness/procs.js';
import { metric, type Metric } from '../harness/report.js';
import type { Plan } from './pubsub-phase.js';

/**
 * 200 B: the request size this kind of machine's reference request figures were measured at (nats.js `nc.request()`
 * p50 58 µs; the request floor p50 38 µs, 1 in flight), so runs compare with them.
 */
const REQUEST_BYTES = 200;
const INFLIGHT = [1, 64] as const;

interface Window {
  rate: number;
  p50: number;
  p99: number;
  reqUs: number;
  respUs: number;
  srvUs: number;
  /** CPU seconds per wall second of each process: how much of the 2 cores each one took. */
  reqCores: number;
  respCores: number;
  srvCores: number;
}

type RunResult = { count: number; seconds: number; cpu: number; hist: HistogramData };

async function reqWindow(requester: Peer, responder: Peer, serverPid: number, inflight: number, ms: number) {
  const r0 = await responder.call('cpu');
  const srv0 = procCpuSeconds(serverPid);
  const r = await requester.call<RunResult>('run', { inflight, ms, size: REQUEST_BYTES });
  const srv = procCpuSeconds(serverPid) - srv0;
  const r1 = await responder.call('cpu');
  const h = Histogram.from(r.hist);
  const w: Window = {
    rate: r.count / r.seconds,
    p50: h.percentile(50),
    p99: h.percentile(99),
    reqUs: (r.cpu / r.count) * 1e6,
    respUs: ((r1.cpuTotal - r0.cpuTotal) / r.count) * 1e6,
    srvUs: (srv / r.count) * 1e6,
    reqCores: r.cpu / r.seconds,
    respCores: (r1.cpuTotal - r0.cpuTotal) / r.seconds,
    srvCores: srv / r.seconds,
  };
  return w;
}

export async function requestPhase(server: NatsServerHandle, plan: Plan, log: (s: string) => void): Promise<Metric[]> {
  const file = new URL('./request-peer.js', import.meta.url);
  const peers: Record<string, Peer> = {};
  const metrics: Metric[] = [];
  try {
    for (const role of ['responder-raw', 'responder-ours', 'floor', 'nc', 'ours']) {
      peers[role] = await startPeer(file, { name: role, args: [role, server.url] });
    }
    for (const inflight of INFLIGHT) {
      const w = (requester: string, responder: string) => () =>
        reqWindow(peers[requester]!, peers[responder]!, server.pid, inflight, plan.windowMs);
      const r = await runInterleaved<Window>(plan, {
        floor: w('floor', 'responder-raw'),
        nc: w('nc', 'responder-raw'),
        ours: w('ours', 'responder-ours'),
      });
      const col = (v: string, k: keyof Window) => r[v]!.map((x) => x[k]);
      const L = `${inflight} in flight`;
      const floor = (name: string, unit: string, k: keyof Window) =>
        metric({ name: `raw request floor ${L}: ${name}`, unit, runs: col('floor', k), higherIsBetter: k === 'rate' });
      const vsFloor = (who: string, name: string, unit: string, k: keyof Window, targetRatio?: number) =>
        metric({
          name: `${who === 'ours' ? 'Bus request' : 'nc.request()'} ${L}: ${name}`,
          unit,
          runs: col(who, k),
          higherIsBetter: k === 'rate',
          baseline: { name: k === 'respUs' ? 'raw responder' : 'raw request floor', runs: col('floor', k) },
          targetRatio,
        });
      metrics.push(
        floor('p50', 'µs', 'p50'),
        floor('p99', 'µs', 'p99'),
        floor('rate', 'req/s', 'rate'),
        vsFloor('ours', 'p50', 'µs', 'p50', inflight === 1 ? 1.1 : undefined),
        vsFloor('ours', 'p99', 'µs', 'p99'),
        vsFloor('ours', 'rate', 'req/s', 'rate', inflight === 64 ? 0.9 : undefined),
        vsFloor('nc', 'p50 (reference)', 'µs', 'p50'),
        vsFloor('nc', 'p99 (reference)', 'µs', 'p99'),
        vsFloor('nc', 'rate (reference)', 'req/s', 'rate'),
        vsFloor('ours', 'requester CPU', 'µs/req', 'reqUs'),
        vsFloor('ours', 'responder CPU', 'µs/req', 'respUs'),
        vsFloor('ours', 'nats-server CPU', 'µs/req', 'srvUs'),
      );
      for (const v of ['floor', 'nc', 'ours']) {
        const med = (k: keyof Window) => stats(col(v, k)).median.toFixed(2);
        log(
          `request ${L} ${v}: CPU s per wall s (median): requester ${med('reqCores')}, ` +
            `responder ${med('respCores')}, nats-server ${med('srvCores')}`,
        );
      }
    }
  } finally {
    await stopAll(Object.values(peers));
  }
  return metrics;
}
