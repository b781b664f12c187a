/**
 * Server-sent events for the console: a bounded set of open streams. Each client is an HTTP response kept open; a
 * client whose socket does not drain (its buffer over `maxBufferedBytes`) is closed rather than buffered without
 * bound, and clients beyond `maxClients` are refused with 503 (counted), so an ops port left open cannot be made to
 * hold unbounded memory by opening streams.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface SseClient {
  send(event: string, data: unknown): void;
  /** A frame already serialised (`event: …\ndata: …\n\n`): broadcasts serialise once for every client. */
  sendRaw(frame: string): void;
  readonly closed: boolean;
  close(): void;
}

export interface SseStats {
  clients: number;
  refused: number;
  dropped: number;
  sent: number;
}

/** Keep-alive comment interval: proxies and browsers close idle streams. */
const KEEPALIVE_MS = 15_000;

export class SseHub {
  private readonly clients = new Set<SseClient>();
  readonly stats: SseStats = { clients: 0, refused: 0, dropped: 0, sent: 0 };
  private keepalive?: NodeJS.Timeout;

  constructor(
    private readonly maxClients: number,
    private readonly maxBufferedBytes = 1 << 20,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** Opens a stream on `res`, or answers 503 when the hub is full (null then). `onClose` runs once when it ends. */
  open(req: IncomingMessage, res: ServerResponse, onClose?: () => void): SseClient | null {
    if (this.clients.size >= this.maxClients) {
      this.stats.refused++;
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '5' });
      res.end(`too many console streams (metrics.consoleClients = ${this.maxClients})\n`);
      return null;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(': gatehouse console\n\n');
    let closed = false;
    const hub = this;
    const client: SseClient = {
      get closed() {
        return closed;
      },
      send(event, data) {
        client.sendRaw(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      },
      sendRaw(frame) {
        if (closed) return;
        if (res.writableLength > hub.maxBufferedBytes) {
          hub.stats.dropped++;
          client.close();
          return;
        }
        res.write(frame);
        hub.stats.sent++;
      },
      close() {
        if (closed) return;
        closed = true;
        hub.clients.delete(client);
        hub.stats.clients = hub.clients.size;
        res.end();
        onClose?.();
      },
    };
    req.on('close', () => client.close());
    this.clients.add(client);
    this.stats.clients = this.clients.size;
    this.keepalive ??= setInterval(() => {
      for (const c of this.clients) c.send('ping', 0);
    }, KEEPALIVE_MS).unref();
    return client;
  }

  /** Sends to every open stream of this hub that `filter` accepts (all by default). */
  broadcast(event: string, data: unknown, filter?: (c: SseClient) => boolean): void {
    let frame: string | undefined;
    for (const c of this.clients) if (!filter || filter(c)) c.sendRaw((frame ??= `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
  }

  closeAll(): void {
    for (const c of [...this.clients]) c.close();
    if (this.keepalive) clearInterval(this.keepalive);
    this.keepalive = undefined;
  }
}
