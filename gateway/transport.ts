/**
 * The socket as the connection core sees it: bytes out, a graceful close, a hard destroy, and how much is waiting
 * to be written. WebSocket and TCP (each optionally over TLS) fit behind it, so the same core serves the native and
 * the Pomelo protocol on either.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

export type TransportKind = 'ws' | 'tcp';

/**
 * Writes are coalesced per event-loop iteration: a transport's first frame puts it on a list, and one setImmediate
 * flushes every transport on it once the iteration's socket reads are done, so N frames for one socket in that time
 * (a batch of pushes read off the bus, a pipelining client's answers) leave in one write instead of N syscalls, and
 * the answers to all the requests one poll of the sockets read leave together.
 *
 * An immediate rather than a microtask per read (what this was before, issue 16): flushing after each socket read
 * wrote each answer the moment it was ready, and each write woke the client's process anew (on bench hot-path, 64
 * requests in flight over 64 sockets, the wake-ups in the write syscall and the extra poll rounds they caused made
 * the gateway's CPU per request about twice a bare ws echo server's). Flushing once after the poll phase sends the
 * iteration's answers in one burst: the peer wakes once and finds them all, and its next requests arrive together.
 * bench hot-path, both builds in the same windows (load 5-7), 64 in flight: CPU per request 20.0 vs 49.5 us with the
 * microtask (bare ws 23.4), requests/s 1.43x bare vs 0.45x; 1 in flight unchanged (CPU 0.995x, RTT p50 105 vs 112
 * us). The cost is latency within one iteration: an answer waits for the reads polled with its request (an
 * immediate runs right after the poll phase), never for a timer.
 *
 * Each transport flushes its frames as ONE buffer and one `socket.write`: on a WebSocket the frames are framed
 * here (a server frame is a 2-10 byte header and the payload, unmasked: RFC 6455 5.2) rather than by ws's Sender,
 * which writes header and payload as two chunks through cork/writev. Corking the socket for the turn (what this did
 * before) sent even a lone answer through Node's buffered-chunk path: per chunk an entry, then a writev of an iovec
 * array; on bench gateway's profile that path, ws's Sender and the cork's bookkeeping cost about as much CPU per
 * request as the gateway's own code. Frames larger than COPY_LIMIT together are not copied: they go out as they are,
 * corked.
 */
/**
 * The transports with frames waiting, as two lists swapped at each flush with a count of the used slots: emptying a
 * list by `length = 0` went through V8's runtime (array length setter, elements trimmed) once per flush, which showed
 * at 1 in flight (~0.7 us per request on perf); slots are cleared instead and the lists keep their capacity.
 */
let waiting: Array<Outbox | undefined> = [];
let spare: Array<Outbox | undefined> = [];
let count = 0;
let flushScheduled = false;

/** Above this many bytes in one flush a transport's frames are written as they are rather than copied together. */
export const COPY_LIMIT = 64 * 1024;

function flushAll(): void {
  flushScheduled = false;
  // Transports that queue while flushing (a write's callback) go on the other list and get the next flush.
  const list = waiting;
  const n = count;
  waiting = spare;
  spare = list;
  count = 0;
  for (let i = 0; i < n; i++) {
    const t = list[i]!;
    list[i] = undefined;
    t.flush();
  }
}

/** A transport's frames of this event-loop iteration, written at its end. */
abstract class Outbox {
  private first: Uint8Array | undefined;
  private more: Uint8Array[] | undefined;
  /** Bytes queued and not yet written: part of what `buffered` reports, so the outbound limit sees them at once. */
  protected pending = 0;

  protected queue(bytes: Uint8Array): void {
    if (this.first === undefined) {
      this.first = bytes;
      waiting[count++] = this;
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushAll);
      }
    } else (this.more ??= []).push(bytes);
    this.pending += bytes.length;
  }

  /** Writes what was queued (called by the iteration's flush, and before a close so the close comes after it). */
  flush(): void {
    const first = this.first;
    if (first === undefined) return;
    const more = this.more;
    const bytes = this.pending;
    this.first = this.more = undefined;
    this.pending = 0;
    this.write(first, more, bytes);
  }

  /** `first` and then `more` (undefined when there was one frame), `bytes` their total length. */
  protected abstract write(first: Uint8Array, more: Uint8Array[] | undefined, bytes: number): void;
}

