/**
 * The socket as the connection core sees it: bytes out, a graceful close, a hard destroy, and how much is waiting
 * to be written. WebSocket and TCP (each optionally over TLS) fit behind it, so the same core serves the native and
 * the Pomelo protocol on either.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

export type TransportKind = 'ws' | 'tcp';

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
    if (this.ws.readyState === 1) this.ws.send(bytes);
  }
  close(code: number, reason: string): void {
    if (this.ws.readyState <= 1) this.ws.close(code, reason);
  }
  destroy(): void {
    this.ws.terminate();
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
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
  }
  close(): void {
    if (!this.socket.destroyed) this.socket.end();
  }
  destroy(): void {
    this.socket.destroy();
  }
}
