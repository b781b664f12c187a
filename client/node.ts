/**
 * Node entry of the SDK: WebSocket through the `ws` package, and the native protocol over plain TCP or TLS
 * (`tcp://host:port`, `tls://host:port`, framed with a 4-byte length prefix).
 *
 *   import { connect, lobbyClient } from 'gatehouse/client/node';
 *   const gh = await connect({ url: 'ws://127.0.0.1:7350' });
 *   const lobby = lobbyClient(gh);                      // typed routes and pushes (lobby-api.ts; chatClient too)
 *
 * docs/SDK.md has the quick start.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import { createTcpFrameDecoder, encodeTcp } from '../protocol/native/stream.js';
import { encodeFrame } from '../protocol/native/codec.js';
import { connectWith, type ConnectOptions, type GatehouseClient } from './client.js';
import { webSocketOpener, type ClientSocket, type SocketOpener, type WebSocketConstructor } from './socket.js';

export { GatehouseClient, SDK_VERSION, type ConnectOptions, type RequestOptions, type ClientEvents } from './client.js';
export { GatehouseClientError, ClientErrorCode, CloseCode } from './errors.js';
export { typed, type TypedClient, type RouteMap, type PushMap, type RouteSpec } from './typed.js';
export { chatClient, CHAT_ROUTES, type ChatClient, type ChatRoutes, type ChatPushes } from './chat-api.js';
export { lobbyClient, LOBBY_ROUTES, LOBBY_PUSHES, type LobbyClient, type LobbyRoutes, type LobbyPushes } from './lobby-api.js';

export interface NodeConnectOptions extends ConnectOptions {
  /** TLS: accept a self-signed gateway certificate (tests, development). */
  rejectUnauthorized?: boolean;
  /** TLS: the certificate authorities to trust instead of Node's defaults (PEM), e.g. a private CA. */
  ca?: string | Buffer | Array<string | Buffer>;
}

type TlsOptions = Pick<NodeConnectOptions, 'rejectUnauthorized' | 'ca'>;

export function connect(opts: NodeConnectOptions): Promise<GatehouseClient> {
  return connectWith(nodeOpener(opts), opts);
}

export function nodeOpener(opts: TlsOptions = {}): SocketOpener {
  const WS = class extends WebSocket {
    constructor(url: string) {
      super(url, { perMessageDeflate: false, rejectUnauthorized: opts.rejectUnauthorized ?? true, ca: opts.ca });
    }
  } as unknown as WebSocketConstructor;
  const ws = webSocketOpener(WS);
  return (url) => (url.startsWith('tcp://') || url.startsWith('tls://') ? tcpSocket(url, opts) : ws(url));
}

function tcpSocket(url: string, opts: TlsOptions): ClientSocket {
  const u = new URL(url);
  const port = Number(u.port);
  const sock: Socket =
    u.protocol === 'tls:'
      ? tlsConnect({ host: u.hostname, port, rejectUnauthorized: opts.rejectUnauthorized ?? true, ca: opts.ca })
      : netConnect({ host: u.hostname, port, noDelay: true });
  const deframer = createTcpFrameDecoder({ maxFrameBytes: 0x7fff_ffff });
  let closed = false;
  const s: ClientSocket = {
    send: (bytes) => {
      if (!sock.destroyed) sock.write(encodeTcp(bytes));
    },
    close: (code, reason) => {
      if (code !== undefined && !sock.destroyed) sock.write(encodeTcp(encodeFrame({ type: 'close', code, reason: reason ?? '' })));
      sock.end();
      setTimeout(() => sock.destroy(), 2000).unref();
    },
    onopen: () => undefined,
    onmessage: () => undefined,
    onclose: () => undefined,
  };
  sock.once(u.protocol === 'tls:' ? 'secureConnect' : 'connect', () => s.onopen());
  sock.on('data', (chunk: Buffer) => {
    let frames: Uint8Array[];
    try {
      frames = deframer.push(chunk);
    } catch {
      sock.destroy();
      return;
    }
    for (const f of frames) s.onmessage(f);
  });
  // Kept as the close reason: a refused certificate then reads "connection closed (1006 self-signed certificate…)".
  let lastError = '';
  sock.on('error', (e) => (lastError = e.message));
  sock.on('close', () => {
    if (closed) return;
    closed = true;
    // TCP carries no close code: a server `close` frame (seen by the client core) says why; else it just dropped.
    s.onclose(1006, lastError);
  });
  return s;
}
