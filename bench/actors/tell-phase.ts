/**
 * Tell throughput into actors on another process: ours (ActorClient → NATS → node: ActorHost → cell → XState) vs the
 * raw pipeline (msgpackr → NATS → unpack → XState send), windows interleaved. Measured at the receiver: turns
 * processed per second over a window, while the sender runs under end-to-end credit (flow.ts).
 */
import { procCpuSeconds, runInterleaved, sleep, stats } from '../harness/measure.js';
import type { Peer } from '../harness/procs.js';
import { metric, type Metric } from '../harness/report.js';
import type { WindowReport } from './common.js';

/** Messages the sender may have unprocessed: ~50–100 ms of work at the rates seen here, one per actor at most. */
const CREDIT = 8192;
/** Lets the sender reach steady state before the receiver counts. */
const RAMP_MS = 200;

export interface Peers {
  sender: Peer;
  node: Peer;
  raw: Peer;
  serverPid: number;
}

interface Window {
  rate: number;
  recvUs: number;
  sendUs: number;
  srvUs: number;
  recvCores: number;
  sendCores: number;
  srvCores: number;
  stalled: number;
}

async function tellWindow(p: Peers, impl: 'ours' | 'raw', actors: number, ms: number): Promise<Window> {
  const receiver = impl === 'ours' ? p.node : p.raw;
  const q = await receiver.call<{ count: number }>('quiet');
  await p.sender.call('start', { impl, base: q.count, actors, credit: CREDIT });
  await sleep(RAMP_MS);
  const srv0 = procCpuSeconds(p.serverPid);
  const w = await receiver.call<WindowReport>('window', { ms });
  const srv = procCpuSeconds(p.serverPid) - srv0;
  const s = await p.sender.call<WindowReport & { stalled: number }>('stop', { impl });
  return {
    rate: w.count / w.seconds,
    recvUs: (w.cpu / w.count) * 1e6,
    sendUs: (s.cpu / s.count) * 1e6,
    srvUs: (srv / w.count) * 1e6,
    recvCores: w.cpu / w.seconds,
    sendCores: s.cpu / s.seconds,
    srvCores: srv / w.seconds,
    stalled: s.stalled,
  };
}

export async function tellPhase(
  p: Peers,
  plan: { windows: number; windowMs: number; warmups: number },
  actors: number,
  log: (s: string) => void,
): Promise<Metric[]> {
  // The warm-up windows activate every actor on both sides (round robin: ≥ 1 message each at any rate seen here).
  const r = await runInterleaved<Window>(plan, {
    raw: () => tellWindow(p, 'raw', actors, plan.windowMs),
    ours: () => tellWindow(p, 'ours', actors, plan.windowMs),
  });
  const live = {
    ours: (await p.node.call<{ actors: number }>('quiet')).actors,
    raw: (await p.raw.call<{ actors: number }>('quiet')).actors,
  };
  log(`tell: live actors after the run: node ${live.ours}, raw ${live.raw}`);
  const col = (impl: 'ours' | 'raw', k: keyof Window) => r[impl]!.map((x) => x[k]);
  const vs = (name: string, unit: string, k: keyof Window, base: string, targetRatio?: number) =>
    metric({
      name,
      unit,
      runs: col('ours', k),
      higherIsBetter: k === 'rate',
      baseline: { name: base, runs: col('raw', k) },
      targetRatio,
    });
  for (const impl of ['raw', 'ours'] as const) {
    const med = (k: keyof Window) => stats(col(impl, k)).median.toFixed(2);
    log(
      `tell ${impl}: CPU s per wall s (median): sender ${med('sendCores')}, receiver ${med('recvCores')}, ` +
        `nats-server ${med('srvCores')}; sender out of credit ${(100 * Number(med('stalled'))).toFixed(0)} % of the time`,
    );
  }
  return [
    vs(`tell events/s into ${actors / 1000} k actors on another node`, '1/s', 'rate', 'raw pipeline', 0.7),
    vs('tell: receiver CPU per event', 'µs', 'recvUs', 'raw subscriber'),
    vs('tell: sender CPU per event', 'µs', 'sendUs', 'raw publisher'),
    vs('tell: nats-server CPU per event', 'µs', 'srvUs', 'raw run'),
  ];
}
