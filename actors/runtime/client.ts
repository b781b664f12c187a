/**
 * Addressing: `ref(kind, id)` gives a handle; `tell` is fire-and-forget, `ask` is request/reply with a timeout. Every
 * envelope carries this client's sender id and a sequence number, so receivers drop duplicates and can check
 * per-sender order across migrations.
 */
import type { Bus } from '../../bus/bus.js';
import { shardOf, subjects } from '../../bus/subjects.js';
import { fromWire, GatehouseError, ErrorCode } from '../../common/errors.js';
import { newUid } from '../../bus/request-mux.js';
import type { Address } from './effects.js';
import { NOT_PLAIN, plainCopy } from './copy.js';
import { decodeReply, encodeEnvelope, type Envelope } from './envelope.js';
import { SEQ_PER_MS } from './seen.js';

const NO_BYTES = new Uint8Array(0);
/**
 * Actor subjects a client keeps (about 100 bytes each, so at most ~13 MB), as many as the memory bus's match cache.
 * When it is full it starts over, unless it missed more than it hit since it last did: then the client is sending to
 * more actors than fit, where starting over only means a fuller miss (an insert into a map regrowing from empty,
 * ~0.7 µs a tell against ~0.1 µs to build the subject), so it keeps what it has and builds the others without keeping
 * them, for as many misses as the cache holds, then starts over to look again. 131 072 rather than 16 384: with tells
 * round-robin over 100 k actors (bench embedded) every subject was built anew and hashed again by the bus, and the
 * embedded micro measured 10.4 → 9.6 µs per tell with both caches this size.
 */
export const SUBJECT_CACHE = 131_072;

export interface ActorRef<TMsg = unknown> {
  readonly address: Address;
  tell(msg: TMsg): void;
  ask<T = unknown>(msg: TMsg, opts?: { timeoutMs?: number }): Promise<T>;
}

export interface ClientOptions {
  shards: number;
  askTimeoutMs: number;
  /** Defaults to a fresh random id: one sender per client instance. */
  senderId?: string;
  /** Wall clock (ms) that anchors sequences; receivers check them against theirs. Default Date.now. */
  now?: () => number;
  /** On the in-memory bus, tells carry a copied envelope instead of bytes (default); false: always encode. */
  inProcess?: boolean;
}

export class ActorClient {
  readonly senderId: string;
  /** The wall clock sequences are anchored to (and that receivers check them against: seen.ts). */
  readonly now: () => number;
  private seq = 0;
  private sent = 0;
  /** Tells hand the in-memory bus a copied envelope instead of bytes (see tell). */
  private readonly inProcess: boolean;
  /** kind → id → sharded subject (see subjectOf). */
  private readonly subjectCache = new Map<string, Map<string, string>>();
  private subjectCount = 0;
  /** Since the cache last started over: lookups it answered, and those it did not. */
  private subjectHits = 0;
  private subjectMisses = 0;
  /** Misses still to build without keeping (see SUBJECT_CACHE); 0 while the cache keeps what it misses. */
  private subjectScan = 0;
  private readonly valueOpts: { value: Envelope | undefined } = { value: undefined };

  constructor(
    readonly bus: Bus,
    private readonly opts: ClientOptions,
  ) {
    this.senderId = opts.senderId ?? newUid();
    this.now = opts.now ?? Date.now;
    this.inProcess = bus.kind === 'memory' && opts.inProcess !== false;
  }

  /**
   * Next sequence: µs of the wall clock, or one more than the last when faster. Anchored to time so that a receiver
   * can tell a forged far-ahead sequence from a real one, a sender's first message to an actor included
   * (actors/runtime/seen.ts); still strictly increasing per sender, which is all the dedupe needs. The clock is read
   * on every 64th message only: Date.now() measured 250 ns on this loaded VM against ~1 µs for a whole publish, and
   * a sequence that lags the clock is harmless (only one running ahead is refused).
   */
  private nextSeq(): number {
    if ((this.sent++ & 63) === 0) {
      const t = Math.floor(this.now()) * SEQ_PER_MS;
      if (t > this.seq) return (this.seq = t);
    }
    return ++this.seq;
  }

