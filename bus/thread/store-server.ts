/**
 * The main-thread side of the thread store: serves MessagePorts (one per worker-thread store) onto one Store of this
 * process (the memory store, or the LMDB store of embedded mode, which opens in the main thread only). Each message is
 * one operation on a bucket of that store (bus/thread/messages.ts); a port is FIFO, so a thread's operations start in
 * the order it made them, as on the store itself.
 *
 * Every message is hostile until checked: a bad one is answered with an `err` naming the op and field, and counted
 * (`stats().badMessages`); nothing a port sends throws out of the server. Errors of the store travel back with their
 * code (CONFLICT, BAD_KEY, CLOSED, STORE_ERROR ...), so the thread side rethrows the store's class and code.
 *
 * Bounds, per port (ThreadStoreLimits, defaults in STORE_LIMITS): value bytes (`maxValueBytes`, code
 * PAYLOAD_TOO_LARGE), key and pattern length (`maxKeyChars`, code BAD_KEY), open watches (`maxWatches`), calls in
 * flight (`maxRequests`) and bucket handles (`maxBuckets`) (code LIMIT). Each refusal for a bound is counted
 * (`stats().limited`); the port stays open. When a port closes (its thread ended, or it sent `close`), its watches
 * stop and the answers of its calls in flight go nowhere. The served store stays open: its owner closes it.
 *
 * Bytes queued to a thread (`maxQueuedBytes`, per port; bus/thread/port-credit.ts, as for the thread broker): while a
 * thread has that many unread, a watch change for it (`chg`) is dropped, and an answer carrying entries or keys (get,
 * entries, keys) becomes an `err` SLOW_CONSUMER for that call; each is counted (`stats().slowConsumerDrops`) and
 * logged at most once a second per port. Other answers (a revision, `ok`, `err`) and acks always go: each answers a
 * call of the thread, whose own credit stops its calls while it does not read. A dropped change is lost to that
 * watch, as a NATS watch loses what a slow consumer dropped.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { KvBucket, KvChange, KvEntry, KvWatcher, Store } from '../store.js';
import { BAD_FRAME, bytes, int, str, type Frame } from '../socket/frames.js';
import { ErrorCode, GatehouseError, errorMessage } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { LIMIT, STORE_LIMITS, TOO_LARGE, own } from './messages.js';
import { PortCredit, SLOW_CONSUMER, SlowConsumerLog, queuedOver } from './port-credit.js';

export interface ThreadStoreLimits {
  maxValueBytes: number;
  maxKeyChars: number;
  maxWatches: number;
  maxRequests: number;
  maxBuckets: number;
  /** Bytes posted to one thread and not yet acked before its watch changes are dropped (port-credit.ts). */
  maxQueuedBytes: number;
}

export interface ThreadStoreStats {
  /** Ports open now, and accepted since the start. */
  connections: number;
  accepted: number;
  /** Watches open now, over every port. */
  watches: number;
  /** Messages refused for their shape. */
  badMessages: number;
  /** Operations refused for a bound. */
  limited: number;
  /** Watch changes to slow-consumer threads dropped, and answers to them turned into SLOW_CONSUMER errors. */
  slowConsumerDrops: number;
  /** Bytes posted to the threads and not yet acked, now: summed over the ports, and the largest of one port. */
  queuedBytes: number;
  queuedBytesMax: number;
}

type Counts = Omit<ThreadStoreStats, 'queuedBytes' | 'queuedBytesMax'>;

export class ThreadStoreServer {
  private readonly limits: ThreadStoreLimits;
  private readonly log: Logger;
  private readonly conns = new Set<StoreConnection>();
  /** @internal shared with the connections, which keep `watches`, `badMessages` and `limited` up to date */
  readonly counts: Counts = { connections: 0, accepted: 0, watches: 0, badMessages: 0, limited: 0, slowConsumerDrops: 0 };
  private closed = false;
  /** @internal the clock of the slow-consumer log's once-a-second */
  readonly now: () => number;

