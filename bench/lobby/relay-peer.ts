/**
 * bench lobby's floor load: relay-only bots on bare `ws` connections to the raw relay server (raw-relay-server.ts),
 * in cities of `meanCity` members on average (the gatehouse run's own fan-out, so both do the same deliveries per
 * relay; cities hold 2 to 4), each relaying a 20-byte position at `hz` with a random phase, stamped like lobby/bot.ts's relays
 * (ms since the epoch, float64 little-endian, first 8 bytes) so latency is read the same way.
 *   open {url, count, meanCity}  opens `count` more bots, filling cities in order
 *   relays {on, hz}           starts or stops every bot's relays
 *   window {ms}               relays sent and received and the latency histogram over `ms`
 */
import WebSocket from 'ws';
import { Histogram, sleep } from '../harness/measure.js';
import { servePeer } from '../harness/peer-protocol.js';

/** Cities are filled in order; each one's size is floor or ceil of the mean, so sizes average `meanCity`. */
const cityFill = { id: 0, members: 0, size: 0, carry: 0 };
function nextCity(meanCity: number): string {
  if (cityFill.members >= cityFill.size) {
    const m = Math.min(4, Math.max(2, meanCity));
    cityFill.carry += m - Math.floor(m);
    cityFill.size = Math.floor(m) + (cityFill.carry >= 1 ? 1 : 0);
    if (cityFill.carry >= 1) cityFill.carry -= 1;
    cityFill.id++;
    cityFill.members = 0;
  }
  cityFill.members++;
  return `${process.env.GH_PEER_NAME ?? 'p'}-c${cityFill.id}`;
}
const now = () => performance.timeOrigin + performance.now();
const sockets: WebSocket[] = [];
const timers: Array<ReturnType<typeof setInterval> | ReturnType<typeof setTimeout>> = [];
let sent = 0;
let received = 0;
let hist = new Histogram();

function openBot(url: string, city: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ t: 'join', city })));
    ws.on('message', (d: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        ws.off('error', reject);
        ws.on('error', () => undefined);
        resolve(ws);
        return;
      }
      received++;
      if (d.length >= 8) hist.record((now() - d.readDoubleLE(0)) * 1000);
    });
  });
}

function relay(ws: WebSocket): void {
  if (ws.readyState !== WebSocket.OPEN) return;
  const d = Buffer.allocUnsafe(20);
  d.writeDoubleLE(now(), 0);
  d.writeFloatLE(Math.random() * 1000, 8);
  d.writeFloatLE(Math.random() * 1000, 12);
  d.writeFloatLE(Math.random() * 6.28, 16);
  sent++;
  ws.send(d);
}

function stopRelays(): void {
  for (const t of timers.splice(0)) clearTimeout(t);
}

await servePeer({
  commands: {
    async open(a) {
      const { url, count, meanCity } = a as unknown as { url: string; count: number; meanCity: number };
      // A few hundred handshakes at a time: the server accepts them in one event loop.
      for (let i = 0; i < count; i += 200) {
        const batch = Array.from({ length: Math.min(200, count - i) }, () => openBot(url, nextCity(meanCity)));
        sockets.push(...(await Promise.all(batch)));
      }
      return { bots: sockets.length };
    },
    relays(a) {
      stopRelays();
      if (a.on !== true) return { bots: sockets.length, relaying: false };
      const every = 1000 / Number(a.hz ?? 2);
      for (const ws of sockets) timers.push(setTimeout(() => timers.push(setInterval(() => relay(ws), every)), Math.random() * every));
      return { bots: sockets.length, relaying: true };
    },
    async window(a) {
      const ms = Number(a.ms);
      const s0 = sent;
      const r0 = received;
      hist = new Histogram();
      const t0 = performance.now();
      await sleep(ms);
      const h = hist;
      hist = new Histogram();
      return { seconds: (performance.now() - t0) / 1000, sent: sent - s0, received: received - r0, hist: h.toJSON() };
    },
  },
  close() {
    stopRelays();
    for (const ws of sockets) ws.terminate();
  },
});
