/**
 * The socket as the connection core sees it: bytes out, a graceful close, a hard destroy, and how much is waiting
 * to be written. WebSocket and TCP (each optionally over TLS) fit behind it, so the same core serves the native and
 * the Pomelo protocol on either.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

export type TransportKind = 'ws' | 'tcp';

/**
 * Writes are coalesced per event-loop turn: the first write of a turn corks the socket, one nextTick (after the
 * turn's callbacks and microtasks) uncorks every socket corked meanwhile, so N frames written to one socket in one
 * turn (a batch of pushes read off the bus in one read, a pipelining client's answers) leave in one writev instead of
 * N syscalls. On a loopback 2-core VM a writev was 40 % of a gateway's busy time in bench gateway.
 */
const corked: Socket[] = [];
let uncorkScheduled = false;

function uncorkAll(): void {
  uncorkScheduled = false;
  // Sockets corked by a write made while uncorking join the list again and get their own tick.
  const n = corked.length;
  for (let i = 0; i < n; i++) corked[i]!.uncork();
  corked.splice(0, n);
}

function corkForTurn(s: Socket | undefined): void {
  if (!s || s.writableCorked > 0 || s.destroyed) return;
  s.cork();
  corked.push(s);
  if (!uncorkScheduled) {
    uncorkScheduled = true;
    process.nextTick(uncorkAll);
  }
}

export interface Transport {
  readonly kind: TransportKind;
  /** Bytes accepted by send() but not yet handed to the kernel: what the outbound limit is checked against. */
  readonly buffered: number;
  readonly remote: string;
  /** The peer's IP address alone (what per-address limits count); '?' when the socket no longer knows it. */
  readonly address: string;
  send(bytes: Uint8Array): void;
  /** Sends what is queued, then closes: a WebSocket close frame with `code`, or the end of a TCP stream. */
  close(code: number, reason: string): void;
  /** Drops the connection now, queued bytes included. */
  destroy(): void;
  /** Stops reading the socket (what was already read is still delivered); the peer's sends back up in TCP. */
  pause(): void;
  resume(): void;
}

export class WsTransport implements Transport {
  readonly kind = 'ws';
  constructor(private readonly ws: WebSocket) {}
  get buffered(): number {
    return this.ws.bufferedAmount;
  }
  get remote(): string {
    const s = (this.ws as unknown as { _socket?: Socket })._socket;
    return s ? `${s.remoteAddress}:${s.remotePort}` : '?';
  }
  get address(): string {
    return (this.ws as unknown as { _socket?: Socket })._socket?.remoteAddress ?? '?';
  }
  send(bytes: Uint8Array): void {
    // ws.send on a closing socket reports through its callback; without one it would throw later, asynchronously.
    if (this.ws.readyState !== 1) return;
    corkForTurn((this.ws as unknown as { _socket?: Socket })._socket);
    this.ws.send(bytes);
  }
  close(code: number, reason: string): void {
    // A socket paused by admission must read the peer's close frame, or the close waits for closeTimeoutMs.
    if (this.ws.readyState === 1 && this.ws.isPaused) this.ws.resume();
    if (this.ws.readyState <= 1) this.ws.close(code, reason);
  }
  destroy(): void {
    this.ws.terminate();
  }
  pause(): void {
    if (this.ws.readyState === 1) this.ws.pause();
  }
  resume(): void {
    if (this.ws.readyState === 1) this.ws.resume();
  }
}

export class TcpTransport implements Transport {
  readonly kind = 'tcp';
  constructor(private readonly socket: Socket) {}
  get buffered(): number {
    return this.socket.writableLength;
  }
  get remote(): string {
    return `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }
  get address(): string {
    return this.socket.remoteAddress ?? '?';
  }
  send(bytes: Uint8Array): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    corkForTurn(this.socket);
    this.socket.write(bytes);
  }
  close(): void {
    if (!this.socket.destroyed) this.socket.end();
  }
  destroy(): void {
    this.socket.destroy();
  }
  pause(): void {
    this.socket.pause();
  }
  resume(): void {
    if (!this.socket.destroyed) this.socket.resume();
  }
}
