/**
 * A Store in a worker thread, over a MessagePort to a ThreadStoreServer in the main thread (bus/thread/store-server.ts),
 * which carries out each operation on the process's store (memory, or the LMDB store of embedded mode, which a worker
 * thread cannot open itself). Messages: bus/thread/messages.ts.
 *
 * Semantics are the served store's (the store contract suite runs on it as `thread`): a port is FIFO, so calls reach
 * the store in the order made; the store's errors come back as the same classes and codes (ConflictError for
 * CONFLICT, ClosedError for CLOSED, GatehouseError with the code otherwise). Differences: values are copied both ways
 * (the caller may reuse its buffer; what it gets back is its own); a value over `maxValueBytes` is refused here, at
 * once; `kind` is the served store's as told by the caller (its semantics are the served store's). A call the server
 * does not answer within `timeoutMs` (10 s: a local store answers in far less; a port nobody serves never answers)
 * fails with TIMEOUT, which callers treat like a NATS store timeout (the write may still have been applied); when
 * the port closes, the pending calls fail with CLOSED.
 *
 * Credit (bus/thread/port-credit.ts): calls count until the server acks them; while `maxQueuedBytes` wait unread, a
 * call fails at once with SLOW_CONSUMER (stopping a watch still goes). This side acks what it has handled; while it
 * does not, the server drops its watch changes and answers entries or keys with SLOW_CONSUMER.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { BucketOptions, KvBucket, KvChange, KvEntry, KvWatcher, Store, WatchOptions } from '../store.js';
import { frameError, type Frame } from '../socket/frames.js';
import { ClosedError, ConflictError, ErrorCode, GatehouseError, TimeoutError, errorMessage } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { STORE_LIMITS, TOO_LARGE, own, sayClose } from './messages.js';
import { PortCredit, SLOW_CONSUMER } from './port-credit.js';

export interface ThreadStoreOptions {
  /** The served store's kind (the main thread knows it); default 'memory'. */
  kind?: Store['kind'];
  /** Checked here before sending; keep it at the server's (ThreadStoreLimits.maxValueBytes). */
  maxValueBytes?: number;
  /** How long a call waits for the server's answer before failing with TIMEOUT; default 10 000 ms. */
  timeoutMs?: number;
  /** Bytes sent and not yet read by the server before a call is refused (port-credit.ts); default 64 MiB. */
  maxQueuedBytes?: number;
  log?: Logger;
}

/** Default call timeout (see the header). */
export const THREAD_STORE_TIMEOUT_MS = 10_000;

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export function createThreadStore(port: MessagePort, opts: ThreadStoreOptions = {}): Store {
  return new ThreadStore(port, opts);
}

class ThreadStore implements Store {
  readonly kind: Store['kind'];
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly watches = new Map<number, (c: KvChange) => void>();
  /** @internal */
  readonly maxValue: number;
  private readonly log: Logger;
  private readonly timeoutMs: number;
  private closed = false;
  /** Bytes to the server not yet acked, and this side's acks (port-credit.ts). */
  private readonly credit: PortCredit;

  constructor(
    private readonly port: MessagePort,
    opts: ThreadStoreOptions,
  ) {
    this.kind = opts.kind ?? 'memory';
    this.maxValue = opts.maxValueBytes ?? STORE_LIMITS.maxValueBytes;
    this.log = opts.log ?? silentLogger;
    this.timeoutMs = opts.timeoutMs ?? THREAD_STORE_TIMEOUT_MS;
    this.credit = new PortCredit(opts.maxQueuedBytes ?? STORE_LIMITS.maxQueuedBytes);
    port.on('message', (m: Frame) => {
      try {
        if (this.credit.received(m)) return;
      } catch (err) {
        this.log.warn({ err, badAcks: this.credit.badAcks }, 'thread store: a bad ack from its server was refused');
        return;
      }
      this.onMessage(m);
      // After each message (the server posts one frame per message): an ack per ackBytes handled, not counted.
      const ack = this.credit.takeAck();
      if (ack && !this.closed) this.post(ack);
    });
    port.on('close', () => this.shut(new ClosedError('the thread store server closed the port')));
  }

  private onMessage(f: Frame): void {
    if (f?.op === 'chg') {
      const fn = this.watches.get(typeof f.w === 'number' ? f.w : -1);
      if (!fn) return; // stopped here; the server had not yet heard
      try {
        fn({ key: String(f.k), op: f.o === 'delete' ? 'delete' : 'put', value: f.v instanceof Uint8Array ? f.v : new Uint8Array(0), revision: Number(f.r) });
      } catch (err) {
        // A watcher's bug must not stop delivery to the others (as on the memory store).
        this.log.error({ err, key: f.k }, 'store watch callback threw');
      }
      return;
    }
    const id = typeof f?.id === 'number' ? f.id : -1;
    const p = this.pending.get(id);
    if (p) {
      this.pending.delete(id);
      clearTimeout(p.timer);
      if (f.op === 'err') p.reject(wireError(f));
      else p.resolve(f.v);
      return;
    }
    // An error without a call: a message of ours the server refused outright (an unwatch); nothing waits for it.
    if (f?.op === 'err') this.log.warn({ code: f.code, message: f.message }, 'thread store server refused a message');
  }