  constructor(
    readonly store: Store,
    opts: { limits?: Partial<ThreadStoreLimits>; log?: Logger; now?: () => number } = {},
  ) {
    this.limits = { ...STORE_LIMITS, ...opts.limits };
    this.log = opts.log ?? silentLogger;
    this.now = opts.now ?? Date.now;
  }

  /** Serves one port (the other end goes to a thread's createThreadStore). */
  serve(port: MessagePort): void {
    if (this.closed) {
      port.close();
      return;
    }
    this.conns.add(new StoreConnection(this, port, this.limits, this.log));
    this.counts.connections++;
    this.counts.accepted++;
  }

  /** @internal */
  dropped(conn: StoreConnection): void {
    if (this.conns.delete(conn)) this.counts.connections--;
  }

  stats(): ThreadStoreStats {
    return { ...this.counts, ...queuedOver(this.conns) };
  }

  /** Closes every port (the threads' pending calls fail with CLOSED) and stops their watches; the store stays open. */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of [...this.conns]) c.close();
  }
}

interface WatchSlot {
  watcher?: KvWatcher;
}

class StoreConnection {
  /**
   * Bucket handles by name: a thread opening a bucket again replaces its handle (the store keeps a bucket's first
   * TTL either way), so the map holds at most one handle per name.
   */
  private readonly buckets = new Map<string, KvBucket>();
  private readonly watches = new Map<number, WatchSlot>();
  private requests = 0;
  private open = true;
  /** Bytes to the thread not yet acked, and this side's acks of what the thread sent (port-credit.ts). */
  private readonly credit: PortCredit;
  private readonly slow: SlowConsumerLog;
  private readonly name: string;

  constructor(
    private readonly owner: ThreadStoreServer,
    private readonly port: MessagePort,
    private readonly limits: ThreadStoreLimits,
    private readonly log: Logger,
  ) {
    this.name = `thread store port ${owner.counts.accepted + 1}`;
    this.credit = new PortCredit(limits.maxQueuedBytes);
    this.slow = new SlowConsumerLog(log, owner.now, () => this.name, limits.maxQueuedBytes);
    port.on('message', (m: unknown) => {
      this.onMessage(m);
      // After each message (this side posts one frame per message): an ack per ackBytes handled, not counted.
      const ack = this.credit.takeAck();
      if (ack && this.open) this.post(ack);
    });
    // The other end closed, or its thread ended (terminated included): its watches go with it.
    port.on('close', () => this.close());
  }

  /** @internal bytes posted to the thread and not yet acked */
  get queued(): number {
    return this.credit.unacked;
  }

  private send(m: Frame, transfer?: ArrayBuffer[]): void {
    if (!this.open) return;
    this.credit.sent(m);
    this.post(m, transfer);
  }

  private post(m: Frame, transfer?: ArrayBuffer[]): void {
    try {
      this.port.postMessage(m, transfer);
    } catch (e) {
      this.log.error({ err: e, op: m.op }, 'thread store server could not post to a port');
    }
  }

  private onMessage(raw: unknown): void {
    if (!this.open) return;
    if (!raw || typeof raw !== 'object' || typeof (raw as Frame).op !== 'string') {
      this.refuse(undefined, new GatehouseError(BAD_FRAME, 'message is not an object with a string `op`'));
      return;
    }
    const f = raw as Frame;
    const id = typeof f.id === 'number' && Number.isInteger(f.id) && f.id >= 0 ? f.id : undefined;
    try {
      if (this.credit.received(f)) return;
      if (f.op === 'close') return this.close();
      if (f.op === 'unwatch') return this.unwatch(int(f, 'id'));
      const rid = int(f, 'id');
      // Before the operation's checks: a watch holds its slot from there on.
      if (this.requests >= this.limits.maxRequests) throw this.limit(`at most ${this.limits.maxRequests} store calls in flight per thread`);
      const run = this.operation(f, rid);
      this.requests++;
      run()
        .then(
          (r) => this.answer(rid, r),
          (e) => this.refuse(rid, e, false),
        )
        .finally(() => this.requests--);
    } catch (e) {
      this.refuse(id, e);
    }
  }

