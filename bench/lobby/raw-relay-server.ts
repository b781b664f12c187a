/**
 * bench lobby's floor: the least a lobby relay server can do on `ws`, in one process. A client joins a city (a text
 * frame `{"t":"join","city"}`, again to move); every binary frame it sends is forwarded as is to the others in its
 * city (the same fan-out as a gatehouse city: up to four hunters, the sender excluded). No sessions, no validation,
 * no envelope, no acknowledgement. Loopback only; a benchmark peer (IPC).
 */
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { servePeer } from '../harness/peer-protocol.js';

const cities = new Map<string, Set<WebSocket>>();
const server = createServer();
const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false, maxPayload: 4096 });

wss.on('connection', (ws) => {
  let city: Set<WebSocket> | undefined;
  ws.on('error', () => undefined);
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) {
      if (city) for (const peer of city) if (peer !== ws) peer.send(data);
      return;
    }
    let m: { t?: string; city?: string };
    try {
      m = JSON.parse(data.toString());
    } catch {
      return;
    }
    if (m.t === 'join' && typeof m.city === 'string') {
      city?.delete(ws);
      city = cities.get(m.city) ?? new Set();
      cities.set(m.city, city);
      city.add(ws);
      ws.send('{"t":"joined"}');
    }
  });
  ws.on('close', () => city?.delete(ws));
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
