/**
 * A byte-level native-protocol client for gateway tests: sends whatever bytes it is given (well-formed frames or
 * garbage), over WebSocket or TCP, and records every frame the server sends plus how the connection ended.
 */
import { connect as netConnect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { createTcpFrameDecoder, decodeFrame, encodeFrame, encodeTcp, type Frame } from '../../protocol/native/index.js';
import { Changes, deferred, eventually } from '../../dev/wait.js';

export interface RawClient {
  readonly frames: Frame[];
  /** Resolves with the close code (WebSocket close code; on TCP the code of the server's `close` frame, or 1006). */
  readonly closed: Promise<number>;
  readonly isClosed: boolean;
  /** The underlying TCP socket (pause() it to stop reading). */
  readonly socket: Socket;
  /** Sends one frame (framed for the transport). */
  send(frame: Frame): void;
  /** Sends raw bytes: one WebSocket message, or bytes on the TCP stream as they are. */
  sendRaw(bytes: Uint8Array, opts?: { text?: boolean }): void;
  /** Resolves with the first frame (already received or coming) matching `pred`. */
  next(pred: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  /** hello → welcome. */
  hello(ticket?: string): Promise<Extract<Frame, { type: 'welcome' }>>;
  request(id: number, route: string, body?: unknown): Promise<Extract<Frame, { type: 'res' }>>;
  destroy(): void;
}

export async function rawConnect(url: string): Promise<RawClient> {
  const frames: Frame[] = [];
  const changes = new Changes();
  const closed = deferred<number>();
  let isClosed = false;
  let closeCode: number | undefined;
  const onFrame = (bytes: Uint8Array) => {
    let f: Frame;
    try {
      f = decodeFrame(bytes, { maxFrameBytes: 1 << 30 });
    } catch (err) {
      throw new Error(`server sent an undecodable frame: ${(err as Error).message}`);
    }
    if (f.type === 'close') closeCode = f.code;
    frames.push(f);
    changes.changed();
  };
  const onClose = (code: number) => {
    isClosed = true;
    closed.resolve(code);
    changes.changed();
  };
  let socket!: Socket;
  let sendBytes: (b: Uint8Array, text?: boolean) => void;
  let destroy: () => void;
  if (url.startsWith('tcp://')) {
    const u = new URL(url);
    socket = netConnect({ host: u.hostname, port: Number(u.port) });
    await new Promise<void>((res, rej) => socket.once('connect', res).once('error', rej));
    const deframer = createTcpFrameDecoder({ maxFrameBytes: 1 << 30 });
    socket.on('data', (d: Buffer) => deframer.push(d).forEach(onFrame));
    socket.on('error', () => undefined);
    socket.on('close', () => onClose(closeCode ?? 1006));
    sendBytes = (b) => {
      if (!socket.destroyed) socket.write(b);
    };
    destroy = () => socket.destroy();
  } else {
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      createConnection: (opts: object) => (socket = netConnect(opts as never)),
    } as WebSocket.ClientOptions);
    await new Promise<void>((res, rej) => ws.once('open', res).once('error', rej));
    ws.on('message', (d: Buffer) => onFrame(d));
    ws.on('error', () => undefined);
    ws.on('close', (code: number) => onClose(code));
    sendBytes = (b, text) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(text ? Buffer.from(b).toString('latin1') : b, { binary: !text });
    };
    destroy = () => ws.terminate();
  }
  const tcp = url.startsWith('tcp://');
  const client: RawClient = {
    frames,
    closed: closed.promise,
    get isClosed() {
      return isClosed;
    },
    socket,
    send: (f) => sendBytes(tcp ? encodeTcp(encodeFrame(f)) : encodeFrame(f)),
    sendRaw: (b, opts) => sendBytes(b, opts?.text),
    next(pred, timeoutMs = 5000) {
      return changes.until(
        () => {
          const f = frames.find(pred);
          if (f) return f;
          if (isClosed) throw new Error(`connection closed before the expected frame; got ${JSON.stringify(frames.map((x) => x.type))}`);
          return undefined;
        },
        timeoutMs,
        () => new Error(`no expected frame within ${timeoutMs} ms; got ${JSON.stringify(frames)}`),
      );
    },
    async hello(ticket) {
      client.send(ticket ? { type: 'hello', v: 1, ticket } : { type: 'hello', v: 1 });
      return (await client.next((f) => f.type === 'welcome')) as Extract<Frame, { type: 'welcome' }>;
    },
    async request(id, route, body = null) {
      client.send({ type: 'req', id, route, body });
      return (await client.next((f) => f.type === 'res' && f.id === id)) as Extract<Frame, { type: 'res' }>;
    },
    destroy,
  };
  return client;
}

/** A native client from another loopback address (127.0.0.2): hello, then one request at a time. */
export async function fromOtherAddress(url: string): Promise<{ request(id: number, body: unknown): Promise<Frame>; close(): void }> {
  const ws = new WebSocket(url, { perMessageDeflate: false, localAddress: '127.0.0.2' } as WebSocket.ClientOptions);
  const frames: Frame[] = [];
  ws.on('message', (d: Buffer) => {
    frames.push(decodeFrame(d, { maxFrameBytes: 1 << 20 }));
  });
  const next = (pred: (f: Frame) => boolean) => eventually(() => frames.find(pred), { what: 'a frame from the gateway' });
  await new Promise((res, rej) => ws.once('open', res).once('error', rej));
  ws.send(encodeFrame({ type: 'hello', v: 1 }));
  await next((f) => f.type === 'welcome');
  return {
    request(id, body) {
      ws.send(encodeFrame({ type: 'req', id, route: 'echo', body }));
      return next((f) => f.type === 'res' && f.id === id);
    },
    close: () => ws.terminate(),
  };
}
