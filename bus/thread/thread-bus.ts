/**
 * A Bus in a worker thread, over a MessagePort to a ThreadBroker in the main thread (bus/thread/thread-broker.ts),
 * which carries out each operation on a MemoryBroker: threads of one process meet on one in-memory bus, no NATS. The
 * design of bus/socket/socket-bus.ts with structured-clone messages (bus/thread/messages.ts) instead of byte frames.
 *
 * Semantics are the memory bus's (the bus contract suite runs on it as `thread`): a port is FIFO, so one connection's
 * publishes, requests and replies reach the broker in the order made; subjects are checked here, synchronously, so a
 * bad one throws at once. Differences: `PublishOptions.value` does not cross threads (a value published with empty
 * `data` is encoded into `data`, as the memory bus does for a subscriber that reads `data`); a subscription refused by
 * the broker (over its bound) is closed and reported as an `error` status, after the fact; payloads are copied.
 *
 * Credit (bus/thread/port-credit.ts): frames to the broker count until it acks them; while `maxQueuedBytes` wait
 * unread, a publish, reply or request throws SLOW_CONSUMER at once (as a payload over the limit throws
 * PAYLOAD_TOO_LARGE), so nothing is lost unseen; subscribe, unsubscribe and flush still go (small, and a flush must be
 * answered). This side acks the broker's frames as it handles them; while it does not, the broker drops its messages.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Bus, BusMsg, BusStatus, Headers, MsgHandler, PublishOptions, RequestOptions, SubscribeOptions, Subscription } from '../bus.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../bus.js';
import { encode } from '../codec.js';
import { assertSubject } from '../subject-match.js';
import { frameError, frameToMsg, type Frame } from '../socket/frames.js';
import { ClosedError, GatehouseError, TimeoutError, errorMessage } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { framesOf, PortOutbox, THREAD_LIMITS, TOO_LARGE, own, sayClose } from './messages.js';
import { PortCredit, SLOW_CONSUMER } from './port-credit.js';

export interface ThreadBusOptions {
  prefix: string;
  /** Checked here before sending; keep it at the broker's (ThreadBrokerLimits.maxPayloadBytes). */
  maxPayloadBytes?: number;
  /** Bytes sent and not yet read by the broker before a send is refused (port-credit.ts); default 64 MiB. */
  maxQueuedBytes?: number;
  log?: Logger;
}

interface Pending {
  subject: string;
  resolve: (m: BusMsg) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

export function createThreadBus(port: MessagePort, opts: ThreadBusOptions): Bus {
  return new ThreadBus(port, opts);
}

class ThreadBus implements Bus {
  // Not 'memory': the actor runtime passes values in process only on the memory bus; a thread gets bytes.
  readonly kind = 'thread' as const;
  readonly prefix: string;
  private nextId = 1;
  private readonly subs = new Map<number, MsgHandler>();
  private readonly pending = new Map<number, Pending>();
  private readonly flushes = new Map<number, Pending>();
  private readonly listeners = new Set<(s: BusStatus) => void>();
  private readonly maxPayload: number;
  private readonly log: Logger;
  private closedFlag = false;
  /** What goes to the broker, one post per turn (messages.ts PortOutbox). */
  private readonly out: PortOutbox;
  /** Bytes to the broker not yet acked, and this side's acks (port-credit.ts). */
  private readonly credit: PortCredit;

