/**
 * Browser entry of the SDK (served by every gateway at /sdk/gatehouse.js):
 *
 *   const { connect } = await import('/sdk/gatehouse.js');
 *   const gh = await connect({ entry: '/entry' });     // or { url: 'ws://host:7350' }
 *   gh.on('onChat', (m) => show(m));
 *   await gh.request('chat.enter', { name: 'ann', room: 'lobby' });
 *
 * Uses the browser's WebSocket; nothing here needs Node.
 */
import { connectWith, type ConnectOptions, type GatehouseClient } from './client.js';
import { webSocketOpener, type WebSocketConstructor } from './socket.js';

export { GatehouseClient, SDK_VERSION, type ConnectOptions, type RequestOptions, type ClientEvents } from './client.js';
export { GatehouseClientError, ClientErrorCode, CloseCode } from './errors.js';
export { typed, type TypedClient, type RouteMap, type PushMap, type RouteSpec } from './typed.js';
export { chatClient, CHAT_ROUTES, type ChatClient, type ChatRoutes, type ChatPushes } from './chat-api.js';
export { lobbyClient, LOBBY_ROUTES, LOBBY_PUSHES, type LobbyClient, type LobbyRoutes, type LobbyPushes } from './lobby-api.js';

export function connect(opts: ConnectOptions): Promise<GatehouseClient> {
  const WS = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!WS) throw new TypeError('this environment has no WebSocket; in Node use client/node.js');
  // A relative entry (`/entry`) is relative to the page.
  const loc = (globalThis as { location?: { href: string } }).location;
  const entry = opts.entry && loc ? new URL(opts.entry, loc.href).href : opts.entry;
  return connectWith(webSocketOpener(WS), { ...opts, entry });
}
