/**
 * bench chat on Colyseus (@colyseus/core + @colyseus/ws-transport, their defaults: no permessage-deflate), in its own
 * process: the same chat as gatehouse's, written on Colyseus' Room API. One room per chat room (matchmaking filters on
 * `rid`); a name already in the room is refused; joins and leaves are announced (`onAdd`,
 * `onLeave`) and the joiner gets the member list; `send {content, target}` goes to everyone (`*`) or one member as
 * `onChat {msg, from, target}`, serialised once by `broadcast`. Loopback only; a benchmark peer (IPC). Colyseus is
 * loaded from bench/peers (bench/peers/resolve.ts).
 */
import type { Server as HttpServer } from 'node:http';
import { servePeer } from '../harness/peer-protocol.js';
import { peerRequire } from '../peers/resolve.js';
import type { ColyseusClient as Client, ColyseusCore, ColyseusWsTransport } from '../peers/colyseus-types.js';

// From bench/peers (their own package: Colyseus 0.18 wants Node >= 22, the root package must not carry it).
const { Room, Server } = peerRequire<ColyseusCore>('@colyseus/core');
const { WebSocketTransport } = peerRequire<ColyseusWsTransport>('@colyseus/ws-transport');

interface JoinOptions {
  rid: string;
  name: string;
}

class ChatRoom extends Room {
  // Membership is decided by `rid` (filterBy below), not by filling rooms up: the cap only has to clear the largest room.
  override maxClients = 100_000;
  override autoDispose = true;
  private readonly names = new Map<string, string>(); // sessionId → name

  override onCreate(): void {
    // No synchronised state: nothing to patch at the default 20 Hz.
    this.patchRate = null;
    // A 1000-member room fills through 1000 matchmaking requests on a busy 2-core host; the default 15 s seat
    // reservation can lapse while they queue (gatehouse gets a longer ask timeout for the same reason).
    this.seatReservationTimeout = 60;
    this.onMessage('send', (client: Client, m: { content?: unknown; target?: unknown }) => {
      const from = this.names.get(client.sessionId);
      if (from === undefined || typeof m?.content !== 'string') return;
      const target = typeof m.target === 'string' ? m.target : '*';
      const line = { msg: m.content, from, target };
      if (target === '*') {
        this.broadcast('onChat', line);
        return;
      }
      for (const c of this.clients) if (this.names.get(c.sessionId) === target) c.send('onChat', line);
    });
  }

  override onJoin(client: Client, o: JoinOptions): void {
    const name = String(o?.name ?? '');
    for (const n of this.names.values()) if (n === name) throw new Error('name taken in this room');
    this.names.set(client.sessionId, name);
    this.broadcast('onAdd', { user: name }, { except: client });
    client.send('users', { users: [...this.names.values()] });
  }

  override onLeave(client: Client): void {
    const name = this.names.get(client.sessionId);
    this.names.delete(client.sessionId);
    if (name !== undefined) this.broadcast('onLeave', { user: name });
  }
}

const transport = new WebSocketTransport({ pingInterval: 30_000 });
const server = new Server({ transport, greet: false, gracefullyShutdown: false });
server.define('chat', ChatRoom).filterBy(['rid']);

await servePeer({
  async setup() {
    await server.listen(0, '127.0.0.1');
    const http = (transport as unknown as { server: HttpServer }).server;
    return { url: `ws://127.0.0.1:${(http.address() as { port: number }).port}` };
  },
  commands: {},
  async close() {
    await server.gracefullyShutdown(false).catch(() => undefined);
  },
});
