/** One measured window of bench chat, from the load processes' results and the CPU read around it. */
import { Histogram, type HistogramData } from '../harness/measure.js';

/** What one load process returns from `run` (bench/chat/load-peer.ts). */
export interface WindowRun {
  sent: number;
  received: number;
  sendErrors: number;
  seconds: number;
  hist: HistogramData;
}

export interface Window {
  /** Deliveries/s offered (lines/s × room size). */
  offered: number;
  deliveriesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Server CPU (every server-side process) over lead-in, window and drain, per delivery of the lines sent then. */
  cpuUsPerDelivery: number;
  loadCpuUsPerDelivery: number;
  sent: number;
  sendErrors: number;
  drainMs: number;
  missing: number;
}

export function windowOf(
  offered: number,
  rs: readonly WindowRun[],
  o: { serverCpuS: number; loadCpuS: number; work: number; drainMs: number; missing: number },
): Window {
  const hist = new Histogram();
  for (const r of rs) hist.merge(r.hist);
  const received = rs.reduce((s, r) => s + r.received, 0);
  const seconds = rs.reduce((s, r) => s + r.seconds, 0) / rs.length;
  return {
    offered,
    deliveriesPerSec: received / seconds,
    // A window in which nothing arrived has no latency to speak of: count it as failing the p99 bound.
    p50Ms: hist.count ? hist.percentile(50) / 1000 : Infinity,
    p99Ms: hist.count ? hist.percentile(99) / 1000 : Infinity,
    cpuUsPerDelivery: o.work ? (o.serverCpuS * 1e6) / o.work : NaN,
    loadCpuUsPerDelivery: o.work ? (o.loadCpuS * 1e6) / o.work : NaN,
    sent: rs.reduce((s, r) => s + r.sent, 0),
    sendErrors: rs.reduce((s, r) => s + r.sendErrors, 0),
    drainMs: o.drainMs,
    missing: o.missing,
  };
}
