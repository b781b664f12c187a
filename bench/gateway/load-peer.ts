/**
 * bench gateway, load side: holds many WebSocket clients to one server from one source address (127.0.0.x, so
 * several load processes stay clear of each other's ephemeral ports), and measures request round trips on a few of
 * them. `native` clients speak the gatehouse protocol (hello → welcome, `echo` requests, pings while held); `bare`
 * clients just exchange 64-byte messages with an echo server.
 *
 * `native` clients with `tokens` (prepared before the timed open) send one in their hello, a different one each.
 *
 *   commands: tokens {keyFile, n} · open {url, n, mode, localAddress} · rtt {ms, inflight} · close
 */
import { readSecretFile, signToken } from '../../gateway/auth/tokens.js';
import WebSocket from 'ws';
import { Histogram } from '../harness/measure.js';
import { servePeer } from '../harness/peer-protocol.js';
import { decodeFrame, encodeFrame } from '../../protocol/native/index.js';

type Mode = 'native' | 'bare';
const OPEN_CONCURRENCY = 256;
const BODY = { pad: 'x'.repeat(40) }; // a ~60-byte request frame, like the 64-byte bare message
const BARE_MSG = Buffer.alloc(64, 7);
const HELLO = encodeFrame({ type: 'hello', v: 1, client: 'bench' });
const PING = encodeFrame({ type: 'ping' });

let mode: Mode = 'native';
/** Hellos carrying a token each, used in order by `open` when prepared. */
let hellos: Uint8Array[] = [];
const socks: WebSocket[] = [];
let pinger: NodeJS.Timeout | undefined;

function openOne(url: string, localAddress: string): Promise<WebSocket | undefined> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, localAddress, handshakeTimeout: 30_000 } as WebSocket.ClientOptions);
    ws.on('error', () => resolve(undefined));
    ws.on('close', () => resolve(undefined)); // refused after the upgrade (a close before any welcome)
    ws.once('open', () => {
      if (mode === 'bare') return resolve(ws);
      ws.once('message', (d: Buffer) => resolve(decodeFrame(d).type === 'welcome' ? ws : undefined));
      ws.send(hellos.pop() ?? HELLO);
    });
  });
}

async function open(url: string, n: number, localAddress: string) {
  const start = performance.now();
  let failed = 0;
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const ws = await openOne(url, localAddress);
      if (ws) socks.push(ws);
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: OPEN_CONCURRENCY }, worker));
  const seconds = (performance.now() - start) / 1000;
  if (mode === 'native' && !pinger) {
    // Keep held connections alive well inside the server's heartbeat (bench servers use 300 s).
    pinger = setInterval(() => socks.forEach((s) => s.readyState === 1 && s.send(PING)), 60_000);
  }
  return { opened: n - failed, failed, seconds };
}

/** Byte 1 of a native frame is its tag (docs/PROTOCOL.md): 4 `res`, 5 `res` with an error. */
const isRes = (d: Buffer) => d.length > 1 && (d[1] === 4 || d[1] === 5);

/**
 * `inflight` connections each run request → answer → request … for `ms`; returns the latency histogram.
 *
 * The load costs the same on both sides: a bare client sends a constant buffer and reads nothing of the answer, so a
 * native client sends a request encoded once per connection (its own id: one request in flight per connection, so
 * ids stay unique among those in flight) and tells an answer from a pong by the tag byte, not by decoding each frame.
 * On this 2-core host the load processes share the CPUs with the servers: a client's own MessagePack work per
 * request lowered the gateway's requests/s against bare ws without being the gateway's cost.
 */
async function rtt(ms: number, inflight: number) {
  const hist = new Histogram();
  const end = performance.now() + ms;
  const loop = (ws: WebSocket, i: number) =>
    new Promise<void>((resolve) => {
      const req = mode === 'bare' ? BARE_MSG : Buffer.from(encodeFrame({ type: 'req', id: i + 1, route: 'echo', body: BODY }));
      let t0 = 0;
      const send = () => {
        if (performance.now() >= end) {
          ws.off('message', onMsg);
          return resolve();
        }
        t0 = performance.now();
        ws.send(req);
      };
      const onMsg = (d: Buffer) => {
        if (mode === 'native' && !isRes(d)) return; // pongs of the keep-alive pinger
        hist.record((performance.now() - t0) * 1000);
        send();
      };
      ws.on('message', onMsg);
      send();
    });
  const start = performance.now();
  await Promise.all(socks.slice(0, inflight).map(loop));
  return { count: hist.count, seconds: (performance.now() - start) / 1000, hist: hist.toJSON() };
}

async function closeAll() {
  if (pinger) clearInterval(pinger);
  pinger = undefined;
  for (const s of socks) s.terminate();
  socks.length = 0;
}

await servePeer({
  commands: {
    tokens: async (a) => {
      const secret = await readSecretFile(String(a.keyFile));
      const now = Date.now();
      hellos = [];
      for (let i = 0; i < Number(a.n); i++) {
        const token = await signToken(secret, { sub: `bench-${i}`, ttlSec: 3600 }, now);
        hellos.push(encodeFrame({ type: 'hello', v: 1, client: 'bench', token }));
      }
      return { n: hellos.length };
    },
    open: (a) => {
      mode = a.mode as Mode;
      return open(String(a.url), Number(a.n), String(a.localAddress));
    },
    rtt: (a) => rtt(Number(a.ms), Number(a.inflight)),
    close: () => closeAll(),
  },
  close: () => closeAll(),
});