  /**
   * An actor's inbox subject. Sharded subjects are kept (up to SUBJECT_CACHE): besides the hash, encode and
   * concatenation saved, the bus then sees the same string object for an actor every time, and V8 keeps a string's
   * hash in it, so the bus's own lookups by subject (its checked-subject and match caches) hash nothing.
   */
  subjectOf(addr: Address): string {
    if (addr.node !== undefined) return subjects.pinned(addr.kind, addr.node, addr.id);
    let byId = this.subjectCache.get(addr.kind);
    let s = byId?.get(addr.id);
    if (s !== undefined) {
      this.subjectHits++;
      return s;
    }
    s = subjects.actor(addr.kind, shardOf(addr.id, this.opts.shards), addr.id);
    if (this.subjectScan > 0) {
      // A scan (see SUBJECT_CACHE): built, not kept; once it has run its length the cache starts over.
      if (--this.subjectScan === 0) this.restartSubjects();
      return s;
    }
    if (this.subjectCount >= SUBJECT_CACHE) {
      if (this.subjectMisses > this.subjectHits) {
        // Most lookups since the last start over missed: keep the cache and stop filling it for a while.
        this.subjectScan = SUBJECT_CACHE;
        return s;
      }
      this.restartSubjects();
      byId = undefined;
    }
    if (!byId) this.subjectCache.set(addr.kind, (byId = new Map()));
    byId.set(addr.id, s);
    this.subjectCount++;
    this.subjectMisses++;
    return s;
  }

  private restartSubjects(): void {
    this.subjectCache.clear();
    this.subjectCount = 0;
    this.subjectHits = 0;
    this.subjectMisses = 0;
  }

  shardOf(id: string): number {
    return shardOf(id, this.opts.shards);
  }

  ref<TMsg = unknown>(kind: string, id: string, node?: string): ActorRef<TMsg> {
    const address: Address = node === undefined ? { kind, id } : { kind, id, node };
    return {
      address,
      tell: (msg) => this.tell(address, msg),
      ask: (msg, o) => this.ask(address, msg, o),
    };
  }

  tell(to: Address, msg: unknown): void {
    if (this.inProcess) {
      // Embedded: the in-memory bus hands the receiver this envelope, not bytes (an encode and a decode saved, ~1.4 µs
      // of a ~10 µs tell). Copy-on-send (copy.ts): the receiver gets a deep copy of plain data, equal to what it would
      // have decoded; anything else goes the encoded way. Asks stay encoded: their replies come back as bytes anyway.
      // Order is kept: both kinds go through the broker's one FIFO.
      const m = plainCopy(msg);
      if (m !== NOT_PLAIN) {
        // One options object for every tell: the memory bus reads it during publish and keeps only the value.
        const o = this.valueOpts;
        o.value = { m, s: this.senderId, q: this.nextSeq() } satisfies Envelope;
        try {
          this.bus.publish(this.subjectOf(to), NO_BYTES, o);
        } finally {
          o.value = undefined;
        }
        return;
      }
    }
    this.bus.publish(this.subjectOf(to), encodeEnvelope({ m: msg, s: this.senderId, q: this.nextSeq() }));
  }

  async ask<T = unknown>(to: Address, msg: unknown, o?: { timeoutMs?: number }): Promise<T> {
    const data = encodeEnvelope({ m: msg, s: this.senderId, q: this.nextSeq() });
    const res = await this.bus.request(this.subjectOf(to), data, { timeoutMs: o?.timeoutMs ?? this.opts.askTimeoutMs });
    let reply;
    try {
      reply = decodeReply(res.data);
    } catch (err) {
      throw new GatehouseError(ErrorCode.BadMessage, `unreadable reply from ${to.kind}/${to.id}`, { cause: err });
    }
    if (reply.ok) return reply.v as T;
    throw fromWire(reply.e);
  }
}
