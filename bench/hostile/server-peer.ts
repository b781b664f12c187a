/**
 * bench hostile, server side: one gatehouse node (gateway + worker, embedded bus) with the lobby and the echo app,
 * with the per-address bound applied to loopback (each load kind comes from its own 127.0.0.x). Samples its heap
 * every 20 ms so the benchmark can report the peak; started with --expose-gc so before/after are live memory.
 */
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { servePeer } from '../harness/peer-protocol.js';
import { MemoryBroker } from '../../bus/memory-bus.js';
import { createEchoApp } from '../../dev/echo-app.js';
import { testConfig } from '../../dev/test-config.js';
import { silentLogger } from '../../common/logger.js';
import { gatewayComponent, type Gateway } from '../../gateway/gateway.js';
import { withGatewayKinds } from '../../gateway/kinds.js';
import { startNode, type GatehouseNode } from '../../server/node.js';
import { createLobbyApp, LOBBY_DEFAULTS } from '../../lobby/index.js';
import { CountingKvServer, lifecycleCounter, peekCounts, takeCounts } from './counts.js';
import type { App } from '../../node-api/app.js';
import type { RouteHandler } from '../../node-api/gateway-app.js';

let node: { node: GatehouseNode; gateway: Gateway } | undefined;
let peak = 0;
// v8's heap statistics, not process.memoryUsage(): that one also reads the RSS from /proc, and 50 times a second it
// was 3.5 % of the server's samples in a profile of this benchmark.
const sampler = setInterval(() => (peak = Math.max(peak, getHeapStatistics().used_heap_size)), 20);
// How late the event loop runs a timer: what any request waits for the loop, whatever it is queued behind.
const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();
/**
 * Stretches of the event loop that took CPU, not just time: a 5 ms timer reads the process's CPU time; a gap with more than
 * STALL_CPU_MS of CPU between two ticks is a stretch of work nothing else could run during, whatever the host's load
 * (a late timer alone is often the host's other processes). [host monotonic ms at the end, CPU ms of the gap, what
 * ran in it as counter deltas].
 */
// Opt-in (HOSTILE_STRETCHES=1): the timer and its counter snapshots cost ~5 % of the server's samples in a profile.
const STALL_CPU_MS = 4;
const tracking = process.env.HOSTILE_STRETCHES === '1';
const stalls: Array<[number, number, Record<string, number>]> = [];
let lastCpu = process.cpuUsage();
let lastTally: Record<string, number> = {};
const stallTimer = !tracking ? undefined : setInterval(() => {
  const c = process.cpuUsage();
  const ms = (c.user - lastCpu.user + c.system - lastCpu.system) / 1000;
  lastCpu = c;
  // What ran in the stretch, as counter deltas (requests by route, turns, store operations, sockets).
  const now = tally();
  if (ms > STALL_CPU_MS && stalls.length < 10_000) {
    const d: Record<string, number> = {};
    for (const [k, v] of Object.entries(now)) if (v !== (lastTally[k] ?? 0)) d[k] = v - (lastTally[k] ?? 0);
    stalls.push([Number(process.hrtime.bigint()) / 1e6, Math.round(ms * 10) / 10, d]);
  }
  lastTally = now;
}, 5);
/** Requests started per route (the lobby's and the echo app's routes, wrapped), since the start. */
const routeCalls: Record<string, number> = {};
function counting(app: App): App {
  const g = app.gateway;
  if (!g) return app;
  const routes = Object.fromEntries(
    Object.entries(g.routes).map(([name, h]) => [name, ((ctx, body) => ((routeCalls[name] = (routeCalls[name] ?? 0) + 1), h(ctx, body))) as RouteHandler]),
  );
  return { ...app, gateway: { ...g, routes } };
}
function tally(): Record<string, number> {
  if (!node) return {};
  const m = node.node.host.metrics;
  const gm = node.gateway.status!() as unknown as Record<string, number>;
  return {
    ...Object.fromEntries(Object.entries(routeCalls).map(([k, v]) => [`route ${k}`, v])),
    ...peekCounts(),
    turns: m.processed,
    received: m.received,
    persisted: m.persisted,
    accepted: gm.accepted!,
    refusedAddress: gm.refusedAddress!,
    pushes: gm.pushes!,
    gcMs: Math.round(gcMs),
  };
}
/** Time in garbage collection (ms), from the performance timeline; and how much of it `counts` has reported. */
let gcMs = 0;
let gcTaken = 0;
new PerformanceObserver((l) => {
  for (const e of l.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

function heap() {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss, peak, actors: node?.node.host.stats().perKind ?? {} };
}

await servePeer({
  async setup() {
    // As dev/gateway-nodes.ts starts a test gateway node, plus the counting store and lifecycle hook.
    const config = testConfig({
      prefix: 'gwt',
      node: { roles: ['gateway', 'worker'], capacity: 1, threads: 0 },
      bus: { kind: 'memory' },
      log: { level: 'silent', pretty: false },
      actors: { shards: 8 },
      // The defaults, except that loopback counts like any address (it is exempt by default).
      gateway: { wsPort: 0, tcpPort: 0, pomeloWsPort: 0, pomeloTcpPort: 0, httpPort: 0, connectionLimitExempt: [], heartbeatMs: 300_000 },
    });
    const n = await startNode({
      config,
      // Loopback counts like any address here, for new player records too (it is exempt by default).
      apps: withGatewayKinds([createLobbyApp({ ...LOBBY_DEFAULTS, newPlayersExempt: [] }), createEchoApp()].map(counting)),
      // The embedded bus and store, the store's operations counted, and instances started and closed by kind.
      embedded: { broker: new MemoryBroker(), kv: new CountingKvServer() },
      lifecycle: lifecycleCounter,
      log: silentLogger,
      components: [gatewayComponent({})],
    });
    node = { node: n, gateway: n.components.find((c) => c.name === 'gateway') as Gateway };
    return { url: `ws://127.0.0.1:${node.gateway.ports.ws}` };
  },
  commands: {
    heap: () => heap(),
    /** Store operations and actor instances started/closed since the last call, with the runtime's counters. */
    counts: () => {
      const gc = Math.round(gcMs - gcTaken);
      gcTaken = gcMs;
      return { counts: { ...takeCounts(), gcMs: gc }, host: node!.node.host.stats(), stalls: stalls.splice(0) };
    },
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
    clearInterval(stallTimer);
    loop.disable();
    await node?.node.stop();
  },
});
