/**
 * The gateway's transports (gateway/transport.ts) on real loopback sockets: the frames a transport is given in one
 * event-loop turn leave in one socket write, in order, and arrive as exactly what was sent (on WebSocket, each as
 * its own binary message, framed by the transport, read by ws's own parser at every header size); what was sent
 * before a close arrives before it; bytes waiting for the turn's end count as buffered (the outbound limit).
 */
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { COPY_LIMIT, TcpTransport, WsTransport, wsFrame, wsFrames } from '../../gateway/transport.js';

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

/** Counts a socket's write() calls from now on. */
function countWrites(s: Socket): { n: number } {
  const c = { n: 0 };
  const write = s.write.bind(s) as (...a: unknown[]) => boolean;
  (s as unknown as { write: (...a: unknown[]) => boolean }).write = (...a: unknown[]) => {
    c.n++;
    return write(...a);
  };
  return c;
}

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

async function wsPair(): Promise<{ server: WebSocket; client: WebSocket; got: Buffer[]; socket: Socket }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false, maxPayload: 1 << 22 });
  await once(wss, 'listening');
  const accepted = once(wss, 'connection');
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`, { perMessageDeflate: false });
  const got: Buffer[] = [];
  client.on('message', (d: Buffer, binary: boolean) => {
    expect(binary).toBe(true);
    got.push(d);
  });
  await once(client, 'open');
  const [server] = (await accepted) as [WebSocket];
  cleanup.push(() => {
    client.terminate();
    server.terminate();
    wss.close();
  });
  return { server, client, got, socket: (server as unknown as { _socket: Socket })._socket };
}

async function tcpPair(): Promise<{ server: Socket; got: Buffer[]; ended: Promise<unknown> }> {
  const srv: Server = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const accepted = once(srv, 'connection');
  const client = connect((srv.address() as { port: number }).port, '127.0.0.1');
  const got: Buffer[] = [];
  client.on('data', (d: Buffer) => got.push(d));
  const ended = once(client, 'end');
  const [server] = (await accepted) as [Socket];
  cleanup.push(() => {
    client.destroy();
    server.destroy();
    srv.close();
  });
  return { server, got, ended };
}

const until = async (done: () => boolean) => {
  // Event-driven enough: each wait is one turn of the loop for the socket's data events.
  while (!done()) await new Promise((r) => setImmediate(r));
};

describe('WebSocket transport', () => {
  it('frames a lone payload as ws would, at every header size', () => {
    for (const n of [0, 1, 125, 126, 65535, 65536]) {
      const f = wsFrame(bytes(n, 1));
      const header = n < 126 ? 2 : n < 65536 ? 4 : 10;
      expect(f.length).toBe(header + n);
      expect(f[0]).toBe(0x82);
      expect(f[1]).toBe(n < 126 ? n : n < 65536 ? 126 : 127);
      expect(Buffer.compare(f.subarray(header), Buffer.from(bytes(n, 1)))).toBe(0);
      expect(Buffer.compare(wsFrames([bytes(n, 1)], n), f)).toBe(0);
    }
  });

  it('sends one turn of frames in one write, each its own message, in order', async () => {
    const { server, got, socket } = await wsPair();
    const t = new WsTransport(server);
    const writes = countWrites(socket);
    const sent = [0, 1, 125, 126, 1000, 60_000, 3].map((n, i) => bytes(n, i));
    for (const b of sent) t.send(b);
    expect(t.buffered).toBeGreaterThanOrEqual(sent.reduce((s, b) => s + b.length, 0));
    await until(() => got.length === sent.length);
    expect(writes.n).toBe(1);
    got.forEach((g, i) => expect(Buffer.compare(g, Buffer.from(sent[i]!))).toBe(0));
    expect(t.buffered).toBe(0);
  });

  it('sends frames over the copy limit uncopied, still in order and whole', async () => {
    const { server, got } = await wsPair();
    const t = new WsTransport(server);
    const sent = [bytes(10, 1), bytes(COPY_LIMIT, 2), bytes(70_000, 3), bytes(5, 4)];
    for (const b of sent) t.send(b);
    await until(() => got.length === sent.length);
    got.forEach((g, i) => expect(Buffer.compare(g, Buffer.from(sent[i]!))).toBe(0));
  });

  it('delivers what was sent before a close, then the close code', async () => {
    const { server, client, got } = await wsPair();
    const t = new WsTransport(server);
    const closed = once(client, 'close');
    t.send(bytes(20, 7));
    t.close(4300, 'bye');
    const [code] = (await closed) as [number];
    expect(code).toBe(4300);
    expect(got.length).toBe(1);
    expect(Buffer.compare(got[0]!, Buffer.from(bytes(20, 7)))).toBe(0);
  });
});

describe('TCP transport', () => {
  it('sends one turn of frames in one write, in order', async () => {
    const { server, got } = await tcpPair();
    const t = new TcpTransport(server);
    const writes = countWrites(server);
    const sent = [bytes(3, 1), bytes(100, 2), bytes(1, 3)];
    for (const b of sent) t.send(b);
    expect(t.buffered).toBeGreaterThanOrEqual(104);
    const total = 104;
    await until(() => got.reduce((s, b) => s + b.length, 0) === total);
    expect(writes.n).toBe(1);
    expect(Buffer.compare(Buffer.concat(got), Buffer.concat(sent.map((b) => Buffer.from(b))))).toBe(0);
  });

  it('sends a turn over the copy limit whole and in order', async () => {
    const { server, got } = await tcpPair();
    const t = new TcpTransport(server);
    const sent = [bytes(COPY_LIMIT, 1), bytes(10, 2)];
    for (const b of sent) t.send(b);
    const total = COPY_LIMIT + 10;
    await until(() => got.reduce((s, b) => s + b.length, 0) === total);
    expect(Buffer.compare(Buffer.concat(got), Buffer.concat(sent.map((b) => Buffer.from(b))))).toBe(0);
  });

  it('writes what was sent before ending the stream on close', async () => {
    const { server, got, ended } = await tcpPair();
    const t = new TcpTransport(server);
    t.send(bytes(50, 9));
    t.close();
    await ended;
    expect(Buffer.compare(Buffer.concat(got), Buffer.from(bytes(50, 9)))).toBe(0);
  });
});
