/**
 * A Bus over a running embedded node's control socket (`<data dir>/gatehouse.sock`, served by
 * server/control-socket.ts): what the CLI's tools (tail, inspect, status, ask, tell) use when there is no NATS to
 * connect to. Every operation is a frame (bus/socket/frames.ts) that the node carries out on its in-memory bus, so
 * the tools see the same subjects, messages and replies as over NATS. Its prefix is the node's (from the hello frame).
 */
import { createConnection, type Socket } from 'node:net';
import type { Bus, BusMsg, BusStatus, Headers, MsgHandler, PublishOptions, RequestOptions, Subscription, SubscribeOptions } from '../bus.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../bus.js';
import { ClosedError, GatehouseError, TimeoutError, ErrorCode, errorMessage } from '../../common/errors.js';
import { FrameReader, encodeFrame, frameError, frameToMsg, type Frame } from './frames.js';

export const CONTROL_SOCKET = 'gatehouse.sock';
/** The client's own limit on frames from the node (a status or a message is far below it). */
const MAX_FRAME = 16 * 1024 * 1024;

export interface SocketHello {
  node: string;
  prefix: string;
  /** The node's actors.shards: a tool addresses actors by shard, so it must use the node's count. */
  shards: number;
  maxFrame: number;
}

interface Waiter {
  resolve: (f: Frame) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

export class SocketBus implements Bus {
  readonly kind = 'socket' as const;
  readonly prefix: string;
  private nextId = 1;
  private readonly subs = new Map<number, MsgHandler>();
  private readonly waiters = new Map<number, Waiter>();
  private readonly listeners = new Set<(s: BusStatus) => void>();
  private closedFlag = false;

  private constructor(
    private readonly socket: Socket,
    readonly hello: SocketHello,
  ) {
    this.prefix = hello.prefix;
  }

  /** Connects and waits for the node's hello (rejects within `timeoutMs` if none comes). */
  static async connect(path: string, timeoutMs = 3000): Promise<SocketBus> {
    const socket = createConnection(path);
    const reader = new FrameReader(MAX_FRAME);
    const hello = await new Promise<SocketHello>((resolve, reject) => {
      const timer = setTimeout(() => fail(new TimeoutError(`no answer on ${path} within ${timeoutMs} ms`)), timeoutMs);
      const fail = (e: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(e);
      };
      socket.once('error', (e) => fail(new GatehouseError(ErrorCode.BusError, `cannot reach the node's control socket ${path}: ${e.message}`, { cause: e })));
      socket.once('close', () => fail(new ClosedError(`the node closed the control socket ${path} before its hello (too many connections?)`)));
      socket.once('data', (chunk) => {
        try {
          const [f] = reader.push(chunk);
          if (f?.op === 'err') return fail(new GatehouseError(String(f.code), String(f.message)));
          if (f?.op !== 'hello' || typeof f.prefix !== 'string' || typeof f.node !== 'string') return fail(new GatehouseError(ErrorCode.BusError, `${path} did not greet as a gatehouse node`));
          clearTimeout(timer);
          socket.removeAllListeners();
          resolve({ node: f.node, prefix: f.prefix, shards: Number(f.shards), maxFrame: Number(f.maxFrame) });
        } catch (e) {
          fail(e as Error);
        }
      });
    });
    const bus = new SocketBus(socket, hello);
    bus.attach(reader);
    return bus;
  }

  private attach(reader: FrameReader): void {
    this.socket.on('data', (chunk) => {
      let frames: Frame[];
      try {
        frames = reader.push(chunk);
      } catch (e) {
        this.shut(e as Error);
        return;
      }
      for (const f of frames) this.onFrame(f);
    });
    this.socket.on('error', (e) => this.shut(e));
    this.socket.on('close', () => this.shut());
  }

