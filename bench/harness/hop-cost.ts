/**
 * Host calibration: what one message between two processes on this host costs, measured in the same run as a
 * benchmark so its figures can be read against the host (issue 16). A cluster's CPU per player action is mostly
 * hops (client → gateway → nats-server → worker → back), and the kernel's share of a hop (the write that wakes the
 * reader, the read, the wake-up) differs widely between hosts: on a 2-core VM it was 35-40 µs per side per round trip
 * while the JavaScript of either side was a few µs. So a ratio to a one-process floor moves with the host even when
 * the code does not; this figure says how much.
 *
 * Two processes on loopback, 100-byte messages, one in flight (every message wakes its reader, as game traffic
 * does): `busy` back to back; `paced` with a 1 ms pause between round trips, so each send also wakes a sleeping
 * event loop (a bot's timer, a lobby at 2 Hz).
 */
import { connect } from 'node:net';
import { cpuSeconds } from './measure.js';
import { startPeer } from './procs.js';

export interface HopCost {
  /** µs of CPU per round trip on the sending side / the echoing side, back to back. */
  busySenderUs: number;
  busyEchoUs: number;
  /** Round-trip time back to back, µs (median of the run: total time over round trips). */
  busyRttUs: number;
  /** µs of CPU per round trip when the sender sleeps 1 ms between them. */
  pacedSenderUs: number;
  pacedEchoUs: number;
}

const round = (x: number) => Math.round(x * 10) / 10;

/** Measures `n` round trips back to back and `n / 10` paced; ~2 s on a slow host. Starts and stops its own peer. */
export async function measureHopCost(n = 20_000): Promise<HopCost> {
  const peer = await startPeer(new URL('./echo-peer.js', import.meta.url), { name: 'hop-echo', lifetimeMs: 60_000 });
  const sock = connect(Number(peer.info.port), '127.0.0.1');
  try {
    sock.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    const msg = Buffer.alloc(100, 1);
    const once = () =>
      new Promise<void>((resolve) => {
        sock.once('data', () => resolve());
        sock.write(msg);
      });
    const pause = () => new Promise((r) => setTimeout(r, 1));
    const run = async (count: number, paced: boolean) => {
      const echo0 = (await peer.call<{ cpuTotal: number }>('cpu')).cpuTotal;
      const c0 = cpuSeconds();
      const t0 = performance.now();
      for (let i = 0; i < count; i++) {
        await once();
        if (paced) await pause();
      }
      const wall = performance.now() - t0;
      const cpu = cpuSeconds() - c0;
      const echo = (await peer.call<{ cpuTotal: number }>('cpu')).cpuTotal - echo0;
      return { senderUs: (cpu * 1e6) / count, echoUs: (echo * 1e6) / count, rttUs: (wall * 1000) / count };
    };
    await run(Math.min(2000, n), false); // warm-up: JIT, socket buffers
    const busy = await run(n, false);
    const paced = await run(Math.max(100, Math.floor(n / 10)), true);
    return {
      busySenderUs: round(busy.senderUs),
      busyEchoUs: round(busy.echoUs),
      busyRttUs: round(busy.rttUs),
      pacedSenderUs: round(paced.senderUs),
      pacedEchoUs: round(paced.echoUs),
    };
  } finally {
    sock.destroy();
    await peer.stop();
  }
}

/** One line for a benchmark's log. */
export function describeHopCost(h: HopCost): string {
  return `host hop cost (two processes on loopback, one 100-byte message in flight): CPU per round trip ${h.busySenderUs} µs sender + ${h.busyEchoUs} µs echo back to back (RTT ${h.busyRttUs} µs), ${h.pacedSenderUs} + ${h.pacedEchoUs} µs paced at 1 ms`;
}
