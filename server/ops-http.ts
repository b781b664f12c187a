/**
 * Operations endpoint of a node (config `metrics.port`, loopback by default): `/metrics` in Prometheus text format
 * (prom-client), `/status` as JSON, and the operator console under `/console/` (`/` leads there; server/console/,
 * web/console/, docs/CONSOLE.md). Every node also runs the console's node side whether or not its port is enabled:
 * the flight recorder (actors/runtime/recorder.ts) and the console beat (server/console/beat.ts), so that any node's
 * console, `gatehouse record` and `gatehouse top` see the whole cluster.
 * Port 0 picks a free port. A port already taken (several nodes on one host) disables the endpoint with a warning
 * rather than failing the node.
 */
import { createServer, type Server } from 'node:http';
import { Registry, Gauge, collectDefaultMetrics } from 'prom-client';
import type { NodeComponent, NodeContext } from '../node-api/node.js';
import { GATEWAY_METRIC_HELP } from '../gateway/metrics.js';
import { TurnRecorder } from '../actors/runtime/recorder.js';
import { ConsoleBeater } from './console/beat.js';
import { ConsoleRoutes } from './console/routes.js';

export async function startOpsHttp(ctx: NodeContext, status: () => Record<string, unknown>): Promise<NodeComponent & { url?: string }> {
  const recorder = new TurnRecorder(ctx.bus, ctx.clock, ctx.id);
  recorder.start();
  ctx.host.taps.recorder = recorder;
  const beater = new ConsoleBeater(ctx.control, ctx.host, recorder, ctx.clock, ctx.id);
  beater.start();
  const stopNodeSide = () => {
    beater.stop();
    recorder.stop();
    if (ctx.host.taps.recorder === recorder) ctx.host.taps.recorder = undefined;
  };
  if (!ctx.config.metrics.enabled) return { name: 'ops', status: () => ({ url: null }), stop: async () => stopNodeSide() };
  const consoleRoutes = new ConsoleRoutes(ctx, ctx.config.metrics.consoleClients);
  const registry = new Registry();
  registry.setDefaultLabels({ node: ctx.id, prefix: ctx.config.prefix });
  collectDefaultMetrics({ register: registry });
  const host = ctx.host;
  const actors = new Gauge({
    name: 'gatehouse_actors',
    help: 'Live actors on this node, per kind',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      for (const [kind, n] of Object.entries(host.stats().perKind)) this.set({ kind }, n);
    },
  });
  void actors;
  const counters: Array<[keyof typeof host.metrics, string]> = [
    ['received', 'Messages received by actors'],
    ['processed', 'Turns completed'],
    ['duplicates', 'Duplicate messages dropped (same sender, seq ≤ last seen)'],
    ['seqRefused', 'Envelopes refused: sequence too far ahead of the clock (forged; would poison dedupe marks)'],
    ['busy', 'Messages refused because a mailbox was full'],
    ['droppedTells', 'Tells dropped because a mailbox was full'],
    ['badMessages', 'Messages refused as malformed'],
    ['crashes', 'Actor crashes (restarted)'],
    ['escalations', 'Actors stopped after repeated crashes'],
    ['persisted', 'Snapshots written'],
    ['fenced', 'Snapshot writes refused because a newer instance wrote (stale owner)'],
    ['activations', 'Actor activations'],
    ['passivations', 'Actor passivations'],
  ];
  for (const [key, help] of counters) {
    // Gauges fed from the runtime's own counters at scrape time: nothing is counted twice on the hot path.
    new Gauge({ name: `gatehouse_${key.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())}_total`, help, registers: [registry], collect() {
      this.set(host.metrics[key]);
    } });
  }
  new Gauge({ name: 'gatehouse_shards_owned', help: 'Shard subscriptions held by this node', registers: [registry], collect() {
    this.set(host.ownedShardCount());
  } });

  new Gauge({ name: 'gatehouse_console_clients', help: 'Open console streams (SSE) on this node; bounded by metrics.consoleClients', registers: [registry], collect() {
    this.set(consoleRoutes.hub.stats.clients);
  } });
  new Gauge({ name: 'gatehouse_console_refused_total', help: 'Console streams refused: metrics.consoleClients were open', registers: [registry], collect() {
    this.set(consoleRoutes.hub.stats.refused);
  } });
  new Gauge({ name: 'gatehouse_console_dropped_total', help: 'Console streams closed because the browser did not read (over 1 MiB buffered)', registers: [registry], collect() {
    this.set(consoleRoutes.hub.stats.dropped);
  } });

  // The gateway's counters come from its status, read once per scrape (status() walks every component).
  let scraped: Record<string, unknown> = {};
  const gatewayStat = () => (scraped.gateway ?? {}) as Record<string, unknown>;
  for (const [key, help] of Object.entries(GATEWAY_METRIC_HELP)) {
    const gauge = key === 'connections' || key === 'addresses' || key === 'requestsWaiting';
    const name = `gatehouse_gateway_${key.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())}${gauge ? '' : '_total'}`;
    new Gauge({ name, help, registers: [registry], collect() {
      const v = gatewayStat()[key];
      if (typeof v === 'number') this.set(v);
    } });
  }
  new Gauge({ name: 'gatehouse_gateway_request_errors_total', help: 'Requests answered with an error, by code', labelNames: ['code'], registers: [registry], collect() {
    const errors = gatewayStat().errors as Record<string, number> | undefined;
    for (const [code, n] of Object.entries(errors ?? {})) this.set({ code }, n);
  } });

  // `start --threads` without NATS: the ports to the worker threads (bus and store), from the `threads` status.
  const threadPorts = (side: 'bus' | 'store') => ((scraped.threads as Record<string, Record<string, unknown>> | undefined)?.[side] ?? {});
  const portGauge = (name: string, help: string, key: string) =>
    new Gauge({ name, help, labelNames: ['port'], registers: [registry], collect() {
      for (const side of ['bus', 'store'] as const) {
        const v = threadPorts(side)[key];
        if (typeof v === 'number') this.set({ port: side }, v);
      }
    } });
  portGauge('gatehouse_thread_port_queued_bytes', 'Bytes posted to worker threads and not yet read by them, summed over the threads (bound per thread: node.threadQueueBytes)', 'queuedBytes');
  portGauge('gatehouse_thread_port_queued_bytes_max', 'Bytes posted to one worker thread and not yet read, the largest over the threads', 'queuedBytesMax');
  portGauge('gatehouse_thread_slow_consumer_drops_total', 'Messages and watch changes dropped for a worker thread over node.threadQueueBytes, and answers to it turned into SLOW_CONSUMER errors', 'slowConsumerDrops');

  const server: Server = createServer((req, res) => {
    const parsed = new URL(req.url ?? '/', 'http://x');
    const path = parsed.pathname;
    const send = (code: number, type: string, body: string) => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (path === '/metrics') {
      scraped = status();
      registry.metrics().then(
        (text) => send(200, registry.contentType, text),
        (err) => send(500, 'text/plain', String(err)),
      );
    } else if (path === '/status') send(200, 'application/json', JSON.stringify(status()));
    else if (!consoleRoutes.handle(req, res, path, parsed)) send(404, 'text/plain', 'not found: try /console/, /status or /metrics\n');
  });
  const bindHost = ctx.config.gateway.host;
  const url = await new Promise<string | undefined>((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      ctx.log.warn({ err, port: ctx.config.metrics.port }, `ops endpoint disabled: ${err.code === 'EADDRINUSE' ? 'port in use (set metrics.port)' : err.message}`);
      resolve(undefined);
    });
    server.listen(ctx.config.metrics.port, bindHost, () => {
      const a = server.address() as { port: number };
      resolve(`http://${bindHost}:${a.port}/`);
    });
  });
  return {
    name: 'ops',
    url,
    status: () => ({ url: url ?? null, console: consoleRoutes.status(), recorderFrames: recorder.frames, consoleBeats: beater.beats }),
    async stop() {
      consoleRoutes.stop();
      stopNodeSide();
      if (url) {
        const closed = new Promise<void>((r) => server.close(() => r()));
        server.closeAllConnections(); // keep-alive sockets of browsers would hold close() open
        await closed;
      }
    },
  };
}