  private onFrame(f: Frame): void {
    const id = typeof f.id === 'number' ? f.id : -1;
    if (f.op === 'msg') {
      const h = this.subs.get(id);
      if (h) h(frameToMsg(f));
      return;
    }
    if (f.op === 'err' && id < 0) {
      this.shut(new GatehouseError(String(f.code), `the node closed the control connection: ${String(f.message)}`));
      return;
    }
    const w = this.waiters.get(id);
    if (!w) return;
    this.waiters.delete(id);
    clearTimeout(w.timer);
    if (f.op === 'err') w.reject(frameError(f, String(f.s ?? '?')));
    else w.resolve(f);
  }

  private send(f: Frame): void {
    if (this.closedFlag) throw new ClosedError('control socket closed');
    const data = encodeFrame(f);
    if (data.length - 4 > this.hello.maxFrame) throw new GatehouseError('FRAME_TOO_LARGE', `${f.op} of ${data.length} bytes is over the node's limit of ${this.hello.maxFrame}`);
    this.socket.write(data);
  }

  /** Sends a frame with an id and waits for its `ok`/`res`/`err`. */
  private call(f: Frame, timeoutMs?: number): Promise<Frame> {
    const id = this.nextId++;
    return new Promise<Frame>((resolve, reject) => {
      const w: Waiter = { resolve, reject };
      // The node enforces a request's own timeout; this one only covers a node that stopped answering.
      if (timeoutMs !== undefined) {
        w.timer = setTimeout(() => {
          this.waiters.delete(id);
          reject(new TimeoutError(`${f.op} not answered within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.waiters.set(id, w);
      try {
        this.send({ ...f, id });
      } catch (e) {
        this.waiters.delete(id);
        clearTimeout(w.timer);
        reject(e as Error);
      }
    });
  }

  publish(subject: string, data: Uint8Array, opts?: PublishOptions): void {
    this.send({ op: 'pub', s: subject, d: data, ...(opts?.reply ? { r: opts.reply } : {}), ...(opts?.headers ? { h: opts.headers } : {}) });
  }

  subscribe(subject: string, handler: MsgHandler, opts?: SubscribeOptions): Subscription {
    const id = this.nextId++;
    this.send({ op: 'sub', id, s: subject, ...(opts?.queue ? { q: opts.queue } : {}) });
    this.subs.set(id, handler);
    let closed = false;
    return {
      subject,
      queue: opts?.queue,
      get closed() {
        return closed;
      },
      unsubscribe: () => {
        if (closed) return;
        closed = true;
        this.subs.delete(id);
        if (!this.closedFlag) this.send({ op: 'unsub', id });
      },
    };
  }

  async request(subject: string, data: Uint8Array, opts?: RequestOptions): Promise<BusMsg> {
    const t = opts?.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const f = await this.call({ op: 'req', s: subject, d: data, t, ...(opts?.headers ? { h: opts.headers } : {}) }, t + 5000);
    return frameToMsg(f);
  }

  respond(msg: BusMsg, data: Uint8Array, headers?: Headers): void {
    if (!msg.reply) throw new GatehouseError(ErrorCode.BadSubject, `message on ${msg.subject} has no reply subject`);
    this.publish(msg.reply, data, headers ? { headers } : undefined);
  }

  async flush(): Promise<void> {
    await this.call({ op: 'flush' }, 10_000);
  }

  /** The node's status (what `gatehouse status` shows for an embedded node). */
  async status(): Promise<Record<string, unknown>> {
    const f = await this.call({ op: 'status' }, 10_000);
    return (f.v ?? {}) as Record<string, unknown>;
  }

  onStatus(listener: (s: BusStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async drain(): Promise<void> {
    await this.flush().catch(() => undefined);
    await this.close();
  }

  async close(): Promise<void> {
    if (this.closedFlag) return;
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 1000).unref();
    });
    this.shut();
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  private shut(err?: Error): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.socket.destroy();
    const e = new ClosedError(`control socket closed${err ? `: ${errorMessage(err)}` : ''}`, { cause: err });
    for (const w of this.waiters.values()) {
      clearTimeout(w.timer);
      w.reject(e);
    }
    this.waiters.clear();
    this.subs.clear();
    for (const l of this.listeners) l({ type: 'closed', error: err });
  }
}