/** The header of an unmasked, final, binary WebSocket frame of `n` bytes. */
function wsHeaderLength(n: number): number {
  return n < 126 ? 2 : n < 65536 ? 4 : 10;
}

function putWsHeader(out: Buffer, at: number, n: number): number {
  out[at] = 0x82; // FIN, opcode 2 (binary): what ws.send writes for bytes
  if (n < 126) {
    out[at + 1] = n;
    return at + 2;
  }
  if (n < 65536) {
    out[at + 1] = 126;
    out.writeUInt16BE(n, at + 2);
    return at + 4;
  }
  out[at + 1] = 127;
  out.writeUInt32BE(Math.floor(n / 2 ** 32), at + 2);
  out.writeUInt32BE(n >>> 0, at + 6);
  return at + 10;
}

/** One binary WebSocket message, framed (what ws's Sender writes for it, as one buffer). */
export function wsFrame(payload: Uint8Array): Buffer {
  const n = payload.length;
  const out = Buffer.allocUnsafe(wsHeaderLength(n) + n);
  out.set(payload, putWsHeader(out, 0, n));
  return out;
}

/** Frames `payloads` as binary WebSocket messages into one buffer (what ws's Sender would write for each). */
export function wsFrames(payloads: readonly Uint8Array[], bytes: number): Buffer {
  let size = bytes;
  for (const p of payloads) size += wsHeaderLength(p.length);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const p of payloads) {
    at = putWsHeader(out, at, p.length);
    out.set(p, at);
    at += p.length;
  }
  return out;
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

export class WsTransport extends Outbox implements Transport {
  readonly kind = 'ws';
  constructor(private readonly ws: WebSocket) {
    super();
  }
  private get socket(): Socket | undefined {
    return (this.ws as unknown as { _socket?: Socket })._socket;
  }
  get buffered(): number {
    return this.ws.bufferedAmount + this.pending;
  }
  get remote(): string {
    const s = this.socket;
    return s ? `${s.remoteAddress}:${s.remotePort}` : '?';
  }
  get address(): string {
    return this.socket?.remoteAddress ?? '?';
  }
  send(bytes: Uint8Array): void {
    // ws.send on a closing socket reports through its callback; without one it would throw later, asynchronously.
    if (this.ws.readyState !== 1) return;
    this.queue(bytes);
  }
  protected write(first: Uint8Array, more: Uint8Array[] | undefined, bytes: number): void {
    // Closed since (the peer's close frame, read meanwhile): ws.send would refuse them too; nothing may follow a close.
    if (this.ws.readyState !== 1) return;
    const s = this.socket;
    if (s && bytes <= COPY_LIMIT) {
      s.write(more ? wsFrames([first, ...more], bytes) : wsFrame(first));
      return;
    }
    // Large: ws frames each without copying; the cork makes the frames one writev still.
    s?.cork();
    this.ws.send(first);
    if (more) for (const b of more) this.ws.send(b);
    s?.uncork();
  }
  close(code: number, reason: string): void {
    this.flush(); // what was sent before the close goes first
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

export class TcpTransport extends Outbox implements Transport {
  readonly kind = 'tcp';
  constructor(private readonly socket: Socket) {
    super();
  }
  get buffered(): number {
    return this.socket.writableLength + this.pending;
  }
  get remote(): string {
    return `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }
  get address(): string {
    return this.socket.remoteAddress ?? '?';
  }
  send(bytes: Uint8Array): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    this.queue(bytes);
  }
  protected write(first: Uint8Array, more: Uint8Array[] | undefined, bytes: number): void {
    const s = this.socket;
    if (s.destroyed || !s.writable) return;
    if (!more) {
      s.write(first);
    } else if (bytes <= COPY_LIMIT) {
      s.write(Buffer.concat([first, ...more], bytes));
    } else {
      s.cork();
      s.write(first);
      for (const b of more) s.write(b);
      s.uncork();
    }
  }
  close(): void {
    this.flush();
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
