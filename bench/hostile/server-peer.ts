/**
 * bench hostile, server side: one gatehouse node (gateway + worker, embedded bus) with the lobby and the echo app,
 * with the per-address bound applied to loopback (each load kind comes from its own 127.0.0.x). Samples its heap
 * every 20 ms so the benchmark can report the peak; started with --expose-gc so before/after are live memory.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { servePeer } from '../harness/peer-protocol.js';
import { createEmbedded } from '../../server/node.js';
import { createEchoApp } from '../../dev/echo-app.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { createLobbyApp, LOBBY_DEFAULTS } from '../../lobby/index.js';

let node: GatewayNode | undefined;
let peak = 0;
// v8's heap statistics, not process.memoryUsage(): that one also reads the RSS from /proc, and 50 times a second it
// was 3.5 % of the server's samples in a profile of this benchmark.
const sampler = setInterval(() => (peak = Math.max(peak, getHeapStatistics().used_heap_size)), 20);
// How late the event loop runs a timer: what any request waits for the loop, whatever it is queued behind.
const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();

function heap() {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss, peak, actors: node?.node.host.stats().perKind ?? {} };
}

await servePeer({
  async setup() {
    node = await startGatewayNode({
      // Loopback counts like any address here, for new player records too (it is exempt by default).
      apps: [createLobbyApp({ ...LOBBY_DEFAULTS, newPlayersExempt: [] }), createEchoApp()],
      embedded: createEmbedded(),
      // The defaults, except that loopback counts like any address (it is exempt by default).
      gateway: { connectionLimitExempt: [], heartbeatMs: 300_000 },
    });
    return { url: node.wsUrl };
  },
  commands: {
    heap: () => heap(),
    resetPeak: () => {
      peak = getHeapStatistics().used_heap_size;
      return {};
    },
    status: () => {
      // The actor host's counters beside the gateway's: `unconfirmed` counts turns parked while the node could not
      // confirm it still serves a shard (a stall the event-loop delay does not show).
      const { perKind: _perKind, ...host } = node!.node.host.stats();
      return { status: node!.gateway!.status!(), host };
    },
    /** The event loop's delay since the last call (µs): p50, p99, max. */
    loop: () => {
      const r = { p50: loop.percentile(50) / 1000, p99: loop.percentile(99) / 1000, max: loop.max / 1000 };
      loop.reset();
      return r;
    },
  },
  async close() {
    clearInterval(sampler);
    loop.disable();
    await node?.stop();
  },
});