  /** Checks the message's fields now (a bad one throws here) and returns the call to run on the store. */
  private operation(f: Frame, id: number): () => Promise<Answer> {
    if (f.op === 'bucket') {
      const name = str(f, 'b')!;
      const ttl = f.ttl === undefined ? 0 : int(f, 'ttl');
      const full = () => !this.buckets.has(name) && this.buckets.size >= this.limits.maxBuckets;
      if (full()) throw this.limit(`at most ${this.limits.maxBuckets} buckets open per thread`);
      return async () => {
        const b = await this.owner.store.bucket(name, ttl > 0 ? { ttlMs: ttl } : undefined);
        // Checked again: other opens of this port may have filled the map while the store answered.
        if (full()) throw this.limit(`at most ${this.limits.maxBuckets} buckets open per thread`);
        this.buckets.set(name, b);
        return {};
      };
    }
    const b = this.bucket(f);
    switch (f.op) {
      case 'get': {
        const k = this.key(f, 'k');
        return async () => entryAnswer(await b.get(k));
      }
      case 'put':
      case 'create': {
        const k = this.key(f, 'k');
        const v = this.value(f);
        return f.op === 'put' ? async () => ({ v: await b.put(k, v) }) : async () => ({ v: await b.create(k, v) });
      }
      case 'update': {
        const k = this.key(f, 'k');
        const v = this.value(f);
        const e = int(f, 'e');
        return async () => ({ v: await b.update(k, v, e) });
      }
      case 'delete': {
        const k = this.key(f, 'k');
        const e = f.e === undefined ? undefined : int(f, 'e');
        return async () => {
          await b.delete(k, e);
          return {};
        };
      }
      case 'keys': {
        const p = this.key(f, 'p', true);
        return async () => ({ v: await b.keys(p) });
      }
      case 'entries': {
        const p = this.key(f, 'p', true);
        return async () => entriesAnswer(await b.entries(p));
      }
      case 'last':
        return async () => ({ v: await b.lastRevision() });
      case 'watch':
        return this.watch(f, b, id);
      default:
        throw new GatehouseError(BAD_FRAME, `unknown op ${JSON.stringify(f.op).slice(0, 40)}`);
    }
  }

  private watch(f: Frame, b: KvBucket, id: number): () => Promise<Answer> {
    const p = this.key(f, 'p', true);
    if (f.i !== undefined && typeof f.i !== 'boolean') throw new GatehouseError(BAD_FRAME, 'watch frame: field i must be a boolean');
    if (this.watches.has(id)) throw new GatehouseError(BAD_FRAME, `watch frame: watch ${id} exists`);
    if (this.watches.size >= this.limits.maxWatches) throw this.limit(`at most ${this.limits.maxWatches} watches per thread`);
    // Held from now, so the bound counts watches still opening and an unwatch that overtakes the store's answer works.
    const slot: WatchSlot = {};
    this.watches.set(id, slot);
    this.owner.counts.watches++;
    return async () => {
      try {
        const w = await b.watch((c) => this.change(id, c), { ...(p !== undefined ? { key: p } : {}), initial: f.i === true });
        if (this.watches.get(id) === slot) slot.watcher = w;
        else w.stop(); // unwatched, or the port closed, while it opened
      } catch (e) {
        this.unwatch(id);
        throw e;
      }
      return {};
    };
  }

  private answer(id: number, r: Answer): void {
    // An answer carrying entries or keys waits on the bound like a change; a revision or a bare ok is small.
    if (r.v !== null && typeof r.v === 'object' && this.credit.full && this.open) {
      this.slowDrop('ok');
      const message = `answer dropped: ${this.credit.unacked} bytes queued to this thread unread, at the limit of maxQueuedBytes ${this.limits.maxQueuedBytes}`;
      this.send({ op: 'err', id, code: SLOW_CONSUMER, message });
      return;
    }
    this.send({ op: 'ok', id, ...(r.v !== undefined ? { v: r.v } : {}) }, r.transfer);
  }

