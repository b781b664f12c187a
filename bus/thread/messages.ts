/**
 * What travels over a thread bus's MessagePort (bus/thread/thread-bus.ts ↔ bus/thread/thread-broker.ts): the control
 * socket's frames (bus/socket/frames.ts) as structured-clone objects instead of MessagePack bytes. A port is ordered
 * (FIFO), so a connection's operations reach the broker in the order they were made, as on a NATS connection.
 *
 * Thread → broker: `hello` {prefix} first; `pub` {s, d, r?, h?}; `rsp` {s, d, h?} (a reply: subject not checked, as
 * the memory bus's respond); `sub` {id, s, q?}; `unsub` {id}; `req` {id, s, d, t, h?}; `flush` {id}; `close`.
 * Broker → thread: `msg` {id (the subscription), s, d, r?, h?}; `res` {id, s, d, h?}; `ok` {id};
 * `err` {id?, code, message} (with an id: that call or subscription failed; without: an operation without an id did).
 * Both ways: `ack` {n} (bytes of frames handled since the last ack: bus/thread/port-credit.ts).
 */
import { DEFAULT_QUEUED_BYTES, type PortCredit } from './port-credit.js';

/** Broker's default bounds (ThreadBrokerLimits); the thread side checks the payload bound too, synchronously. */
export const THREAD_LIMITS = Object.freeze({
  /** NATS's default max_payload: a thread may send what it could send to a cluster. */
  maxPayloadBytes: 1024 * 1024,
  maxSubscriptions: 4096,
  maxRequests: 65_536,
  maxRequestMs: 10 * 60_000,
  /** Bytes posted to one port and not yet read (acked), per direction: past it, a slow consumer (port-credit.ts). */
  maxQueuedBytes: DEFAULT_QUEUED_BYTES,
});

export const TOO_LARGE = 'PAYLOAD_TOO_LARGE';
export const LIMIT = 'LIMIT';

/**
 * A private copy of `data`, compact, whose buffer the sender may transfer: copied, not transferred in place, because
 * the caller may reuse its buffer (and a view into a pooled Buffer would otherwise clone its whole 8 KiB slab), and
 * the broker hands one payload to every subscriber. One copy, then a transfer (no second copy by structured clone).
 */
export function own(data: Uint8Array): Uint8Array {
  return new Uint8Array(data);
}

/**
 * The thread store's messages (bus/thread/thread-store.ts ↔ bus/thread/store-server.ts), bucket `b` by name on every
 * operation. Thread → server: `bucket` {id, b, ttl?}; `get` {id, b, k}; `put`|`create` {id, b, k, v};
 * `update` {id, b, k, v, e}; `delete` {id, b, k, e?}; `keys`|`entries` {id, b, p?}; `last` {id, b};
 * `watch` {id (also the watch's id), b, p?, i?}; `unwatch` {id}; `close`. Server → thread: `ok` {id, v?}
 * (v: the call's result); `chg` {w, k, o ('put'|'delete'), v, r}; `err` {id?, code, message}. Both ways: `ack` {n}.
 */
export const STORE_LIMITS = Object.freeze({
  /** NATS's default max_payload, as for the thread bus: a value a thread could also write to JetStream KV. */
  maxValueBytes: 1024 * 1024,
  /** Key and pattern length in chars; a longer key is refused with BAD_KEY. */
  maxKeyChars: 1024,
  maxWatches: 1024,
  maxRequests: 65_536,
  /** Bucket handles (name and TTL) a port may hold open. */
  maxBuckets: 1024,
  /** As THREAD_LIMITS.maxQueuedBytes: changes to a thread over it are dropped, its calls refused (port-credit.ts). */
  maxQueuedBytes: DEFAULT_QUEUED_BYTES,
});

/** Tells the other end of `port` that this side closes; nothing to do when that end is gone already. */
export function sayClose(port: { postMessage(m: unknown): void }): void {
  try {
    port.postMessage({ op: 'close' });
  } catch {
    // the other end closed first
  }
}

/** Most frames in one `batch` message; a port outbox posts at once when it holds this many. */
export const MAX_BATCH = 1024;

/**
 * Frames to one port, posted together once per microtask checkpoint: one postMessage (a structured clone and a
 * wake-up of the other thread) per turn instead of one per frame (bench chat, `start --threads 2`, one post per
 * frame: 23.7 µs of CPU per delivery against 14.7 on one thread). Order is kept (one queue, posted in order); a
 * lone frame travels as itself, several as `{op: 'batch', b: [frames]}` (their payloads transferred together).
 * With a `credit`, each frame posted is counted there (an ack, posted with `postAck`, is not).
 */
export class PortOutbox {
  private frames: Array<Record<string, unknown>> = [];
  private transfer: ArrayBuffer[] = [];
  private scheduled = false;

  constructor(
    private readonly port: { postMessage(m: unknown, transfer?: ArrayBuffer[]): void },
    /** What postMessage threw (a closed port): the frames of that post are lost to a peer that is gone. */
    private readonly onError: (e: unknown) => void,
    readonly credit?: PortCredit,
  ) {}

  post(f: Record<string, unknown>, transfer?: ArrayBuffer): void {
    this.credit?.sent(f);
    this.push(f, transfer);
  }

  /** An ack, not counted (acks are not acked), riding with this turn's frames. */
  postAck(a: { op: 'ack'; n: number }): void {
    this.push(a);
  }

  private push(f: Record<string, unknown>, transfer?: ArrayBuffer): void {
    this.frames.push(f);
    if (transfer) this.transfer.push(transfer);
    if (this.frames.length >= MAX_BATCH) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flushSoon);
    }
  }

  private readonly flushSoon = () => {
    this.scheduled = false;
    this.flush();
  };

  /** Posts what is held now (before a close, so nothing sent earlier is left behind). */
  flush(): void {
    if (this.frames.length === 0) return;
    const frames = this.frames;
    const transfer = this.transfer;
    this.frames = [];
    this.transfer = [];
    try {
      this.port.postMessage(frames.length === 1 ? frames[0] : { op: 'batch', b: frames }, transfer);
    } catch (e) {
      this.onError(e);
    }
  }
}

/**
 * The frames of one received message: itself, or the items of a `batch` (checked: an array of at most MAX_BATCH,
 * no batch inside a batch). Undefined for a batch that breaks those rules.
 */
export function framesOf(m: unknown): unknown[] | undefined {
  const b = m as { op?: unknown; b?: unknown } | null;
  if (!b || typeof b !== 'object' || b.op !== 'batch') return [m];
  if (!Array.isArray(b.b) || b.b.length === 0 || b.b.length > MAX_BATCH) return undefined;
  if (b.b.some((x) => (x as { op?: unknown } | null)?.op === 'batch')) return undefined;
  return b.b;
}
