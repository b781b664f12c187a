/**
 * The gatehouse client: native protocol over any ClientSocket (WebSocket in browsers and Node, TCP in Node).
 * Requests with ids and timeouts, pushes by route, heartbeats, and automatic reconnection that resumes the session
 * with its ticket. Spec: docs/PROTOCOL.md. Runs unchanged in browsers: no Node imports in this file or below it.
 *
 * - Requests sent while disconnected wait for the next connection (their timeout still runs); requests in flight
 *   when the connection drops fail with UNAVAILABLE (their outcome is unknown: retry only idempotent ones).
 * - Closes the server means as final (4000, 4100, 4101, 4102 replaced, 4103 kicked, 4003) stop reconnecting.
 */
import { decodeFrame, encodeFrame } from '../protocol/native/codec.js';
import { PROTOCOL_VERSION, type Frame } from '../protocol/native/frames.js';
import { ClientErrorCode, CloseCode, isResumableClose } from '../protocol/error-codes.js';
import { GatehouseClientError, timeout, unavailable } from './errors.js';
import type { ClientSocket, SocketOpener } from './socket.js';

export const SDK_VERSION = 'sdk-ts/0.1.0';

export interface ConnectOptions {
  /** Gateway URL(s): `ws://host:port` (also `tcp://host:port` in Node). Reconnects go round the list. */
  url?: string | string[];
  /** Entry endpoint (`http://host:port/entry`): asked for the least-loaded gateway before each connection. */
  entry?: string;
  /** Ticket of an earlier session to resume (e.g. kept across a page reload). */
  ticket?: string;
  /**
   * The credential the gateway checks before the session opens (gateway.auth): a signed token (`gatehouse token`)
   * or what a `hook` gateway accepts. Sent in every hello, so reconnects carry it too. A refused one closes with
   * 4100 (UNAUTHORIZED) and the client does not reconnect.
   */
  token?: string;
  /** Reconnect and resume after a connection loss (default true). */
  reconnect?: boolean;
  /** Backoff: starts here, doubles per failed attempt up to maxReconnectDelayMs (defaults 200 / 5000). */
  reconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
  /** Default per-request timeout (10 s). */
  requestTimeoutMs?: number;
  /** Give up on the first connection after this long (10 s). */
  connectTimeoutMs?: number;
  /** Sent in `hello` for the server's logs. */
  client?: string;
}

export interface RequestOptions {
  timeoutMs?: number;
}

export interface ClientEvents {
  /** Every welcome: first connection, and each reconnection (resumed: false means the session was lost). */
  open: { session: string; resumed: boolean };
  /** The connection dropped; `reconnecting` says whether the client will try again. */
  disconnect: { code: number; reason: string; reconnecting: boolean };
  /** An `error` frame about the connection (it is closing). */
  error: { code: string; message: string };
  /** Final: the client will not reconnect. */
  close: { code: number; reason: string };
}

type Listener<K extends keyof ClientEvents> = (e: ClientEvents[K]) => void;

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
  bytes: Uint8Array;
  sent: boolean;
}

const FINAL: ReadonlySet<number> = new Set([CloseCode.UnsupportedVersion]);

export class GatehouseClient {
  session: string | undefined;
  ticket: string | undefined;
  heartbeatMs = 15_000;
  private state: 'connecting' | 'open' | 'closed' = 'connecting';
  private sock: ClientSocket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly pushes = new Map<string, Set<(body: unknown, route: string) => void>>();
  private readonly events = new Map<string, Set<(e: never) => void>>();
  private readonly urls: string[];
  private urlIndex = 0;
  private attempt = 0;
  private lastSent = 0;
  private lastRecv = 0;
  private hbTimer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private closeFrame: { code: number; reason: string } | undefined;
  private opened: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private closed: (() => void) | undefined;

  constructor(
    private readonly openSocket: SocketOpener,
    private readonly o: ConnectOptions,
  ) {
    this.urls = o.url === undefined ? [] : Array.isArray(o.url) ? [...o.url] : [o.url];
    if (this.urls.length === 0 && !o.entry) throw new TypeError('connect: give url or entry');
    this.ticket = o.ticket;
  }

