/**
 * The gateway's sockets: native WebSocket and TCP, Pomelo WebSocket and TCP, and HTTP (entry endpoint, web pages, the
 * browser SDK). TLS, when configured, applies to all of them (wss, TLS over TCP, https). Port 0 picks a free port;
 * the URLs reported are what clients should use (publicHost when set).
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import { GatehouseError, ErrorCode } from '../common/errors.js';
import type { Protocol } from './connection.js';
import type { GatewaySettings } from './settings.js';

export interface ListenerHandlers {
  ws(ws: WebSocket, proto: Protocol): void;
  tcp(socket: Socket, proto: Protocol): void;
  http(req: IncomingMessage, res: ServerResponse): void;
}

export interface Ports {
  ws: number;
  tcp: number;
  pomeloWs: number;
  pomeloTcp: number;
  http: number;
}

export interface Listeners {
  readonly ports: Ports;
  /** Human-readable names → URLs, for `status` and the start-up banner. */
  readonly urls: Record<string, string>;
  /** Stops accepting; open connections are the gateway's to close. */
  close(): Promise<void>;
}

/** Pending connections the kernel may queue per listener: thousands of clients reconnecting at once fit. */
const BACKLOG = 4096;

export async function startListeners(s: GatewaySettings, on: ListenerHandlers): Promise<Listeners> {
  const tls = s.tls ? { cert: readTls(s.tls.certFile, 'certFile'), key: readTls(s.tls.keyFile, 'keyFile') } : undefined;
  const servers: Array<HttpServer | NetServer> = [];
  const wss: WebSocketServer[] = [];
  const listen = async (server: HttpServer | NetServer, port: number, what: string): Promise<number> => {
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error) =>
        reject(new GatehouseError(ErrorCode.Config, `gateway ${what}: cannot listen on ${s.host}:${port}: ${err.message}`, { cause: err }));
      server.once('error', fail);
      server.listen({ port, host: s.host, backlog: BACKLOG }, () => {
        server.off('error', fail);
        resolve();
      });
    });
    return (server.address() as { port: number }).port;
  };
  const http = (handler?: (req: IncomingMessage, res: ServerResponse) => void) =>
    tls ? createHttpsServer(tls, handler) : createHttpServer(handler);
  const wsServer = async (port: number, proto: Protocol, what: string) => {
    const server = http();
    // The Pomelo limit is per package; a WebSocket message may carry a few (Pomelo batches), hence the margin.
    const maxPayload = proto === 'native' ? s.maxFrameBytes : 4 * (s.maxFrameBytes + 4);
    const w = new WebSocketServer({ server, maxPayload, perMessageDeflate: false, clientTracking: false });
    w.on('connection', (ws) => on.ws(ws, proto));
    w.on('error', () => undefined); // errors of the underlying server surface through listen()
    wss.push(w);
    return listen(server, port, what);
  };
  const tcpServer = async (port: number, proto: Protocol, what: string) => {
    const server = tls
      ? createTlsServer(tls, (sock) => on.tcp(sock, proto))
      : createNetServer({ noDelay: true }, (sock) => on.tcp(sock, proto));
    if (tls) server.on('secureConnection', (sock) => sock.setNoDelay(true));
    server.on('tlsClientError', () => undefined);
    return listen(server, port, what);
  };

  try {
    const ports: Ports = {
      ws: await wsServer(s.wsPort, 'native', 'WebSocket'),
      tcp: await tcpServer(s.tcpPort, 'native', 'TCP'),
      pomeloWs: await wsServer(s.pomeloWsPort, 'pomelo', 'Pomelo WebSocket'),
      pomeloTcp: await tcpServer(s.pomeloTcpPort, 'pomelo', 'Pomelo TCP'),
      http: await listen(http(on.http), s.httpPort, 'HTTP'),
    };
    const host = s.publicHost ?? s.host;
    const [ws, tcp, web] = tls ? ['wss', 'tls', 'https'] : ['ws', 'tcp', 'http'];
    const urls = {
      'native ws': `${ws}://${host}:${ports.ws}`,
      'native tcp': `${tcp}://${host}:${ports.tcp}`,
      'pomelo ws': `${ws}://${host}:${ports.pomeloWs}`,
      'pomelo tcp': `${tcp}://${host}:${ports.pomeloTcp}`,
      'entry (http)': `${web}://${host}:${ports.http}/entry`,
      'web pages': `${web}://${host}:${ports.http}/`,
      'browser SDK': `${web}://${host}:${ports.http}/sdk/gatehouse.js`,
    };
    return { ports, urls, close: () => closeAll(servers, wss) };
  } catch (err) {
    await closeAll(servers, wss);
    throw err;
  }
}

async function closeAll(servers: Array<HttpServer | NetServer>, wss: WebSocketServer[]): Promise<void> {
  for (const w of wss) w.close();
  await Promise.all(
    servers.map(
      (srv) =>
        new Promise<void>((resolve) => {
          if (!srv.listening) return resolve();
          srv.close(() => resolve());
          // HTTP keep-alive sockets would hold close() open; gateway sockets were closed by the gateway already.
          (srv as HttpServer).closeAllConnections?.();
        }),
    ),
  );
}

function readTls(path: string, field: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new GatehouseError(ErrorCode.Config, `gateway.tls.${field}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}
