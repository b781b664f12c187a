/**
 * A Pomelo client for tests, built on `pinus-protocol` (an independent implementation of the protocol, the codec Pinus
 * servers and their Node clients use) so that our gateway is checked against someone else's reading of the wire, not
 * against our own codec. It behaves like the stock JS client: handshake, handshake-ack, heartbeats paced by the
 * server's, requests with ids from 1, notifies, pushes, routes compressed when the server's dictionary has them.
 * Over WebSocket (`ws://…`) or TCP (`tcp://host:port`; packages are framed by their own 4-byte header).
 */
import { createRequire } from 'node:module';
import { connect as tcpConnect, type Socket } from 'node:net';
import WebSocket from 'ws';

interface PinusPackage {
  type: number;
  body: Buffer | null;
}
interface PinusMessage {
  id: number;
  type: number;
  compressRoute: number;
  route: string | number | null;
  body: Buffer;
}
interface Pinus {
  Protocol: { strencode(s: string): Buffer; strdecode(b: Buffer): string };
  Package: { encode(type: number, body?: Buffer): Buffer; decode(bytes: Uint8Array): PinusPackage | PinusPackage[] };
  Message: {
    encode(id: number, type: number, compressRoute: boolean, route: string | number | null, msg: Buffer): Buffer;
    decode(bytes: Uint8Array): PinusMessage;
  };
}
// The package's `types` entry points at TypeScript sources that do not compile under our settings: load it untyped.
const pinus = createRequire(import.meta.url)('pinus-protocol') as Pinus;
const { Package, Message, Protocol } = pinus;

const PKG = { handshake: 1, ack: 2, heartbeat: 3, data: 4, kick: 5 } as const;
const MSG = { request: 0, notify: 1, response: 2, push: 3 } as const;

export interface Push {
  route: string;
  body: Record<string, unknown>;
}

