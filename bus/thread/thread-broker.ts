/**
 * The main-thread side of the thread bus: serves MessagePorts (one per worker-thread connection) onto a MemoryBroker,
 * as server/control-socket.ts serves a socket onto a node's memory bus. Each port's first message is a hello naming
 * its prefix; the port then gets a `broker.connect({prefix})` Bus of its own and every later message is one operation
 * on it (bus/thread/messages.ts).
 *
 * Every message is hostile until checked: a bad one is answered with an `err` naming the op and field, and counted
 * (`stats().badMessages`); nothing a port sends throws out of the broker. A port whose first message is not a valid
 * hello is answered with an `err` and closed.
 *
 * Bounds, per port (ThreadBrokerLimits, defaults in THREAD_LIMITS): subscriptions open (`maxSubscriptions`), payload
 * bytes of a publish, reply or request (`maxPayloadBytes`), requests in flight (`maxRequests`) and a request's timeout
 * (`maxRequestMs`, longer ones are cut to it). Past a bound the port gets an `err` with code LIMIT or
 * PAYLOAD_TOO_LARGE; the connection stays open.
 *
 * Bytes queued to a thread (`maxQueuedBytes`, per port): a MessagePort has no backpressure, so the thread acks what it
 * has handled (bus/thread/port-credit.ts) and what it has not is bounded here. A thread with `maxQueuedBytes` unread
 * is a slow consumer, as on NATS: messages for it (`msg`) are dropped until it catches up, a reply to its request
 * (`res`) becomes an `err` SLOW_CONSUMER for that request (small, one per request it made, so the caller learns at
 * once rather than by its timeout); each is counted (`stats().slowConsumerDrops`) and logged at most once a second
 * per port, naming it and the bound. `ok`, `err` and acks always go: each answers a frame of the thread, whose own
 * credit stops it sending while it does not read. The other way the thread refuses its own sends (thread-bus.ts).
 */
import type { MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Bus, BusMsg, Subscription } from '../bus.js';
import { MemoryBroker } from '../memory-bus.js';
import { assertSubject } from '../subject-match.js';
import { BAD_FRAME, bytes, headers, int, str, type Frame } from '../socket/frames.js';
import { GatehouseError, errorMessage } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { LIMIT, THREAD_LIMITS, TOO_LARGE, own, framesOf, MAX_BATCH, PortOutbox } from './messages.js';
import { PortCredit, SLOW_CONSUMER, SlowConsumerLog, queuedOver } from './port-credit.js';

export interface ThreadBrokerLimits {
  maxPayloadBytes: number;
  maxSubscriptions: number;
  maxRequests: number;
  maxRequestMs: number;
  /** Bytes posted to one thread and not yet acked before its messages are dropped (port-credit.ts). */
  maxQueuedBytes: number;
}

export interface ThreadBrokerStats {
  /** Ports open now, and accepted since the start. */
  connections: number;
  accepted: number;
  /** Messages refused for their shape (bad hello included). */
  badMessages: number;
  /** Operations refused for a bound. */
  limited: number;
  /** Messages to slow-consumer threads dropped, and replies to them turned into SLOW_CONSUMER errors. */
  slowConsumerDrops: number;
  /** Bytes posted to the threads and not yet acked, now: summed over the ports, and the largest of one port. */
  queuedBytes: number;
  queuedBytesMax: number;
}

type Counts = Omit<ThreadBrokerStats, 'queuedBytes' | 'queuedBytesMax'>;

export class ThreadBroker {
  readonly broker: MemoryBroker;
  private readonly limits: ThreadBrokerLimits;
  private readonly log: Logger;
  private readonly conns = new Set<Connection>();
  private readonly counts: Counts = { connections: 0, accepted: 0, badMessages: 0, limited: 0, slowConsumerDrops: 0 };
  private closed = false;
  /** @internal the clock of the slow-consumer log's once-a-second */
  readonly now: () => number;

  /** Serves onto `broker`, or onto a MemoryBroker of its own. */
  constructor(opts: { broker?: MemoryBroker; limits?: Partial<ThreadBrokerLimits>; log?: Logger; now?: () => number } = {}) {
    this.broker = opts.broker ?? new MemoryBroker();
    this.limits = { ...THREAD_LIMITS, ...opts.limits };
    this.log = opts.log ?? silentLogger;
    this.now = opts.now ?? Date.now;
  }

