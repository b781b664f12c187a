/**
 * The gateway's own share of a request, in one process and without sockets (issue 16): 64 native connections on a
 * gateway's real connection core (protocol handler, rules, route table with the echo app, route calls), a transport
 * that only keeps the bytes, and `echo` requests fed as decoded WebSocket messages, 64 at a time, each batch settled
 * (microtasks and ticks) before the next. What is left out is what a bare `ws` echo server pays as well: the socket
 * reads and writes and ws's own framing. Prints the CPU per request of a few rounds (process.cpuUsage), so changes to
 * the path can be compared on a loaded host where the socket bench's figures swing by tens of percent.
 *
 *   node --expose-gc dist/bench/gateway/request-micro.js   (MICRO_ROUNDS, default 7; MICRO_REQUESTS per round, 200 000)
 */
import { loadavg } from 'node:os';
import { systemClock } from '../../common/clock.js';
import { DEFAULTS } from '../../config/defaults.js';
import { Connection } from '../../gateway/connection.js';
import { echoGatewayServices } from '../../dev/echo-gateway.js';
import { createEchoApp } from '../../dev/echo-app.js';
import { createNativeHandler } from '../../gateway/native-adapter.js';
import { gatewaySettings } from '../../gateway/settings.js';
import type { Transport } from '../../gateway/transport.js';
import { decodeFrame, encodeFrame } from '../../protocol/native/index.js';

const ROUNDS = Number(process.env.MICRO_ROUNDS ?? 7);
const PER_ROUND = Number(process.env.MICRO_REQUESTS ?? 200_000);
const INFLIGHT = 64;
/** Requests fed per macrotask (64: the batch; 1: each request in a turn of its own, as socket reads come). */
const BATCH = Number(process.env.MICRO_BATCH ?? INFLIGHT);

const base = gatewaySettings(DEFAULTS);
const settings = { ...base, requestsPerSecond: 1e9, requestBurst: 1e9, requestsPerSecondPerAddress: 1e12, requestBurstPerAddress: 1e12 };
const services = echoGatewayServices({ nodeId: 'micro', clock: systemClock, settings });

class KeepTransport implements Transport {
  readonly kind = 'ws';
  readonly buffered = 0;
  readonly remote = '127.0.0.1:1';
  readonly address = '127.0.0.1';
  last: Uint8Array | undefined;
  sent = 0;
  send(bytes: Uint8Array): void {
    this.last = bytes;
    this.sent++;
  }
  close(): void {}
  destroy(): void {}
  pause(): void {}
  resume(): void {}
}

// MICRO_NODE=1: a whole gateway node runs beside (what bench gateway's server peer is), idle: does its presence
// alone make the request path dearer (timers, heap size, hooks)?
if (process.env.MICRO_NODE === '1') {
  const { startGatewayNode } = await import('../../dev/gateway-nodes.js');
  const { createEmbedded } = await import('../../server/node.js');
  await startGatewayNode({ apps: [createEchoApp()], embedded: createEmbedded(), gateway: { heartbeatMs: 300_000 } });
}

const settle = () => new Promise<void>((r) => setImmediate(r));
const transports: KeepTransport[] = [];
const conns: Connection[] = [];
for (let i = 0; i < INFLIGHT; i++) {
  const t = new KeepTransport();
  const c = new Connection(services, t, 'native');
  c.handler = createNativeHandler(c);
  c.handler.receive(encodeFrame({ type: 'hello', v: 1, client: 'bench' }), true);
  transports.push(t);
  conns.push(c);
}
await settle();
for (const t of transports) if (decodeFrame(t.last!).type !== 'welcome') throw new Error('no welcome');

// Request frames as the load peer sends them (ids vary, so their encodings do), Buffers as ws delivers them.
const BODY = { pad: 'x'.repeat(40) };
const frames = Array.from({ length: 4096 }, (_, i) => Buffer.from(encodeFrame({ type: 'req', id: i + 1, route: 'echo', body: BODY })));

async function round(n: number): Promise<number> {
  const c0 = process.cpuUsage();
  let k = 0;
  for (let done = 0; done < n; done += BATCH) {
    for (let i = 0; i < BATCH; i++) conns[k & 63]!.handler.receive(frames[k++ & 4095]!, true);
    await settle();
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

const gc = (globalThis as { gc?: () => void }).gc;
const sent0 = transports.reduce((s, t) => s + t.sent, 0);
await round(PER_ROUND / 4); // warm-up
const us: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  gc?.();
  us.push(await round(PER_ROUND));
}
const answered = transports.reduce((s, t) => s + t.sent, 0) - sent0;
const last = decodeFrame(transports[0]!.last!);
if (last.type !== 'res' || JSON.stringify(last.body) !== JSON.stringify(BODY)) throw new Error(`unexpected answer ${JSON.stringify(last)}`);
// What the turns alone cost (the same settle per batch, nothing received), subtracted from the figures above.
const e0 = process.cpuUsage();
for (let done = 0; done < PER_ROUND; done += BATCH) await settle();
const e = process.cpuUsage(e0);
process.stdout.write(`turns alone: ${((e.user + e.system) / PER_ROUND).toFixed(2)} us per request (batch ${BATCH})\n`);
const sorted = [...us].sort((a, b) => a - b);
process.stdout.write(
  `request-micro: CPU per request ${us.map((x) => x.toFixed(2)).join(' ')} us; median ${sorted[sorted.length >> 1]!.toFixed(2)}, min ${sorted[0]!.toFixed(2)} ` +
    `(${answered} answered of ${PER_ROUND * ROUNDS + PER_ROUND / 4}); load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`,
);
process.exit();