  constructor(
    private readonly port: MessagePort,
    opts: ThreadBusOptions,
  ) {
    assertSubject(opts.prefix, false);
    this.prefix = opts.prefix;
    this.maxPayload = opts.maxPayloadBytes ?? THREAD_LIMITS.maxPayloadBytes;
    this.log = opts.log ?? silentLogger;
    this.credit = new PortCredit(opts.maxQueuedBytes ?? THREAD_LIMITS.maxQueuedBytes);
    this.out = new PortOutbox(port, (e) => this.log.warn({ err: e }, 'thread bus could not post to its broker'), this.credit);
    port.on('message', (m: unknown) => {
      const frames = framesOf(m);
      if (!frames) {
        this.log.warn('thread bus: a malformed batch from its broker was dropped');
        return;
      }
      for (const f of frames) {
        try {
          if (this.credit.received(f)) continue;
        } catch (err) {
          this.log.warn({ err, badAcks: this.credit.badAcks }, 'thread bus: a bad ack from its broker was refused');
          continue;
        }
        this.onMessage(f as Frame);
      }
      // Once per post, after its frames ran: the ack leaves with what they sent.
      const ack = this.credit.takeAck();
      if (ack && !this.closedFlag) this.out.postAck(ack);
    });
    port.on('close', () => this.shut(new ClosedError('the thread broker closed the port')));
    const hello = { op: 'hello', prefix: opts.prefix };
    this.credit.sent(hello); // the broker counts every frame it handles, the hello too
    port.postMessage(hello);
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  private onMessage(f: Frame): void {
    const id = typeof f?.id === 'number' ? f.id : -1;
    if (f?.op === 'msg') {
      const h = this.subs.get(id);
      if (!h) return; // unsubscribed here; the broker had not yet heard
      try {
        h(frameToMsg(f));
      } catch (err) {
        // A subscriber's bug must not take the bus down with it (as on the memory bus).
        this.log.error({ err, subject: f.s }, 'subscription handler threw');
      }
      return;
    }
    const p = this.pending.get(id) ?? this.flushes.get(id);
    if (p) {
      this.pending.delete(id);
      this.flushes.delete(id);
      clearTimeout(p.timer);
      if (f.op === 'err') p.reject(frameError(f, p.subject));
      else p.resolve(frameToMsg(f));
      return;
    }
    if (f?.op === 'err') {
      const e = frameError(f, '?');
      // A refused subscription is closed; an operation without an id (a publish) reports its failure here.
      if (this.subs.delete(id)) this.log.warn({ err: e }, 'thread broker refused a subscription');
      for (const l of this.listeners) l({ type: 'error', error: e });
    }
  }

  private send(f: Frame, data?: Uint8Array): void {
    if (this.closedFlag) throw new ClosedError('bus is closed');
    if (data === undefined) {
      this.out.post(f);
      return;
    }
    if (data.byteLength > this.maxPayload) throw new GatehouseError(TOO_LARGE, `payload of ${data.byteLength} bytes is over the limit of ${this.maxPayload}`);
    if (this.credit.full) {
      throw new GatehouseError(SLOW_CONSUMER, `${this.credit.unacked} bytes sent to the thread broker are not yet read, at the limit of maxQueuedBytes ${this.credit.bound}`);
    }
    const d = own(data);
    f.d = d;
    this.out.post(f, d.buffer as ArrayBuffer);
  }

  publish(subject: string, data: Uint8Array, opts?: PublishOptions): void {
    if (this.closedFlag) throw new ClosedError('bus is closed');
    assertSubject(subject, false);
    // A value does not cross threads: encoded, as the memory bus encodes it for a subscriber that reads `data`.
    const d = data.length === 0 && opts?.value !== undefined ? encode(opts.value) : data;
    this.send({ op: 'pub', s: subject, ...(opts?.reply ? { r: opts.reply } : {}), ...(opts?.headers ? { h: opts.headers } : {}) }, d);
  }

  subscribe(subject: string, handler: MsgHandler, opts?: SubscribeOptions): Subscription {
    if (this.closedFlag) throw new ClosedError('bus is closed');
    assertSubject(subject, true);
    const id = this.nextId++;
    this.send({ op: 'sub', id, s: subject, ...(opts?.queue ? { q: opts.queue } : {}) });
    this.subs.set(id, handler);
    const subs = this.subs;
    return {
      subject,
      queue: opts?.queue,
      get closed() {
        return !subs.has(id);
      },
      unsubscribe: () => {
        if (!subs.delete(id)) return;
        if (!this.closedFlag) this.send({ op: 'unsub', id });
      },
    };
  }

  request(subject: string, data: Uint8Array, opts?: RequestOptions): Promise<BusMsg> {
    if (this.closedFlag) return Promise.reject(new ClosedError('bus is closed'));
    const t = opts?.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const id = this.nextId++;
    return new Promise<BusMsg>((resolve, reject) => {
      const p: Pending = { subject, resolve, reject };
      try {
        assertSubject(subject, false);
        this.send({ op: 'req', id, s: subject, t, ...(opts?.headers ? { h: opts.headers } : {}) }, data);
      } catch (e) {
        reject(e as Error);
        return;
      }
      // The broker times the request out too; this one holds even if its answer never comes back.
      p.timer = setTimeout(() => {
        if (this.pending.delete(id)) reject(new TimeoutError(`request to ${subject} timed out after ${t} ms`));
      }, t);
      p.timer.unref();
      this.pending.set(id, p);
    });
  }

  respond(msg: BusMsg, data: Uint8Array, headers?: Headers): void {
    if (!msg.reply) return;
    if (this.closedFlag) throw new ClosedError('bus is closed');
    this.send({ op: 'rsp', s: msg.reply, ...(headers ? { h: headers } : {}) }, data);
  }

  /** Resolves once the broker has applied everything sent before and delivered what that queued. */
  flush(): Promise<void> {
    if (this.closedFlag) return Promise.reject(new ClosedError('bus is closed'));
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.flushes.set(id, { subject: 'flush', resolve: () => resolve(), reject });
      this.send({ op: 'flush', id });
    });
  }

  onStatus(listener: (s: BusStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async drain(): Promise<void> {
    if (this.closedFlag) return;
    // The broker answers a flush after the deliveries it queued; those came first on the port, so they have run.
    await this.flush().catch(() => undefined);
    await this.close();
  }

  async close(): Promise<void> {
    if (this.closedFlag) return;
    this.out.flush(); // what was sent before the close reaches the broker first
    sayClose(this.port);
    this.shut();
    this.port.close();
  }

  private shut(err?: Error): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.subs.clear();
    const e = new ClosedError(err ? `bus closed: ${errorMessage(err)}` : 'bus closed', { cause: err });
    for (const p of [...this.pending.values(), ...this.flushes.values()]) {
      clearTimeout(p.timer);
      p.reject(e);
    }
    this.pending.clear();
    this.flushes.clear();
    for (const l of this.listeners) l({ type: 'closed', ...(err ? { error: err } : {}) });
    this.listeners.clear();
  }
}