  /** Serves one port (the other end goes to a thread's createThreadBus). */
  serve(port: MessagePort): void {
    if (this.closed) {
      port.close();
      return;
    }
    const conn = new Connection(this, port, this.limits, this.counts, this.log);
    this.conns.add(conn);
    this.counts.connections++;
    this.counts.accepted++;
  }

  /** @internal */
  dropped(conn: Connection): void {
    if (this.conns.delete(conn)) this.counts.connections--;
  }

  stats(): ThreadBrokerStats {
    return { ...this.counts, ...queuedOver(this.conns) };
  }

  /** Closes every port and its Bus (the threads' pending requests fail with CLOSED). The MemoryBroker stays. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.conns].map((c) => c.close()));
  }
}

class Connection {
  private bus?: Bus;
  private readonly subs = new Map<number, Subscription>();
  private requests = 0;
  private open = true;
  /** What goes to the thread, one post per turn (messages.ts PortOutbox). */
  private readonly out: PortOutbox;
  /** Bytes to the thread not yet acked, and this side's acks of what the thread sent (port-credit.ts). */
  private readonly credit: PortCredit;
  private readonly slow: SlowConsumerLog;
  /** Named in logs: the port's number, and its prefix once it said hello. */
  private name: string;

  constructor(
    private readonly owner: ThreadBroker,
    private readonly port: MessagePort,
    private readonly limits: ThreadBrokerLimits,
    private readonly counts: Counts,
    private readonly log: Logger,
  ) {
    this.name = `thread bus port ${counts.accepted + 1}`;
    this.credit = new PortCredit(limits.maxQueuedBytes);
    this.slow = new SlowConsumerLog(log, owner.now, () => this.name, limits.maxQueuedBytes);
    this.out = new PortOutbox(port, (e) => this.log.error({ err: e }, 'thread broker could not post to a port'), this.credit);
    port.on('message', (m: unknown) => {
      const frames = framesOf(m);
      if (!frames) {
        this.refuse(undefined, new GatehouseError(BAD_FRAME, `batch message: field b must be an array of 1-${MAX_BATCH} frames, none a batch`));
        return;
      }
      for (const f of frames) {
        try {
          if (this.credit.received(f)) continue;
        } catch (e) {
          this.refuse(undefined, e);
          continue;
        }
        this.onMessage(f);
      }
      // Once per post, after its frames ran: the ack leaves with what they sent (at most one per ackBytes handled).
      const ack = this.credit.takeAck();
      if (ack && this.open) this.out.postAck(ack);
    });
    // The other end closed, or its thread ended (terminated included): its subscriptions and requests go with it.
    port.on('close', () => void this.close());
  }

  /** @internal bytes posted to the thread and not yet acked */
  get queued(): number {
    return this.credit.unacked;
  }

  private send(m: Frame, transfer?: Uint8Array): void {
    if (!this.open) return;
    this.out.post(m, transfer ? (transfer.buffer as ArrayBuffer) : undefined);
  }

  private onMessage(raw: unknown): void {
    if (!this.open) return;
    if (!raw || typeof raw !== 'object' || typeof (raw as Frame).op !== 'string') {
      this.refuse(undefined, new GatehouseError(BAD_FRAME, 'message is not an object with a string `op`'));
      if (!this.bus) void this.close();
      return;
    }
    const f = raw as Frame;
    const id = typeof f.id === 'number' && Number.isInteger(f.id) ? f.id : undefined;
    if (!this.bus) {
      this.hello(f);
      return;
    }
    try {
      this.apply(this.bus, f, id);
    } catch (e) {
      this.refuse(id, e);
    }
  }

  private hello(f: Frame): void {
    try {
      if (f.op !== 'hello') throw new GatehouseError(BAD_FRAME, `first message must be hello, not ${JSON.stringify(f.op).slice(0, 40)}`);
      const prefix = str(f, 'prefix')!;
      assertSubject(prefix, false);
      this.bus = this.owner.broker.connect({ prefix, log: this.log });
      this.name += ` (prefix ${prefix})`;
    } catch (e) {
      this.refuse(undefined, e);
      void this.close();
    }
  }

