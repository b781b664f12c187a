/**
 * bench chat's baseline: the least a chat server can do on `ws`. A client joins a room with a name; what it says is
 * serialised once and sent to every member of its room, itself included. No sessions, no validation beyond JSON, no
 * acknowledgements: the ceiling the other systems are measured against. Loopback only; a benchmark peer (IPC).
 *
 *   client → server   {"t":"join","name","room"} (again to move)   {"t":"say","content"}
 *   server → client   {"t":"joined"}               {"msg","from","target":"*"} (one Buffer for the whole room)
 */
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { servePeer } from '../harness/peer-protocol.js';

const rooms = new Map<string, Set<WebSocket>>();
const server = createServer();
const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false, maxPayload: 64 * 1024 });

wss.on('connection', (ws) => {
  let room: Set<WebSocket> | undefined;
  let from = '';
  ws.on('error', () => undefined);
  ws.on('message', (data: Buffer) => {
    let m: { t?: string; name?: string; room?: string; content?: string };
    try {
      m = JSON.parse(data.toString());
    } catch {
      return;
    }
    if (m.t === 'say' && room) {
      const out = Buffer.from(JSON.stringify({ msg: m.content, from, target: '*' }));
      for (const peer of room) peer.send(out);
    } else if (m.t === 'join' && typeof m.room === 'string') {
      room?.delete(ws); // joining again moves
      from = String(m.name);
      room = rooms.get(m.room) ?? new Set();
      rooms.set(m.room, room);
      room.add(ws);
      ws.send('{"t":"joined"}');
    }
  });
  ws.on('close', () => room?.delete(ws));
});

await servePeer({
  async setup() {
    await new Promise<void>((r) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, r));
    return { url: `ws://127.0.0.1:${(server.address() as { port: number }).port}` };
  },
  commands: {},
  close() {
    wss.close();
    server.close();
  },
});
