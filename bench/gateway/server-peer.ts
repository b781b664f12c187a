/**
 * bench gateway, server side: one gatehouse node with the gateway role (embedded bus: the gateway and its connection
 * actors are what is measured, not NATS), or a bare `ws` echo server as the baseline. Started with --expose-gc so
 * `heap` reports live memory only.
 *
 *   args: ours | bare
 */
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { servePeer } from '../harness/peer-protocol.js';
import { createEmbedded } from '../../server/node.js';
import { createEchoApp } from '../../dev/echo-app.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';

const kind = process.argv[2] === 'bare' ? 'bare' : 'ours';
let node: GatewayNode | undefined;
let bare: { wss: WebSocketServer; server: ReturnType<typeof createServer>; clients: number } | undefined;

function heap() {
  const gc = (globalThis as { gc?: () => void }).gc;
  // Twice: the first pass can leave objects whose finalizers free more.
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss, external: m.external, clients: node ? node.gateway!.connections : bare!.clients };
}

await servePeer({
  async setup() {
    if (kind === 'ours') {
      node = await startGatewayNode({
        apps: [createEchoApp()],
        embedded: createEmbedded(),
        // Clients are held idle for minutes; the bench measures holding them, not heartbeat traffic.
        gateway: { heartbeatMs: 300_000, requestsPerSecond: 1e6, requestBurst: 1_000_000 },
      });
      return { url: node.wsUrl };
    }
    const server = createServer();
    const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false, maxPayload: 64 * 1024 });
    bare = { wss, server, clients: 0 };
    wss.on('connection', (ws) => {
      bare!.clients++;
      ws.on('message', (d: Buffer) => ws.send(d));
      ws.on('error', () => undefined);
      ws.on('close', () => bare!.clients--);
    });
    await new Promise<void>((r) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, r));
    return { url: `ws://127.0.0.1:${(server.address() as { port: number }).port}` };
  },
  commands: {
    heap: () => heap(),
    metrics: () => ({ metrics: node?.gateway?.metrics ?? {} }),
  },
  async close() {
    await node?.stop();
    bare?.wss.close();
    bare?.server.close();
  },
});
