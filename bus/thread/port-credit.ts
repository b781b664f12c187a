/**
 * Credit over a MessagePort: a MessagePort has no backpressure, so what one side posts and the other has not read
 * would grow without bound when the reader is stuck (a busy loop, a long GC) or just slower than the traffic. Each
 * direction of a thread bus or thread store port therefore counts it: the sender adds each frame's cost when it posts
 * (`sent`), the receiver adds the cost of each frame it has handled (`received`) and, once it has handled `ackBytes`
 * since its last ack, answers `ack` {n} (`takeAck`, sent with that turn's frames); the sender's `unacked` is what was
 * posted and not yet acked: at most what waits in the peer's queue. While `full` (unacked ≥ the bound) the sender
 * holds its data frames back: the broker and store server drop them for that thread (a slow consumer, as NATS does),
 * a thread refuses them to its caller with SLOW_CONSUMER. One frame may take unacked past the bound, never two.
 *
 * Cheap on the hot path: a frame's cost is an integer add (its payload bytes and a fixed overhead, so floods of empty
 * frames count too) and an ack answers at least `ackBytes` of frames (a quarter of the bound, at most 256 KiB), not
 * each one. Acks are neither counted nor acked (one per `ackBytes` handled bounds them). The threshold is the
 * receiver's own bound's: with bounds of 1 MiB or more it is 256 KiB on every side, a quarter of any sender's bound,
 * so the two ends need not share the setting; below 1 MiB, give both ends the same bound.
 */
import type { Logger } from 'pino';
import { GatehouseError } from '../../common/errors.js';
import { BAD_FRAME } from '../socket/frames.js';

/** Counted per frame on top of its payload: a frame's object, its clone and its queue slot are not free. */
export const FRAME_OVERHEAD = 64;
/** The most bytes handled between two acks (a quarter of the bound when that is less). */
export const MAX_ACK_BYTES = 256 * 1024;
/** Default bound per port direction: nats-server's default max_pending for a slow consumer. */
export const DEFAULT_QUEUED_BYTES = 64 * 1024 * 1024;
/** The code of a refusal (thread side) or a dropped reply (main side) for a port over its bound. */
export const SLOW_CONSUMER = 'SLOW_CONSUMER';

export function ackThreshold(bound: number): number {
  return Math.max(1, Math.min(Math.floor(bound / 4), MAX_ACK_BYTES));
}

/**
 * What a frame counts for: its payload (`d`, or a store value `v`: bytes, an entry, a list of entries or keys) and
 * FRAME_OVERHEAD. Both ends compute it on the same frame (a structured clone keeps byte lengths), so their sums agree.
 */
export function frameCost(f: unknown): number {
  if (f === null || typeof f !== 'object') return FRAME_OVERHEAD;
  const { d, v } = f as { d?: unknown; v?: unknown };
  let n = FRAME_OVERHEAD;
  if (d instanceof Uint8Array) n += d.byteLength;
  if (v !== undefined && v !== null && typeof v === 'object') n += valueBytes(v);
  return n;
}

function valueBytes(v: object): number {
  if (v instanceof Uint8Array) return v.byteLength;
  if (!Array.isArray(v)) return entryBytes(v);
  let n = 0;
  for (const x of v) n += typeof x === 'string' ? x.length : x !== null && typeof x === 'object' ? entryBytes(x as object) : 0;
  return n;
}

function entryBytes(e: object): number {
  const { key, value } = e as { key?: unknown; value?: unknown };
  return (typeof key === 'string' ? key.length : 0) + (value instanceof Uint8Array ? value.byteLength : 0);
}

export class PortCredit {
  /** Bytes posted to the peer and not yet acked by it: what may still wait in its port's queue. */
  unacked = 0;
  /** Acks refused (a bad `n`): counted here, reported by the owner. */
  badAcks = 0;
  readonly ackBytes: number;
  /** Bytes handled from the peer since this side's last ack. */
  private consumed = 0;

  constructor(readonly bound: number) {
    this.ackBytes = ackThreshold(bound);
  }

  /** The peer holds `bound` bytes or more: no data frame may go to it now. */
  get full(): boolean {
    return this.unacked >= this.bound;
  }

  /** Counts a frame posted to the peer (an ack is not counted: see the header). */
  sent(f: unknown): void {
    this.unacked += frameCost(f);
  }

  /**
   * A frame from the peer, before it is handled: an ack is applied and true returned (nothing more to do with it);
   * any other frame is counted as handled. Throws BAD_FRAME, naming the field, for an ack whose n is not a whole
   * number from 1 to what was sent and not yet acked (counted in `badAcks`).
   */
  received(f: unknown): boolean {
    const a = f as { op?: unknown; n?: unknown } | null;
    if (a === null || typeof a !== 'object' || a.op !== 'ack') {
      this.consumed += frameCost(f);
      return false;
    }
    const n = a.n;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > this.unacked) {
      this.badAcks++;
      throw new GatehouseError(BAD_FRAME, `ack frame: field n must be a whole number of bytes from 1 to ${this.unacked} (sent and not yet acked)`);
    }
    this.unacked -= n;
    return true;
  }

  /** After handling a post from the peer: the ack to send back, when `ackBytes` or more were handled since the last. */
  takeAck(): { op: 'ack'; n: number } | undefined {
    if (this.consumed < this.ackBytes) return undefined;
    const n = this.consumed;
    this.consumed = 0;
    return { op: 'ack', n };
  }
}

/** Bytes unread over a server's ports, summed and the largest of one (the broker's and store server's stats). */
export function queuedOver(conns: Iterable<{ readonly queued: number }>): { queuedBytes: number; queuedBytesMax: number } {
  let queuedBytes = 0;
  let queuedBytesMax = 0;
  for (const c of conns) {
    queuedBytes += c.queued;
    queuedBytesMax = Math.max(queuedBytesMax, c.queued);
  }
  return { queuedBytes, queuedBytesMax };
}

/**
 * Frames dropped for a slow consumer, logged at most once a second per port (a stuck thread would otherwise log once
 * per message): the first drop at once, then how many were dropped since the last line. `now` is injected (tests).
 */
export class SlowConsumerLog {
  private last = -Infinity;
  private since = 0;

  constructor(
    private readonly log: Logger,
    private readonly now: () => number,
    /** Names the port in each line (its connection and prefix). */
    private readonly port: () => string,
    private readonly bound: number,
  ) {}

  dropped(op: string, unacked: number): void {
    this.since++;
    const t = this.now();
    if (t - this.last < 1000) return;
    this.log.warn(
      { port: this.port(), op, dropped: this.since, queuedBytes: unacked, maxQueuedBytes: this.bound },
      `slow consumer: ${this.since} frame(s) to ${this.port()} dropped, ${unacked} bytes unread at maxQueuedBytes ${this.bound}`,
    );
    this.last = t;
    this.since = 0;
  }
}
