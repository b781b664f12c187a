/**
 * Ask latency (1 in flight) and throughput (64 in flight): ActorClient.ask into the node's actors vs the raw request
 * floor (publish + one wildcard inbox + Map → echo responder), and, for reference, the floor into a raw responder
 * that runs the bare XState actor. Windows of the three variants interleaved.
 */
import { Histogram, procCpuSeconds, runInterleaved, stats, type HistogramData } from '../harness/measure.js';
import { metric, type Metric } from '../harness/report.js';
import type { Peers } from './tell-phase.js';

type Variant = 'floor' | 'ours' | 'rawactor';

interface Window {
  rate: number;
  p50: number;
  p99: number;
  reqUs: number;
  respUs: number;
  srvUs: number;
  respCores: number;
}

type AskResult = { count: number; seconds: number; cpu: number; hist: HistogramData };

async function askWindow(p: Peers, v: Variant, inflight: number, actors: number, ms: number): Promise<Window> {
  const responder = v === 'ours' ? p.node : p.raw;
  const r0 = (await responder.call('cpu')).cpuTotal;
  const srv0 = procCpuSeconds(p.serverPid);
  const r = await p.sender.call<AskResult>('ask', { impl: v, inflight, ms, actors }, ms + 30_000);
  const srv = procCpuSeconds(p.serverPid) - srv0;
  const resp = (await responder.call('cpu')).cpuTotal - r0;
  const h = Histogram.from(r.hist);
  return {
    rate: r.count / r.seconds,
    p50: h.percentile(50),
    p99: h.percentile(99),
    reqUs: (r.cpu / r.count) * 1e6,
    respUs: (resp / r.count) * 1e6,
    srvUs: (srv / r.count) * 1e6,
    respCores: resp / r.seconds,
  };
}

export async function askPhase(
  p: Peers,
  plan: { windows: number; windowMs: number; warmups: number },
  actors: number,
  inflight: number,
  log: (s: string) => void,
): Promise<Metric[]> {
  const w = (v: Variant) => () => askWindow(p, v, inflight, actors, plan.windowMs);
  const r = await runInterleaved<Window>(plan, { floor: w('floor'), ours: w('ours'), rawactor: w('rawactor') });
  const col = (v: Variant, k: keyof Window) => r[v]!.map((x) => x[k]);
  const L = `${inflight} in flight`;
  const vsFloor = (who: 'ours' | 'rawactor', name: string, unit: string, k: keyof Window, targetRatio?: number) =>
    metric({
      name: `${who === 'ours' ? 'ask' : 'raw XState responder (reference)'} ${L}: ${name}`,
      unit,
      runs: col(who, k),
      higherIsBetter: k === 'rate',
      baseline: { name: k === 'respUs' ? 'raw echo responder' : 'raw request floor', runs: col('floor', k) },
      targetRatio,
    });
  for (const v of ['floor', 'ours', 'rawactor'] as const) {
    const med = (k: keyof Window) => stats(col(v, k)).median.toFixed(2);
    log(`ask ${L} ${v}: p50 ${med('p50')} µs, p99 ${med('p99')} µs, ${med('rate')}/s; responder ${med('respCores')} cores`);
  }
  const out = [
    metric({ name: `raw request floor ${L}: p50`, unit: 'µs', runs: col('floor', 'p50'), higherIsBetter: false }),
    metric({ name: `raw request floor ${L}: rate`, unit: 'req/s', runs: col('floor', 'rate'), higherIsBetter: true }),
    vsFloor('ours', 'p50', 'µs', 'p50', inflight === 1 ? 1.3 : undefined),
    vsFloor('ours', 'p99', 'µs', 'p99', inflight === 1 ? 2 : undefined),
    vsFloor('ours', 'rate', 'req/s', 'rate', inflight === 64 ? 0.6 : undefined),
    vsFloor('ours', 'requester CPU', 'µs/req', 'reqUs'),
    vsFloor('ours', 'responder CPU', 'µs/req', 'respUs'),
    vsFloor('ours', 'nats-server CPU', 'µs/req', 'srvUs'),
  ];
  // The reference shows how much of the gap any actor pays (unpack, XState, pack) and how much is ours.
  out.push(inflight === 1 ? vsFloor('rawactor', 'p50', 'µs', 'p50') : vsFloor('rawactor', 'rate', 'req/s', 'rate'));
  out.push(vsFloor('rawactor', 'responder CPU', 'µs/req', 'respUs'));
  return out;
}
