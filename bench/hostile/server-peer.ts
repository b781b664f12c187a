/**
 * bench hostile, server side: one gatehouse node (gateway + worker, embedded bus) with the lobby and the echo app,
 * with the per-address bound applied to loopback (each load kind comes from its own 127.0.0.x). Samples its heap
 * every 20 ms so the benchmark can report the peak; started with --expose-gc so before/after are live memory.
 */
import { servePeer } from '../harness/peer-protocol.js';
import { createEmbedded } from '../../server/node.js';
import { createEchoApp } from '../../dev/echo-app.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { createLobbyApp, LOBBY_DEFAULTS } from '../../lobby/index.js';

let node: GatewayNode | undefined;
let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 20);

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
      peak = process.memoryUsage().heapUsed;
      return {};
    },
    status: () => ({ status: node!.gateway!.status!() }),
  },
  async close() {
    clearInterval(sampler);
    await node?.stop();
  },
});
