/**
 * The in-memory bus: the embedded default and the reference for the contract suite. A MemoryBroker plays the part of
 * nats-server; each `connect()` is one client bound to a prefix. Delivery is asynchronous and FIFO across the whole
 * broker, as with a NATS connection: a handler that publishes never re-enters another handler, and messages from one
 * publisher reach each subscriber in publish order.
 */
import type { Logger } from 'pino';
import {
  type Bus,
  type BusMsg,
  type BusStatus,
  type Headers,
  type MsgHandler,
  type PublishOptions,
  type RequestOptions,
  type SubscribeOptions,
  type Subscription,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from './bus.js';
import { assertSubject } from './subject-match.js';
import { SubjectIndex, SubscriberLookup, type PrefixRoutes } from './subject-index.js';
import { ClosedError, NoRespondersError } from '../common/errors.js';
import { encode } from './codec.js';
import { silentLogger } from '../common/logger.js';
import { RequestMux } from './request-mux.js';

interface MemSub {
  readonly abs: string;
  readonly queue?: string;
  readonly client: MemoryBusClient;
  readonly handler: MsgHandler;
  active: boolean;
}

const NO_BYTES = new Uint8Array(0);

/** A message published with its decoded value: the bytes are encoded only if a subscriber reads `data`. */
class ValueMsg implements BusMsg {
  private bytes: Uint8Array | undefined = undefined;
  constructor(
    readonly subject: string,
    readonly value: unknown,
    given: Uint8Array,
    readonly reply: string | undefined,
    readonly headers: Headers | undefined,
  ) {
    if (given.length > 0) this.bytes = given;
  }

  get data(): Uint8Array {
    return (this.bytes ??= this.value === undefined ? NO_BYTES : encode(this.value));
  }
}

/** At most this many deliveries run per event-loop turn, so timers and I/O still get their turn under load. */
const BATCH = 4096;
/**
 * And at most this long (checked every CHECK_EVERY deliveries): a turn's socket writes are flushed only when it ends
 * (gateway/transport.ts), so 4 096 chat deliveries of ~20 µs each held every line of that turn for 80 ms, and the
 * socket reads waiting behind it longer still (bench chat, rooms of 10: p99 at half capacity 51 ms against
 * Colyseus's 4 ms). A few milliseconds keeps most of the batching and caps what one turn adds to every latency.
 */
export const DRAIN_BUDGET_MS = 2;
const CHECK_EVERY = 32;
/** Records the broker's ring starts with (three slots each), and the most it keeps once empty (see ring). */
const RING_MIN = 256;
const RING_KEEP = 16_384;

export class MemoryBroker {
  private readonly index = new SubjectIndex<MemSub>();
  private readonly parents = new SubscriberLookup<MemSub>(this.index);
  /**
   * The broker's queue holds one record of three consecutive slots per delivery: (subscriber, message, unused) with
   * the message built for its subscriber when it is routed, or, for a value published without reply, headers or bytes
   * (an in-process tell: actors/runtime/client.ts), (subscriber, its subject as that subscriber sees it, the value),
   * whose message is built only when it is delivered. Queued deliveries wait long: under a burst thousands do, each
   * outliving two scavenges, so V8 promotes them to old space and a mark-compact collects them (bench embedded, 8 k
   * tells in flight: ~200 B promoted per tell). A record of slots promotes none of the 64 B message object.
   *
   * The records sit in a ring (`cap` records, a power of two, from record `first`, `size` of them) that doubles when
   * full and is kept when it empties unless past RING_KEEP: an array pushed to at the back and cut at the front
   * grew by copying itself over and over under a sustained load (its delivered front dropped every 64 k records),
   * ~80 B a tell of large-object allocation that only a mark-compact gives back.
   */
  private ring: unknown[] = new Array<unknown>(3 * RING_MIN);
  private cap = RING_MIN;
  private first = 0;
  private size = 0;
  private scheduled = false;
  private readonly rr = new Map<string, number>();
  private flushWaiters: Array<() => void> = [];
  private readonly budgetMs: number;
  private readonly now: () => number;

  /** `drainBudgetMs` and `now` (ms, monotonic) are for tests; Infinity turns the time bound off. */
  constructor(opts: { drainBudgetMs?: number; now?: () => number } = {}) {
    this.budgetMs = opts.drainBudgetMs ?? DRAIN_BUDGET_MS;
    this.now = opts.now ?? (() => performance.now());
  }

  connect(opts: { prefix: string; log?: Logger; name?: string }): Bus {
    return new MemoryBusClient(this, opts.prefix, opts.log ?? silentLogger);
  }

  /** @internal */
  addSub(sub: MemSub): void {
    this.index.add(sub.abs, sub);
    this.parents.added(sub.abs);
  }

  /** @internal */
  removeSub(sub: MemSub): void {
    this.index.remove(sub.abs, sub);
    this.parents.removed(sub.abs);
  }

  /** @internal The routes of a publishing prefix, for `route`. */
  routes(pre: string): PrefixRoutes<MemSub> {
    return this.parents.routes(pre);
  }

  /**
   * @internal Queues `<routes.pre><rel>` for its subscribers; returns how many it was queued for. `check`: throws on
   * a bad subject (publish, request; a reply subject is not checked).
   */
  route(routes: PrefixRoutes<MemSub>, rel: string, check: boolean, data: Uint8Array, replyAbs?: string, headers?: Headers, value?: unknown): number {
    const subs = this.parents.match(routes, rel, check);
    if (subs.length === 0) return 0;
    const pre = routes.pre;
    // The absolute subject, built only when a subscriber on another prefix or a queue group needs it.
    let abs: string | undefined;
    let groups: Map<string, MemSub[]> | undefined;
    let n = 0;
    // A value alone (no reply, headers or bytes) is queued as its subscriber's subject and the value (see queue).
    const bare = value !== undefined && replyAbs === undefined && headers === undefined && data.length === 0;
    for (const sub of subs) {
      if (!sub.active) continue;
      if (sub.queue === undefined) {
        if (sub.client.pre !== pre) abs ??= pre + rel;
        if (bare) this.enqueue(sub, sub.client.subjectOf(abs, rel, pre), value);
        else this.enqueue(sub, sub.client.message(abs, rel, pre, data, replyAbs, headers, value), undefined);
        n++;
      } else {
        groups ??= new Map();
        const g = groups.get(sub.queue);
        if (g) g.push(sub);
        else groups.set(sub.queue, [sub]);
      }
    }
    if (groups) {
      for (const [queue, members] of groups) {
        // Round-robin per (queue group, subject): an even spread the contract test can count on.
        abs ??= pre + rel;
        const key = `${queue} ${abs}`;
        const i = (this.rr.get(key) ?? 0) % members.length;
        this.rr.set(key, i + 1);
        if (this.rr.size > 10_000) this.rr.clear();
        const m = members[i]!;
        if (bare) this.enqueue(m, m.client.subjectOf(abs, rel, pre), value);
        else this.enqueue(m, m.client.message(abs, rel, pre, data, replyAbs, headers, value), undefined);
        n++;
      }
    }
    return n;
  }

  /** @internal Resolves once every delivery queued so far has run. */
  flush(): Promise<void> {
    if (this.size === 0 && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push(resolve));
  }

  /** `msg` a message, or the subject of `value`'s message (see ring). */
  private enqueue(sub: MemSub, msg: BusMsg | string, value: unknown): void {
    if (this.size === this.cap) this.grow();
    const r = this.ring;
    const i = ((this.first + this.size) & (this.cap - 1)) * 3;
    r[i] = sub;
    r[i + 1] = msg;
    r[i + 2] = value;
    this.size++;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
  }

  /** Twice the records, in order from the start. */
  private grow(): void {
    const old = this.ring;
    const mask = this.cap - 1;
    const ring = new Array<unknown>(6 * this.cap);
    for (let k = 0; k < this.size; k++) {
      const from = ((this.first + k) & mask) * 3;
      ring[3 * k] = old[from];
      ring[3 * k + 1] = old[from + 1];
      ring[3 * k + 2] = old[from + 2];
    }
    this.ring = ring;
    this.cap *= 2;
    this.first = 0;
  }

  private readonly drain = (): void => {
    // What was queued before this turn, at most BATCH: deliveries queued by handlers meanwhile wait for the next.
    let left = Math.min(this.size, BATCH);
    const deadline = this.budgetMs === Infinity ? Infinity : this.now() + this.budgetMs;
    let n = 0;
    while (left-- > 0) {
      // Read each time: a handler publishing may have grown the ring.
      const r = this.ring;
      const i = this.first * 3;
      const sub = r[i] as MemSub;
      const m = r[i + 1] as BusMsg | string;
      const value = r[i + 2];
      r[i] = r[i + 1] = r[i + 2] = undefined;
      this.first = (this.first + 1) & (this.cap - 1);
      this.size--;
      if (sub.active) sub.client.deliver(sub, typeof m === 'string' ? new ValueMsg(m, value, NO_BYTES, undefined, undefined) : m);
      if (++n === CHECK_EVERY) {
        n = 0;
        if (this.now() >= deadline) break;
      }
    }
    if (this.size === 0) {
      this.first = 0;
      if (this.cap > RING_KEEP) {
        this.ring = new Array<unknown>(3 * RING_MIN);
        this.cap = RING_MIN;
      }
      this.scheduled = false;
      const waiters = this.flushWaiters;
      this.flushWaiters = [];
      for (const w of waiters) w();
    } else setImmediate(this.drain);
  };
}

class MemoryBusClient implements Bus {
  readonly kind = 'memory' as const;
  private closedFlag = false;
  private readonly subs = new Set<MemSub>();
  private readonly listeners = new Set<(s: BusStatus) => void>();
  private readonly mux: RequestMux;
  /** @internal `<prefix>.` */
  readonly pre: string;
  /** Where this client's publishes go (SubscriberLookup): subjects checked, subscribers found, by relative subject. */
  private readonly routes: PrefixRoutes<MemSub>;

  constructor(
    private readonly broker: MemoryBroker,
    readonly prefix: string,
    private readonly log: Logger,
  ) {
    this.pre = prefix + '.';
    this.routes = broker.routes(this.pre);
    this.mux = new RequestMux(this, log);
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  publish(subject: string, data: Uint8Array, opts?: PublishOptions): void {
    if (this.closedFlag) throw new ClosedError('bus is closed');
    if (opts) this.broker.route(this.routes, subject, true, data, opts.reply ? this.pre + opts.reply : undefined, opts.headers, opts.value);
    else this.broker.route(this.routes, subject, true, data);
  }

  subscribe(subject: string, handler: MsgHandler, opts?: SubscribeOptions): Subscription {
    if (this.closedFlag) throw new ClosedError('bus is closed');
    assertSubject(subject, true);
    const sub: MemSub = { abs: this.pre + subject, queue: opts?.queue, client: this, handler, active: true };
    this.subs.add(sub);
    this.broker.addSub(sub);
    const broker = this.broker;
    const subs = this.subs;
    return {
      subject,
      queue: opts?.queue,
      get closed() {
        return !sub.active;
      },
      unsubscribe() {
        if (!sub.active) return;
        sub.active = false;
        subs.delete(sub);
        broker.removeSub(sub);
      },
    };
  }

  request(subject: string, data: Uint8Array, opts?: RequestOptions): Promise<BusMsg> {
    if (this.closedFlag) return Promise.reject(new ClosedError('bus is closed'));
    assertSubject(subject, false);
    const timeoutMs = opts?.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const { reply, promise } = this.mux.open(subject, timeoutMs);
    const n = this.broker.route(this.routes, subject, true, data, this.pre + reply, opts?.headers);
    if (n === 0) this.mux.fail(reply, new NoRespondersError(subject));
    return promise;
  }

  respond(msg: BusMsg, data: Uint8Array, headers?: Headers): void {
    if (!msg.reply) return;
    if (this.closedFlag) throw new ClosedError('bus is closed');
    this.broker.route(this.routes, msg.reply, false, data, undefined, headers);
  }

  flush(): Promise<void> {
    if (this.closedFlag) return Promise.reject(new ClosedError('bus is closed'));
    return this.broker.flush();
  }

  onStatus(listener: (s: BusStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** @internal A subject as this client's subscribers see it: relative to its prefix (`abs` given when it differs). */
  subjectOf(abs: string | undefined, rel: string, pre: string): string {
    return pre === this.pre ? rel : abs!.startsWith(this.pre) ? abs!.slice(this.pre.length) : abs!;
  }

  /** @internal The message as this client's subscriber sees it: subjects relative to its prefix. */
  message(abs: string | undefined, rel: string, pre: string, data: Uint8Array, replyAbs?: string, headers?: Headers, value?: unknown): BusMsg {
    const subject = this.subjectOf(abs, rel, pre);
    const reply = replyAbs?.startsWith(this.pre) ? replyAbs.slice(this.pre.length) : replyAbs;
    return value === undefined ? { subject, data, reply, headers } : new ValueMsg(subject, value, data, reply, headers);
  }

  /** @internal */
  deliver(sub: MemSub, msg: BusMsg): void {
    try {
      sub.handler(msg);
    } catch (err) {
      // A subscriber's bug must not take the bus down with it.
      this.log.error({ err, subject: msg.subject }, 'subscription handler threw');
    }
  }

  async drain(): Promise<void> {
    if (this.closedFlag) return;
    await this.broker.flush();
    await this.close();
  }

  async close(): Promise<void> {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const sub of this.subs) {
      sub.active = false;
      this.broker.removeSub(sub);
    }
    this.subs.clear();
    this.mux.close(new ClosedError('bus closed'));
    for (const l of this.listeners) l({ type: 'closed' });
    this.listeners.clear();
  }
}
