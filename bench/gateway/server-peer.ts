/**
 * bench gateway, server side: one gatehouse node with the gateway role (embedded bus: the gateway and its connection
 * actors are what is measured, not NATS), or a bare `ws` echo server as the baseline. Started with --expose-gc so
 * `heap` reports live memory only.
 *
 *   args: ours | auth | bare   (auth: ours with gateway.auth.mode token, an HS256 key file made here; every
 *   connection's token is verified)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNewSecretFile } from '../../gateway/auth/tokens.js';
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { servePeer } from '../harness/peer-protocol.js';
import { createEmbedded } from '../../server/node.js';
import { createEchoApp } from '../../dev/echo-app.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { profStart, profStop } from './phase-prof.js';

const kind = process.argv[2] === 'bare' ? 'bare' : process.argv[2] === 'auth' ? 'auth' : 'ours';
let keyDir: string | undefined;
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
    if (kind !== 'bare') {
      let keyFile: string | undefined;
      if (kind === 'auth') {
        keyDir = mkdtempSync(join(tmpdir(), 'gh-bench-auth-'));
        keyFile = join(keyDir, 'hs256.key');
        await writeNewSecretFile(keyFile);
      }
      const auth = keyFile && { mode: 'token' as const, secretFile: keyFile, clockToleranceSec: 5, anonymousApps: [], allowNoneOnPublicHost: false };
      node = await startGatewayNode({
        apps: [createEchoApp()],
        embedded: createEmbedded(),
        // Clients are held idle for minutes; the bench measures holding them, not heartbeat traffic.
        // All clients come from a few loopback addresses: the per-address bounds would refuse most of them.
        gateway: {
          heartbeatMs: 300_000,
          requestsPerSecond: 1e6,
          requestBurst: 1_000_000,
          maxConnections: 1_000_000,
          maxConnectionsPerAddress: 1_000_000,
          requestsPerSecondPerAddress: 1e9,
          requestBurstPerAddress: 1_000_000_000,
          ...(auth && { auth }),
        },
      });
      return { url: node.wsUrl, ...(keyFile && { keyFile }) };
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
    // A profile of one phase only (hot-path.ts, HOT_PROF): started and written on command.
    usage: () => process.cpuUsage(),
    profStart: (a) => profStart(Number(a.intervalUs ?? 100)),
    profStop: (a) => profStop(String(a.file)),
  },
  async close() {
    await node?.stop();
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
    bare?.wss.close();
    bare?.server.close();
  },
});
