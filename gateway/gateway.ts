/**
 * The gateway component of a node (role `gateway`): accepts sockets, gives each a connection core, a protocol handler
 * and a pinned `conn` actor, delivers pushes that actors address to its connections (`gw.<node>.push`: one push or a
 * worker's batch per message, push-handler.ts), runs session-end hooks for any session, and registers its load for the
 * entry endpoint.
 */
import type { WebSocket } from 'ws';
import type { Socket } from 'node:net';
import { CONN_KIND } from '../actors/connection/connection.js';
import { SESSION_KIND } from '../actors/session/session.js';
import { IDENTITY_KIND } from '../actors/session/identity.js';
import { subjects } from '../bus/subjects.js';
import { GatehouseError, ErrorCode } from '../common/errors.js';
import { CloseCode } from '../protocol/error-codes.js';
import type { NodeComponent, NodeContext } from '../node-api/node.js';
import type { RouteHandler } from '../node-api/gateway-app.js';
import { Admission, refusalReason } from './admission.js';
import { createAttachments } from './attachments.js';
import { createAuthenticator } from './auth/authenticator.js';
import { createChannels } from './channels.js';
import { Connection, type GatewayServices, type Protocol } from './connection.js';
import { runSessionEnd, startHookService } from './hooks.js';
import { createHttpHandler } from './http.js';
import { startListeners } from './listeners.js';
import { newGatewayMetrics } from './metrics.js';
import { createNativeHandler } from './native-adapter.js';
import { defaultWebRoot } from './paths.js';
import { createPomeloHandler } from './pomelo-adapter.js';
import { createPushHandler } from './push-handler.js';
import { startRegistry } from './registry.js';
import { buildRouteTable } from './routes.js';
import { refuseSocket } from './refuse.js';
import { createSdkFiles } from './sdk-files.js';
import { gatewaySettings } from './settings.js';
import { TcpTransport, WsTransport } from './transport.js';

export interface GatewayOptions {
  /** Directory served as static files (default: web/ at the repository root). */
  webRoot?: string;
}

export interface Gateway extends NodeComponent {
  /** Open connections (handshaking ones included). */
  readonly connections: number;
  readonly metrics: ReturnType<typeof newGatewayMetrics>;
  readonly ports: { ws: number; tcp: number; pomeloWs: number; pomeloTcp: number; http: number };
  readonly urls: Record<string, string>;
}

const REQUIRED_KINDS = [CONN_KIND, SESSION_KIND, IDENTITY_KIND];

/** Pomelo's gate route, answered by the gateway itself unless an app defines it. */
const queryEntry: RouteHandler = async (ctx) => {
  const e = await ctx.entry!('pomelo');
  return { code: 200, host: e.host, port: e.port };
};

export function gatewayComponent(opts: GatewayOptions = {}): (ctx: NodeContext) => Promise<NodeComponent> {
  return (ctx) => startGateway(ctx, opts);
}