  private slowDrop(op: string): void {
    this.owner.counts.slowConsumerDrops++;
    this.slow.dropped(op, this.credit.unacked);
  }

  private change(w: number, c: KvChange): void {
    if (!this.watches.has(w)) return;
    if (this.credit.full) {
      // A slow consumer (see the header): checked before the copy.
      if (this.open) this.slowDrop('chg');
      return;
    }
    const v = own(c.value);
    this.send({ op: 'chg', w, k: c.key, o: c.op, v, r: c.revision }, [v.buffer as ArrayBuffer]);
  }

  private unwatch(id: number): void {
    const slot = this.watches.get(id);
    if (!slot) return;
    this.watches.delete(id);
    this.owner.counts.watches--;
    slot.watcher?.stop();
  }

  private bucket(f: Frame): KvBucket {
    const name = str(f, 'b')!;
    const b = this.buckets.get(name);
    if (b) return b;
    throw new GatehouseError(BAD_FRAME, `${f.op} frame: bucket ${JSON.stringify(name).slice(0, 80)} is not open on this port`);
  }

  /** A key or pattern: a string (else BAD_FRAME) of at most maxKeyChars (else BAD_KEY, a bound); the store checks the rest. */
  private key(f: Frame, field: string): string;
  private key(f: Frame, field: string, optional: true): string | undefined;
  private key(f: Frame, field: string, optional = false): string | undefined {
    const v = f[field];
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'string') throw new GatehouseError(BAD_FRAME, `${f.op} frame: field ${field} must be a string`);
    if (v.length > this.limits.maxKeyChars) {
      this.owner.counts.limited++;
      throw new GatehouseError(ErrorCode.BadKey, `${f.op} frame: field ${field} of ${v.length} chars is over the limit of ${this.limits.maxKeyChars}`);
    }
    return v;
  }

  private value(f: Frame): Uint8Array {
    const v = bytes(f, 'v');
    if (v.byteLength > this.limits.maxValueBytes) {
      this.owner.counts.limited++;
      throw new GatehouseError(TOO_LARGE, `${f.op} frame: value of ${v.byteLength} bytes is over the limit of ${this.limits.maxValueBytes}`);
    }
    return v;
  }

  private limit(message: string): GatehouseError {
    this.owner.counts.limited++;
    return new GatehouseError(LIMIT, message);
  }

  /** Answers an error; `bad`: a refusal of the message's shape (counted) rather than an operation's failure. */
  private refuse(id: number | undefined, e: unknown, bad = true): void {
    const code = e instanceof GatehouseError ? e.code : ErrorCode.StoreError;
    if (bad && code === BAD_FRAME) this.owner.counts.badMessages++;
    this.send({ op: 'err', ...(id !== undefined ? { id } : {}), code, message: errorMessage(e) });
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.owner.dropped(this);
    for (const id of [...this.watches.keys()]) this.unwatch(id);
    this.buckets.clear();
    this.port.close();
  }
}

interface Answer {
  v?: unknown;
  transfer?: ArrayBuffer[];
}

/** Values leave as copies whose buffers are transferred: never the store's own bytes, never a pooled slab. */
function entryAnswer(e: KvEntry | null): Answer {
  if (!e) return { v: null };
  const value = own(e.value);
  return { v: { key: e.key, value, revision: e.revision }, transfer: [value.buffer as ArrayBuffer] };
}

function entriesAnswer(list: KvEntry[]): Answer {
  const transfer: ArrayBuffer[] = [];
  const v = list.map((e) => {
    const value = own(e.value);
    transfer.push(value.buffer as ArrayBuffer);
    return { key: e.key, value, revision: e.revision };
  });
  return { v, transfer };
}