  /** Connects; resolves at the first welcome. */
  start(): Promise<this> {
    return new Promise<this>((resolve, reject) => {
      const t = setTimeout(() => {
        this.opened = undefined;
        void this.close();
        reject(unavailable(`no connection within ${this.o.connectTimeoutMs ?? 10_000} ms`));
      }, this.o.connectTimeoutMs ?? 10_000);
      this.opened = {
        resolve: () => {
          clearTimeout(t);
          resolve(this);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      };
      void this.connect();
    });
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Calls `route` with `body`; resolves with the response body or rejects with a GatehouseClientError. */
  request<T = unknown>(route: string, body: unknown = null, opts: RequestOptions = {}): Promise<T> {
    if (this.state === 'closed') return Promise.reject(unavailable('client is closed'));
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffff_ffff ? 1 : this.nextId + 1;
    let bytes: Uint8Array;
    try {
      bytes = encodeFrame({ type: 'req', id, route, body });
    } catch (err) {
      const e = err as { code?: string; message?: string };
      return Promise.reject(new GatehouseClientError(e.code ?? ClientErrorCode.BadRequest, e.message ?? String(err)));
    }
    const ms = opts.timeoutMs ?? this.o.requestTimeoutMs ?? 10_000;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(timeout(`${route}: no response within ${ms} ms`));
      }, ms);
      const p: Pending = { resolve: resolve as (v: unknown) => void, reject, timer, bytes, sent: false };
      this.pending.set(id, p);
      if (this.state === 'open') this.sendRequest(p);
    });
  }

  /**
   * Sends `body` to `route` without waiting for an answer (a `notify` frame): for fire-and-forget traffic such as chat
   * lines and relays. The server runs the route but answers nothing, not even an error, so this resolves nothing:
   * it throws at once only when the frame cannot be encoded. Sent now when open, else dropped (returns false): a
   * notify that waited for a reconnect would arrive late for what it says.
   */
  notify(route: string, body: unknown = null): boolean {
    let bytes: Uint8Array;
    try {
      bytes = encodeFrame({ type: 'notify', route, body });
    } catch (err) {
      const e = err as { code?: string; message?: string };
      throw new GatehouseClientError(e.code ?? ClientErrorCode.BadRequest, e.message ?? String(err));
    }
    if (this.state !== 'open' || !this.sock) return false;
    this.send(bytes);
    return true;
  }

  /** Calls `fn` for each push on `route` ('*' for all). Returns the function that stops it. */
  on(route: string, fn: (body: unknown, route: string) => void): () => void {
    let set = this.pushes.get(route);
    if (!set) this.pushes.set(route, (set = new Set()));
    set.add(fn);
    return () => set!.delete(fn);
  }

  onEvent<K extends keyof ClientEvents>(event: K, fn: Listener<K>): () => void {
    let set = this.events.get(event);
    if (!set) this.events.set(event, (set = new Set()));
    set.add(fn as (e: never) => void);
    return () => set!.delete(fn as (e: never) => void);
  }

  /** Says goodbye (the session ends for good) and closes. */
  close(): Promise<void> {
    if (this.state === 'closed') return Promise.resolve();
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    clearTimeout(this.retryTimer);
    this.stopHeartbeat();
    this.failAll(unavailable('client closed'), true);
    const sock = this.sock;
    if (!sock) {
      this.emit('close', { code: CloseCode.Normal, reason: 'closed by client' });
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        sock.onclose = () => undefined;
        sock.close(CloseCode.Normal, 'bye');
        this.finalClose(CloseCode.Normal, 'closed by client');
        resolve();
      }, 2000);
      this.closed = () => {
        clearTimeout(t);
        resolve();
      };
      // The goodbye frame ends the session on the server, which then closes the socket.
      if (wasOpen) sock.send(encodeFrame({ type: 'close', code: CloseCode.Normal, reason: 'bye' }));
      else sock.close(CloseCode.Normal, 'bye');
    });
  }

  /** Drops the connection without a goodbye (as a network loss would); the client reconnects and resumes. */
  drop(): void {
    if (this.sock && this.state !== 'closed') this.abandon(1006, 'dropped by client');
  }

  // ---- connection lifecycle ------------------------------------------------------------------------------------

  private async connect(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'connecting';
    this.closeFrame = undefined;
    let url: string;
    try {
      url = await this.pickUrl();
    } catch {
      this.scheduleRetry();
      return;
    }
    // close() may have run while the entry endpoint was being asked.
    if ((this.state as string) === 'closed') return;
    const sock = this.openSocket(url);
    this.sock = sock;
    sock.onopen = () => {
      const hello: Frame = { type: 'hello', v: PROTOCOL_VERSION, client: this.o.client ?? SDK_VERSION };
      if (this.ticket) hello.ticket = this.ticket;
      if (this.o.token) hello.token = this.o.token;
      this.send(encodeFrame(hello));
    };
    sock.onmessage = (bytes) => this.receive(bytes);
    sock.onclose = (code, reason) => this.onSocketClose(code, reason);
  }

  private async pickUrl(): Promise<string> {
    if (this.o.entry) {
      try {
        const res = await fetch(this.o.entry, { cache: 'no-store' });
        const e = (await res.json()) as { urls?: { ws?: string } };
        if (res.ok && e.urls?.ws) return e.urls.ws;
      } catch {
        /* fall back to the URL list */
      }
      if (this.urls.length === 0) throw unavailable('entry endpoint unreachable');
    }
    const url = this.urls[this.urlIndex % this.urls.length]!;
    return url;
  }

  private onSocketClose(code: number, reason: string): void {
    this.sock = undefined;
    this.stopHeartbeat();
    const c = this.closeFrame ?? { code, reason };
    if (this.state === 'closed') return this.finalClose(c.code, c.reason);
    this.failAll(unavailable(`connection lost (${c.code} ${c.reason})`), false);
    const final = c.code >= 4000 && c.code <= 4999 && (!isResumableClose(c.code) || FINAL.has(c.code));
    const reconnecting = this.o.reconnect !== false && !final;
    this.emit('disconnect', { code: c.code, reason: c.reason, reconnecting });
    if (!reconnecting) {
      this.state = 'closed';
      this.failAll(unavailable(`connection closed (${c.code} ${c.reason})`), true);
      // A refused credential is not a network problem: say so, the caller needs a new token.
      const code = c.code === CloseCode.Unauthorized ? ClientErrorCode.Unauthorized : ClientErrorCode.Unavailable;
      this.opened?.reject(new GatehouseClientError(code, `connection closed (${c.code} ${c.reason})`));
      this.opened = undefined;
      return this.finalClose(c.code, c.reason);
    }
    // A gateway that went away: try the next one on the list.
    this.urlIndex++;
    this.scheduleRetry();
  }

  private finalClose(code: number, reason: string): void {
    this.emit('close', { code, reason });
    const done = this.closed;
    this.closed = undefined;
    done?.();
  }

  private scheduleRetry(): void {
    if (this.state === 'closed') return;
    const base = this.o.reconnectDelayMs ?? 200;
    const max = this.o.maxReconnectDelayMs ?? 5000;
    const delay = Math.min(max, base * 2 ** Math.min(this.attempt, 10)) * (0.75 + Math.random() / 2);
    this.attempt++;
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  /** Gives up on the current socket at once (no waiting for a close handshake a dead peer will never answer). */
  private abandon(code: number, reason: string): void {
    const sock = this.sock;
    if (!sock) return;
    sock.onclose = () => undefined;
    sock.onmessage = () => undefined;
    sock.close();
    this.onSocketClose(code, reason);
  }

  // ---- frames ------------------------------------------------------------------------------------------------

  private receive(bytes: Uint8Array): void {
    this.lastRecv = Date.now();
    let f: Frame;
    try {
      f = decodeFrame(bytes, { maxFrameBytes: 0x7fff_ffff });
    } catch {
      this.abandon(CloseCode.BadFrame, 'bad frame from server');
      return;
    }
    switch (f.type) {
      case 'welcome':
        this.session = f.session;
        this.ticket = f.ticket;
        this.heartbeatMs = f.heartbeatMs;
        this.state = 'open';
        this.attempt = 0;
        this.startHeartbeat();
        for (const p of this.pending.values()) if (!p.sent) this.sendRequest(p);
        this.emit('open', { session: f.session, resumed: f.resumed });
        this.opened?.resolve();
        this.opened = undefined;
        return;
      case 'res': {
        const p = this.pending.get(f.id);
        if (!p) return;
        this.pending.delete(f.id);
        clearTimeout(p.timer);
        if (f.error) p.reject(new GatehouseClientError(f.error.code, f.error.message));
        else p.resolve(f.body);
        return;
      }
      case 'push':
        for (const key of [f.route, '*']) for (const fn of this.pushes.get(key) ?? []) fn(f.body, f.route);
        return;
      case 'ping':
        this.send(encodeFrame({ type: 'pong' }));
        return;
      case 'close':
        this.closeFrame = { code: f.code, reason: f.reason };
        return;
      case 'error': {
        const p = f.id === undefined ? undefined : this.pending.get(f.id);
        if (p) {
          this.pending.delete(f.id!);
          clearTimeout(p.timer);
          p.reject(new GatehouseClientError(f.code, f.message));
        }
        this.emit('error', { code: f.code, message: f.message });
        return;
      }
      default:
        return;
    }
  }

  private send(bytes: Uint8Array): void {
    this.lastSent = Date.now();
    this.sock?.send(bytes);
  }

  private sendRequest(p: Pending): void {
    p.sent = true;
    this.send(p.bytes);
  }

  /** Rejects requests in flight; with `all`, also those still waiting for a connection. */
  private failAll(err: Error, all: boolean): void {
    for (const [id, p] of this.pending) {
      if (!p.sent && !all) continue;
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  // ---- heartbeat ---------------------------------------------------------------------------------------------

  private startHeartbeat(): void {
    this.stopHeartbeat();
    const h = this.heartbeatMs;
    const tick = () => {
      const now = Date.now();
      if (now - this.lastRecv > 2.5 * h) return this.abandon(CloseCode.HeartbeatTimeout, 'server silent');
      if (now - this.lastSent >= h / 2) this.send(encodeFrame({ type: 'ping' }));
      this.hbTimer = setTimeout(tick, h / 2);
    };
    this.hbTimer = setTimeout(tick, h / 2);
  }

  private stopHeartbeat(): void {
    if (this.hbTimer !== undefined) clearTimeout(this.hbTimer);
    this.hbTimer = undefined;
  }

  private emit<K extends keyof ClientEvents>(event: K, e: ClientEvents[K]): void {
    for (const fn of this.events.get(event) ?? []) (fn as Listener<K>)(e);
  }
}

/** Connects with the given socket opener; resolves once the first welcome arrived. */
export function connectWith(open: SocketOpener, opts: ConnectOptions): Promise<GatehouseClient> {
  return new GatehouseClient(open, opts).start();
}