export async function startGateway(ctx: NodeContext, opts: GatewayOptions = {}): Promise<Gateway> {
  for (const k of REQUIRED_KINDS) {
    if (!ctx.host.kind(k)) {
      throw new GatehouseError(ErrorCode.UnknownKind, `the gateway needs actor kind ${k}: add gatewayKindsApp (gateway/kinds.ts) to the node's apps`);
    }
  }
  const settings = gatewaySettings(ctx.config);
  const log = ctx.log.child({ component: 'gateway' });
  const actors = ctx.host.client;
  const conns = new Map<string, Connection>();
  const tick = settings.channelTickMs;
  const channels = createChannels({
    node: ctx.id,
    bus: ctx.channelBus ?? ctx.bus,
    connection: (id) => conns.get(id),
    log,
    ...(tick > 0 && { defer: (fn: () => void) => void ctx.clock.setTimeout(fn, tick) }),
  });
  // Apps with per-gateway state get their part for this gateway (GatewayApp.forGateway).
  const apps = ctx.apps.map((a) => (a.gateway?.forGateway ? { ...a, gateway: a.gateway.forGateway({ node: ctx.id, channels }) } : a));
  const auth = await createAuthenticator({ auth: settings.auth, host: settings.host, apps, clock: ctx.clock, log });
  const routes = buildRouteTable(apps, { pomelo: { 'gate.gateHandler.queryEntry': queryEntry } }, auth.guard);
  const metrics = newGatewayMetrics();
  const admission = new Admission(settings, ctx.clock);
  const runEnd = (info: Parameters<typeof runSessionEnd>[3]) => runSessionEnd(routes, actors, log, info);
  const attachments = createAttachments(actors, settings, log, runEnd);
  let stopping = false;
  // Filled once the listeners know their ports; entry answers need them.
  let self: () => import('./registry.js').GatewayRecord = () => {
    throw new Error('gateway not listening yet');
  };
  let registry: Awaited<ReturnType<typeof startRegistry>> | undefined;

  const services: GatewayServices = {
    nodeId: ctx.id,
    clock: ctx.clock,
    log,
    actors,
    routes,
    attachments,
    settings,
    metrics,
    admission,
    auth,
    entry: (p) => registry!.leastLoaded(p),
    forget: (c) => {
      if (conns.get(c.id) !== c) return;
      conns.delete(c.id);
      channels.dropConn(c.id);
      admission.release(c.address);
    },
  };

  const accept = (transport: WsTransport | TcpTransport, proto: Protocol): Connection | undefined => {
    if (stopping) {
      transport.close(CloseCode.ShuttingDown, 'server is shutting down');
      return undefined;
    }
    const refused = admission.admit(transport.address, ctx.clock.now());
    if (refused) {
      if (refused === 'gateway') metrics.refusedGateway++;
      else metrics.refusedAddress++;
      refuseSocket(transport, proto, CloseCode.TooManyConnections, refusalReason(refused));
      // A peer that never completes the close must not keep its socket: the same linger as any closing connection.
      ctx.clock.setTimeout(() => transport.destroy(), settings.closeTimeoutMs);
      return undefined;
    }
    const conn = new Connection(services, transport, proto);
    conn.handler = proto === 'native' ? createNativeHandler(conn) : createPomeloHandler(conn);
    conns.set(conn.id, conn);
    metrics.accepted++;
    ctx.host.spawnPinned(CONN_KIND, conn.id, { gw: ctx.id, id: conn.id, proto, transport: transport.kind });
    return conn;
  };

  const onWs = (ws: WebSocket, proto: Protocol) => {
    const conn = accept(new WsTransport(ws), proto);
    ws.on('error', () => undefined); // a reset peer; 'close' follows
    if (!conn) return;
    ws.on('message', (data: Buffer, binary: boolean) => conn.handler.receive(data, binary));
    ws.on('close', () => conn.handler.transportClosed());
    // ws refuses a message over maxPayload from its header, then closes with 1009. Listening ahead of ws's own
    // handler lets the protocol say why first (an error frame or a kick), while the connection is still open.
    const receiver = (ws as unknown as { _receiver?: NodeJS.EventEmitter })._receiver;
    receiver?.prependListener('error', (err: { code?: string }) => {
      if (err?.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') conn.handler.oversized();
    });
  };

  const onTcp = (socket: Socket, proto: Protocol) => {
    socket.on('error', () => undefined);
    const conn = accept(new TcpTransport(socket), proto);
    if (!conn) return;
    socket.on('data', (data: Buffer) => conn.handler.receive(data, true));
    socket.on('close', () => conn.handler.transportClosed());
  };

  const onPush = createPushHandler({ connection: (id) => conns.get(id), metrics, log });

  const pushSub = ctx.bus.subscribe(subjects.gateway(ctx.id, 'push'), onPush);
  const hookSub = startHookService(ctx.bus, routes, actors, log);
  const webRoot = opts.webRoot ?? defaultWebRoot();
  let listeners;
  try {
    listeners = await startListeners(settings, {
      ws: onWs,
      tcp: onTcp,
      http: createHttpHandler({ webRoot, sdk: createSdkFiles(), entry: (p) => services.entry(p), nodeStatus: () => ctx.status(), log }),
    });
    const { ports, urls } = listeners;
    const host = settings.publicHost ?? settings.host;
    const recordUrls = {
      ws: urls['native ws']!,
      tcp: urls['native tcp']!,
      pomeloWs: urls['pomelo ws']!,
      pomeloTcp: urls['pomelo tcp']!,
      http: urls['entry (http)']!.replace(/\/entry$/, ''),
    };
    self = () => ({ node: ctx.id, host, ports, urls: recordUrls, load: conns.size });
    registry = await startRegistry({ store: ctx.store, clock: ctx.clock, log, self: () => self() });
    await ctx.bus.flush();
  } catch (err) {
    pushSub.unsubscribe();
    hookSub.unsubscribe();
    channels.stop();
    await listeners?.close();
    throw err;
  }
  log.info({ urls: listeners.urls, auth: auth.mode }, 'gateway listening');
  const l = listeners;

  return {
    name: 'gateway',
    get connections() {
      return conns.size;
    },
    metrics,
    ports: l.ports,
    urls: l.urls,
    status: () => ({ urls: l.urls, connections: conns.size, addresses: admission.addresses, requestsWaiting: admission.waiting, requestsDeferred: admission.deferred, channels: channels.subscribed, channelsPublished: channels.counts.published, channelsReceived: channels.counts.received, channelsPushed: channels.counts.pushed, channelsMalformed: channels.counts.malformed, ...metrics }),
    async stop() {
      if (stopping) return;
      stopping = true;
      await registry?.stop();
      // Clients reconnect elsewhere and resume: 4300 is resumable, so their sessions wait out the grace period.
      const closing = [...conns.values()];
      for (const c of closing) c.kick(CloseCode.ShuttingDown, 'server is shutting down');
      await waitUntil(() => conns.size === 0, settings.closeTimeoutMs + 500);
      for (const c of conns.values()) c.transport.destroy();
      await l.close();
      pushSub.unsubscribe();
      hookSub.unsubscribe();
      channels.stop();
    },
  };
}

/** Polls a condition set by socket events (there is no single event to await for "all sockets closed"). */
async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}