export interface PomeloTestClient {
  /** The server's handshake answer (`{code, sys: {heartbeat, dict, …}}`). */
  readonly handshake: Record<string, unknown> & { code: number; sys?: { heartbeat?: number; dict?: Record<string, number> } };
  readonly pushes: Push[];
  /** Set when the server kicked us. */
  kicked?: unknown;
  request<T = Record<string, unknown>>(route: string, body: unknown, timeoutMs?: number): Promise<T>;
  notify(route: string, body: unknown): void;
  /** Resolves with the first push (already received or coming) on `route` that `pred` accepts. */
  waitPush(route: string, pred?: (body: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Polite close. */
  close(): Promise<void>;
  /** Drops the connection without a goodbye, as a crashed client or a pulled cable would. */
  destroy(): void;
  readonly closed: Promise<void>;
}

interface Wire {
  send(b: Buffer): void;
  close(): void;
  destroy(): void;
}

export async function connectPomelo(url: string, o: { timeoutMs?: number; user?: Record<string, unknown> } = {}): Promise<PomeloTestClient> {
  const timeoutMs = o.timeoutMs ?? 5000;
  const pushes: Push[] = [];
  const waiters: Array<{ route: string; pred: (b: Record<string, unknown>) => boolean; resolve: (b: Record<string, unknown>) => void }> = [];
  const pending = new Map<number, { route: string; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let codeToRoute = new Map<number, string>();
  let routeToCode: Record<string, number> = {};
  let heartbeatMs = 0;
  let beat: NodeJS.Timeout | undefined;
  let nextId = 1;
  let onHandshake!: (h: PomeloTestClient['handshake']) => void;
  let failHandshake!: (e: Error) => void;
  const handshakeDone = new Promise<PomeloTestClient['handshake']>((res, rej) => {
    onHandshake = res;
    failHandshake = rej;
  });
  let markClosed!: () => void;
  const closed = new Promise<void>((r) => (markClosed = r));
  const client = { pushes } as unknown as PomeloTestClient & { kicked?: unknown; handshake: PomeloTestClient['handshake'] };

  const onPackage = (p: PinusPackage) => {
    switch (p.type) {
      case PKG.handshake: {
        const h = JSON.parse(Protocol.strdecode(p.body!)) as PomeloTestClient['handshake'];
        if (h.code !== 200) return failHandshake(new Error(`handshake refused: ${JSON.stringify(h)}`));
        routeToCode = h.sys?.dict ?? {};
        codeToRoute = new Map(Object.entries(routeToCode).map(([r, c]) => [c, r]));
        heartbeatMs = (h.sys?.heartbeat ?? 0) * 1000;
        wire.send(Package.encode(PKG.ack));
        onHandshake(h);
        return;
      }
      case PKG.heartbeat:
        // Like the JS client: answer the server's heartbeat one interval later.
        if (heartbeatMs > 0 && !beat) {
          beat = setTimeout(() => {
            beat = undefined;
            wire.send(Package.encode(PKG.heartbeat));
          }, heartbeatMs);
          beat.unref();
        }
        return;
      case PKG.kick:
        client.kicked = p.body ? JSON.parse(Protocol.strdecode(p.body)) : {};
        return;
      case PKG.data: {
        const m = Message.decode(p.body!);
        const body = m.body.length ? (JSON.parse(Protocol.strdecode(m.body)) as Record<string, unknown>) : {};
        if (m.type === MSG.response) {
          const w = pending.get(m.id);
          pending.delete(m.id);
          w?.resolve(body);
          return;
        }
        const route = typeof m.route === 'number' ? (codeToRoute.get(m.route) ?? `#${m.route}`) : String(m.route);
        pushes.push({ route, body });
        for (const w of [...waiters]) {
          if (w.route === route && w.pred(body)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(body);
          }
        }
        return;
      }
    }
  };
  const onBytes = (b: Buffer) => {
    const d = Package.decode(b);
    for (const p of Array.isArray(d) ? d : [d]) onPackage(p);
  };
  const ended = () => {
    if (beat) clearTimeout(beat);
    for (const [, w] of pending) w.reject(new Error('connection closed'));
    pending.clear();
    failHandshake(new Error('connection closed before the handshake'));
    markClosed();
  };

  const wire = url.startsWith('tcp://') ? await tcpWire(url, onBytes, ended) : await wsWire(url, onBytes, ended);
  wire.send(Package.encode(PKG.handshake, Protocol.strencode(JSON.stringify({ sys: { type: 'js-websocket', version: '0.0.1', rsa: {} }, user: o.user ?? {} }))));
  const timer = setTimeout(() => failHandshake(new Error('no handshake answer')), timeoutMs);
  try {
    client.handshake = await handshakeDone;
  } finally {
    clearTimeout(timer);
  }

  const encodeMsg = (id: number, type: number, route: string, body: unknown) => {
    const code = routeToCode[route];
    return Message.encode(id, type, code !== undefined, code ?? route, Protocol.strencode(JSON.stringify(body)));
  };
  return Object.assign(client, {
    closed,
    request<T>(route: string, body: unknown, t = timeoutMs): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`request ${route} timed out`));
        }, t);
        pending.set(id, {
          route,
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        wire.send(Package.encode(PKG.data, encodeMsg(id, MSG.request, route, body)));
      });
    },
    notify(route: string, body: unknown) {
      wire.send(Package.encode(PKG.data, encodeMsg(0, MSG.notify, route, body)));
    },
    waitPush(route: string, pred: (b: Record<string, unknown>) => boolean = () => true, t = timeoutMs) {
      const had = pushes.find((p) => p.route === route && pred(p.body));
      if (had) return Promise.resolve(had.body);
      return new Promise<Record<string, unknown>>((resolve, reject) => {
        const w = { route, pred, resolve: (b: Record<string, unknown>) => (clearTimeout(timer), resolve(b)) };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no ${route} push within ${t} ms; got ${JSON.stringify(pushes)}`));
        }, t);
        waiters.push(w);
      });
    },
    async close() {
      wire.close();
      await closed;
    },
    destroy() {
      wire.destroy();
    },
  });
}

function wsWire(url: string, onBytes: (b: Buffer) => void, ended: () => void): Promise<Wire> {
  return new Promise((resolve, reject) => {
    // Stock Pomelo forces permessage-deflate; a gatehouse gateway need not, and the client must cope either way.
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    ws.on('message', (d: Buffer) => onBytes(d));
    ws.once('open', () =>
      resolve({
        send: (b) => ws.readyState === WebSocket.OPEN && ws.send(b),
        close: () => ws.close(),
        destroy: () => ws.terminate(),
      }),
    );
    ws.once('error', reject);
    ws.once('close', ended);
  });
}

function tcpWire(url: string, onBytes: (b: Buffer) => void, ended: () => void): Promise<Wire> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const s: Socket = tcpConnect({ host: hostname, port: Number(port) });
    s.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      // Whole packages only: pinus' decoder expects them (it does not check for a cut-off tail).
      let end = 0;
      while (buf.length - end >= 4) {
        const len = (buf[end + 1]! << 16) | (buf[end + 2]! << 8) | buf[end + 3]!;
        if (buf.length - end < 4 + len) break;
        end += 4 + len;
      }
      if (end > 0) {
        onBytes(buf.subarray(0, end));
        buf = buf.subarray(end);
      }
    });
    s.once('connect', () => resolve({ send: (b) => void s.write(b), close: () => s.end(), destroy: () => s.destroy() }));
    s.once('error', reject);
    s.once('close', ended);
  });
}
