/**
 * A delaying TCP relay: WAN latency between test hosts, in user space (this kernel has no netem). Every chunk read on
 * one side is written to the other `delayMs` later, each way, in order; a connection's two directions are independent.
 * Buffers are bounded: a side with more than `maxBufferedBytes` waiting (delayed or unwritten) is paused until the
 * backlog is half gone, so a fast sender meets TCP back-pressure instead of growing the relay's memory.
 *
 * Ends are TCP (`{host, port}`) or a Unix socket path (`{path}`): Unix sockets are not network-namespaced, which lets a
 * test process in the machine's namespace reach a host's address through a relay inside that host (dev/hosts/tap.ts).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type Endpoint = { host: string; port: number } | { path: string };

export interface RelayOptions {
  listen: Endpoint;
  target: Endpoint;
  delayMs: number;
  maxBufferedBytes?: number;
}

export interface Relay {
  /** The bound endpoint (the real port when `listen.port` was 0). */
  readonly address: Endpoint;
  readonly connections: () => number;
  close(): Promise<void>;
}

/** One direction of a connection: chunks wait `delayMs`, then go out in order. */
function pipeDelayed(from: Socket, to: Socket, delayMs: number, maxBuffered: number): void {
  if (delayMs <= 0) {
    from.pipe(to);
    return;
  }
  const queue: Array<{ at: number; buf: Buffer }> = [];
  let queued = 0;
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  let blocked = false;
  const flush = () => {
    timer = undefined;
    const now = Date.now();
    while (queue.length && queue[0]!.at <= now && !blocked) {
      const { buf } = queue.shift()!;
      queued -= buf.length;
      if (!to.write(buf)) {
        blocked = true;
        to.once('drain', () => {
          blocked = false;
          flush();
        });
      }
    }
    if (from.isPaused() && queued + to.writableLength < maxBuffered / 2) from.resume();
    if (queue.length) {
      if (!blocked) timer = setTimeout(flush, Math.max(0, queue[0]!.at - Date.now()));
    } else if (ended && !blocked) to.end();
  };
  from.on('data', (buf: Buffer) => {
    queue.push({ at: Date.now() + delayMs, buf });
    queued += buf.length;
    if (queued + to.writableLength > maxBuffered) from.pause();
    if (!timer && !blocked) timer = setTimeout(flush, delayMs);
  });
  from.on('end', () => {
    ended = true;
    if (!timer && !blocked) flush();
  });
}

function connect(e: Endpoint): Socket {
  return 'path' in e ? createConnection(e.path) : createConnection(e.port, e.host);
}

export function startRelay(o: RelayOptions): Promise<Relay> {
  const max = o.maxBufferedBytes ?? 4 * 1024 * 1024;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(o.target);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    pipeDelayed(client, upstream, o.delayMs, max);
    pipeDelayed(upstream, client, o.delayMs, max);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const onListening = () => {
      const a = server.address();
      const address: Endpoint = typeof a === 'string' ? { path: a } : { host: a!.address, port: a!.port };
      resolve({
        address,
        connections: () => sockets.size / 2,
        close: () =>
          new Promise<void>((res) => {
            for (const s of sockets) s.destroy();
            server.close(() => res());
          }),
      });
    };
    if ('path' in o.listen) server.listen(o.listen.path, onListening);
    else server.listen(o.listen.port, o.listen.host, onListening);
  });
}

/** "10.213.0.1:4222" or "/tmp/x.sock". */
export function parseEndpoint(s: string): Endpoint {
  if (s.startsWith('/')) return { path: s };
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
}