  /** Posts a frame, counted (an ack is not: see port-credit.ts). */
  private post(f: Frame, transfer?: ArrayBuffer[]): void {
    if (f.op !== 'ack') this.credit.sent(f);
    this.port.postMessage(f, transfer);
  }

  /** @internal Sends one call; `value` is copied and its copy's buffer transferred. */
  call<T>(f: Frame, value?: Uint8Array): Promise<T> {
    if (this.closed) return Promise.reject(new ClosedError('store is closed'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      try {
        f.id = id;
        if (value !== undefined && value.byteLength > this.maxValue) {
          throw new GatehouseError(TOO_LARGE, `${f.op} value of ${value.byteLength} bytes is over the limit of ${this.maxValue}`);
        }
        if (this.credit.full) {
          throw new GatehouseError(SLOW_CONSUMER, `${this.credit.unacked} bytes sent to the thread store server are not yet read, at the limit of maxQueuedBytes ${this.credit.bound}`);
        }
        if (value === undefined) this.post(f);
        else {
          const v = own(value);
          f.v = v;
          this.post(f, [v.buffer as ArrayBuffer]);
        }
      } catch (e) {
        reject(e as Error);
        return;
      }
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return;
        reject(new TimeoutError(`store ${String(f.op)} got no answer from the thread store server within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      timer.unref?.();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
    });
  }

  /** @internal Opens a watch: changes may arrive before the server's answer, so the callback is held from now. */
  async watch(f: Frame, fn: (c: KvChange) => void): Promise<KvWatcher> {
    if (this.closed) throw new ClosedError('store is closed');
    const id = this.nextId; // call() takes this id next, synchronously
    this.watches.set(id, fn);
    try {
      await this.call(f);
    } catch (e) {
      this.watches.delete(id);
      throw e;
    }
    return {
      stop: () => {
        if (!this.watches.delete(id) || this.closed) return;
        try {
          this.post({ op: 'unwatch', id });
        } catch {
          // closed from the other side meanwhile
        }
      },
    };
  }

  async bucket(name: string, opts?: BucketOptions): Promise<KvBucket> {
    const ttl = opts?.ttlMs ? Math.ceil(opts.ttlMs) : 0;
    await this.call({ op: 'bucket', b: name, ...(ttl > 0 ? { ttl } : {}) });
    return new ThreadBucket(name, this);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    sayClose(this.port);
    this.shut();
    this.port.close();
  }

  private shut(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.watches.clear();
    const e = new ClosedError(err ? `store closed: ${errorMessage(err)}` : 'store closed', { cause: err });
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(e);
    }
    this.pending.clear();
  }
}

class ThreadBucket implements KvBucket {
  constructor(
    readonly name: string,
    private readonly s: ThreadStore,
  ) {}

  async get(key: string): Promise<KvEntry | null> {
    return toEntry(await this.s.call({ op: 'get', b: this.name, k: key }));
  }

  put(key: string, value: Uint8Array): Promise<number> {
    return this.s.call({ op: 'put', b: this.name, k: key }, value);
  }

  create(key: string, value: Uint8Array): Promise<number> {
    return this.s.call({ op: 'create', b: this.name, k: key }, value);
  }

  update(key: string, value: Uint8Array, expected: number): Promise<number> {
    return this.s.call({ op: 'update', b: this.name, k: key, e: expected }, value);
  }

  async delete(key: string, expected?: number): Promise<void> {
    await this.s.call({ op: 'delete', b: this.name, k: key, ...(expected !== undefined ? { e: expected } : {}) });
  }

  keys(pattern?: string): Promise<string[]> {
    return this.s.call({ op: 'keys', b: this.name, ...(pattern !== undefined ? { p: pattern } : {}) });
  }

  async entries(pattern?: string): Promise<KvEntry[]> {
    const list = await this.s.call<unknown[]>({ op: 'entries', b: this.name, ...(pattern !== undefined ? { p: pattern } : {}) });
    return list.map((e) => toEntry(e)!);
  }

  lastRevision(): Promise<number> {
    return this.s.call({ op: 'last', b: this.name });
  }

  watch(onChange: (c: KvChange) => void, opts?: WatchOptions): Promise<KvWatcher> {
    return this.s.watch({ op: 'watch', b: this.name, ...(opts?.key !== undefined ? { p: opts.key } : {}), ...(opts?.initial ? { i: true } : {}) }, onChange);
  }
}

function toEntry(v: unknown): KvEntry | null {
  if (!v || typeof v !== 'object') return null;
  const e = v as KvEntry;
  return { key: String(e.key), value: e.value instanceof Uint8Array ? e.value : new Uint8Array(0), revision: Number(e.revision) };
}

/** The server's error as the class the served store throws for it. */
/** The server's error as the class the other stores throw: CONFLICT here, the codes every frame shares in frames.ts. */
function wireError(f: Frame): GatehouseError {
  return f.code === ErrorCode.Conflict ? new ConflictError(String(f.message)) : frameError(f, '');
}