  private apply(bus: Bus, f: Frame, id: number | undefined): void {
    switch (f.op) {
      case 'pub':
        bus.publish(str(f, 's')!, this.payload(f), { reply: str(f, 'r', true), headers: headers(f) });
        return;
      case 'rsp': {
        const d = this.payload(f);
        bus.respond({ subject: '', data: d, reply: str(f, 's')! }, d, headers(f));
        return;
      }
      case 'sub': {
        const sid = int(f, 'id');
        if (this.subs.has(sid)) throw new GatehouseError(BAD_FRAME, `sub message: subscription ${sid} exists`);
        if (this.subs.size >= this.limits.maxSubscriptions) throw this.limit(`at most ${this.limits.maxSubscriptions} subscriptions per thread bus`);
        const sub = bus.subscribe(str(f, 's')!, (m) => this.deliver('msg', sid, m), { queue: str(f, 'q', true) });
        this.subs.set(sid, sub);
        return;
      }
      case 'unsub': {
        const sid = int(f, 'id');
        this.subs.get(sid)?.unsubscribe();
        this.subs.delete(sid);
        return;
      }
      case 'req': {
        const rid = int(f, 'id');
        const s = str(f, 's')!;
        const d = this.payload(f);
        const h = headers(f);
        const t = Math.min(Math.max(int(f, 't'), 1), this.limits.maxRequestMs);
        if (this.requests >= this.limits.maxRequests) throw this.limit(`at most ${this.limits.maxRequests} requests in flight per thread bus`);
        this.requests++;
        bus
          .request(s, d, { timeoutMs: t, headers: h })
          .then(
            (m) => this.deliver('res', rid, m),
            (e) => this.refuse(rid, e, false),
          )
          .finally(() => this.requests--);
        return;
      }
      case 'flush':
        int(f, 'id');
        // Every earlier message of this port has been applied (a port is FIFO); this waits for their deliveries.
        bus.flush().then(
          () => this.send({ op: 'ok', id }),
          (e) => this.refuse(id, e, false),
        );
        return;
      case 'close':
        void this.close();
        return;
      default:
        throw new GatehouseError(BAD_FRAME, `unknown op ${JSON.stringify(f.op).slice(0, 40)}`);
    }
  }

  private payload(f: Frame): Uint8Array {
    const d = bytes(f, 'd');
    if (d.byteLength > this.limits.maxPayloadBytes) {
      this.counts.limited++;
      throw new GatehouseError(TOO_LARGE, `${f.op} message: payload of ${d.byteLength} bytes is over the limit of ${this.limits.maxPayloadBytes}`);
    }
    return d;
  }

  private limit(message: string): GatehouseError {
    this.counts.limited++;
    return new GatehouseError(LIMIT, message);
  }

  private deliver(op: 'msg' | 'res', id: number, m: BusMsg): void {
    if (this.credit.full) {
      // A slow consumer (see the header): checked before the copy, so a stuck thread costs a compare per message.
      if (!this.open) return;
      this.counts.slowConsumerDrops++;
      this.slow.dropped(op, this.credit.unacked);
      if (op === 'res') {
        const message = `reply dropped: ${this.credit.unacked} bytes queued to this thread unread, at the limit of maxQueuedBytes ${this.limits.maxQueuedBytes}`;
        this.send({ op: 'err', id, code: SLOW_CONSUMER, message });
      }
      return;
    }
    const d = own(m.data);
    this.send({ op, id, s: m.subject, d, ...(m.reply ? { r: m.reply } : {}), ...(m.headers ? { h: m.headers } : {}) }, d);
  }

  /** Answers an error; `bad`: a refusal of the message's shape (counted) rather than an operation's failure. */
  private refuse(id: number | undefined, e: unknown, bad = true): void {
    const code = (e as GatehouseError).code ?? 'INTERNAL';
    if (bad && (code === BAD_FRAME || code === 'BAD_SUBJECT')) this.counts.badMessages++;
    this.send({ op: 'err', ...(id !== undefined ? { id } : {}), code, message: errorMessage(e) });
  }

  async close(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    this.owner.dropped(this);
    this.subs.clear();
    this.out.flush(); // what was answered before the close leaves first
    this.port.close();
    // Closing the Bus removes its subscriptions and fails its requests in flight (their answers go nowhere).
    await this.bus?.close();
  }
}
