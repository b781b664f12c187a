/**
 * Where a node's actor effects leave it: replies to askers, pushes fanned out to gateways (grouped by gateway), and
 * messages forwarded to wherever an actor lives now. Cells call it directly (CellContext.effects) after their turn
 * commits.
 *
 * Push batching (`actors.pushTickMs`, issue 16): each bus message costs the gateway a parse, a dispatch and a decode,
 * which dominates small rooms. So pushes wait per gateway and leave as one message holding several of them: per
 * event-loop turn (0) or per tick (>0 ms), or one message per push (-1, the old behaviour). A lone push still leaves
 * as one GatewayPush object; only two or more make a batch (a MessagePack array of GatewayPush), which a gateway older
 * than this change drops as malformed: upgrade gateways before workers, or run workers with -1 meanwhile.
 *
 * Order: a gateway gets its pushes in the order they were emitted, and every reply or forward leaves only after the
 * pushes emitted before it (both flush first), so a reply never overtakes a push of the same turn. `flush()` lets
 * the others do the same: a turn's tells and asks (turn-runner.ts), a shard's hand-over and a fence (host.ts).
 *
 * In-process (the memory bus, embedded mode) a push leaves as its decoded value (`PublishOptions.value`), as an
 * in-process tell does: copied on send (copy.ts) when it is plain data, else encoded and decoded here, so the gateway
 * gets exactly what it would have decoded, and an unencodable body still fails in its own turn. That spares the
 * MessagePack encode here and the decode in the gateway for every push. Batches are then arrays of those values,
 * bounded by count only: the memory bus has no payload limit (a subscriber reading `data` gets the array encoded,
 * the same bytes as an encoded batch).
 */
import type { Logger } from 'pino';
import type { Bus, BusMsg } from '../../bus/bus.js';
import { decode, encode } from '../../bus/codec.js';
import { subjects } from '../../bus/subjects.js';
import { systemClock, type Clock, type TimerHandle } from '../../common/clock.js';
import { ErrorCode } from '../../common/errors.js';
import type { ActorClient } from './client.js';
import { NOT_PLAIN, plainCopy } from './copy.js';
import type { ConnRef } from './effects.js';
import { encodeEnvelope, encodeReply, type Envelope, type Reply } from './envelope.js';

/** One push as a gateway receives it on `gw.<node>.push`; several in order make a batch (an array of them). */
export interface GatewayPush {
  c: string[];
  r: string;
  b: unknown;
}

/** A batch never holds more pushes than this: a gateway's turn stays short. */
export const MAX_BATCH_PUSHES = 256;
/** Nor more encoded bytes than this (NATS refuses payloads over its max_payload, 1 MB by default). */
export const MAX_BATCH_BYTES = 256 * 1024;

export interface PushBatching {
  /** -1: one bus message per push; 0: per event-loop turn; >0: per tick of this many ms (config actors.pushTickMs). */
  tickMs: number;
  /** Drives the tick (>0). Default: the system clock. */
  clock?: Clock;
  /** Runs `fn` after the current event-loop turn (0); returns a cancel. Default: setImmediate. */
  defer?: (fn: () => void) => () => void;
  maxPushes?: number;
  maxBytes?: number;
}

const immediate = (fn: () => void): (() => void) => {
  const h = setImmediate(fn);
  return () => clearImmediate(h);
};

/** The encoded pushes waiting for one gateway. */
interface Pending {
  items: Uint8Array[];
  bytes: number;
}

/** In-process: the pushes waiting for one gateway, as the values it will be handed. */
type PendingValues = GatewayPush[];

const NO_BYTES = new Uint8Array(0);
/** Gateways whose push subject is kept; past it the cache starts over (gateway ids churn only as nodes come and go). */
const MAX_GATEWAY_SUBJECTS = 1024;

export class EffectSink {
  private readonly tickMs: number;
  private readonly clock: Clock;
  private readonly defer: (fn: () => void) => () => void;
  private readonly maxPushes: number;
  private readonly maxBytes: number;
  /** Gateway → its waiting pushes; a Map keeps the order gateways were first pushed to. */
  private readonly pending = new Map<string, Pending>();
  /** In-process pushes waiting, per gateway (used instead of `pending` on the memory bus). */
  private readonly pendingValues = new Map<string, PendingValues>();
  private readonly inProcess: boolean;
  /** Gateway → its push subject (see pushSubject). */
  private readonly gatewaySubjects = new Map<string, string>();
  /** One options object for every in-process publish: the memory bus reads it during publish and keeps only the value. */
  private readonly valueOpts: { value: unknown } = { value: undefined };
  private timer: TimerHandle | undefined;
  private cancelDefer: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly bus: Bus,
    private readonly client: ActorClient,
    private readonly log: Logger,
    batching: PushBatching = { tickMs: -1 },
  ) {
    this.tickMs = batching.tickMs;
    this.clock = batching.clock ?? systemClock;
    this.defer = batching.defer ?? immediate;
    this.maxPushes = Math.max(1, batching.maxPushes ?? MAX_BATCH_PUSHES);
    this.maxBytes = batching.maxBytes ?? MAX_BATCH_BYTES;
    this.inProcess = bus.kind === 'memory';
  }

  /** Pushes waiting to leave (all gateways). */
  get waiting(): number {
    let n = 0;
    for (const p of this.pending.values()) n += p.items.length;
    for (const p of this.pendingValues.values()) n += p.length;
    return n;
  }

  respond(msg: BusMsg, reply: Reply): void {
    this.flush();
    try {
      this.bus.respond(msg, encodeReply(reply));
    } catch (err) {
      this.log.warn({ err, subject: msg.subject }, 'could not send reply');
    }
  }

  push(to: ConnRef[], route: string, body: unknown): void {
    // Every member on one gateway (embedded mode, or a small room): no map, one list of ids.
    const first = to[0];
    if (first === undefined) return;
    let oneGateway = true;
    for (let i = 1; i < to.length; i++) {
      if (to[i]!.gw !== first.gw) {
        oneGateway = false;
        break;
      }
    }
    if (oneGateway) {
      const ids = new Array<string>(to.length);
      for (let i = 0; i < to.length; i++) ids[i] = to[i]!.id;
      this.pushTo(first.gw, { c: ids, r: route, b: body });
      return;
    }
    const byGateway = new Map<string, string[]>();
    for (const c of to) {
      const list = byGateway.get(c.gw);
      if (list) list.push(c.id);
      else byGateway.set(c.gw, [c.id]);
    }
    for (const [gw, ids] of byGateway) this.pushTo(gw, { c: ids, r: route, b: body });
  }

  private pushTo(gw: string, push: GatewayPush): void {
    if (this.inProcess) {
      // What the gateway would decode, made now: an unencodable body fails in its own turn (turn-runner logs it).
      const copied = plainCopy(push);
      const value = (copied === NOT_PLAIN ? decode(encode(push)) : copied) as GatewayPush;
      if (this.tickMs < 0 || this.stopped) this.publishValue(gw, value);
      else this.addValue(gw, value);
      return;
    }
    // Encoded now, as before batching: an unencodable body fails in its own turn (turn-runner logs it).
    const item = encode(push);
    if (this.tickMs < 0 || this.stopped) this.bus.publish(this.pushSubject(gw), item);
    else this.add(gw, item);
  }

  /** Sends a message on to the actor's subject, keeping sender, sequence and reply address. */
  forward(kind: string, id: string, env: Envelope, msg: BusMsg): void {
    this.flush();
    try {
      const subject = this.client.subjectOf({ kind, id });
      // Re-encoded from the envelope (sender and sequence kept): a handed-over message no longer has its bytes.
      this.bus.publish(subject, encodeEnvelope(env), msg.reply ? { reply: msg.reply } : undefined);
    } catch (err) {
      this.log.warn({ err, actor: `${kind}/${id}` }, 'could not forward message');
      if (msg.reply) this.respond(msg, { ok: false, e: { code: ErrorCode.NotOwner, message: 'actor moved; retry' } });
    }
  }

  /** Publishes every waiting push now, gateway by gateway (each gateway's in emission order). */
  flush(): void {
    // Deleting the entry being visited is safe in a Map iteration: no copy of the keys per flush.
    if (this.pending.size !== 0) for (const gw of this.pending.keys()) this.flushGateway(gw);
    if (this.pendingValues.size !== 0) for (const gw of this.pendingValues.keys()) this.flushValues(gw);
  }

  /** Flushes, stops the tick, and from now on sends each push at once (the node is stopping; the bus still open). */
  stop(): void {
    this.stopped = true;
    this.flush();
    this.unschedule();
  }

  private add(gw: string, item: Uint8Array): void {
    let p = this.pending.get(gw);
    // The bounds: a push that would carry the batch past them sends the batch first.
    if (p && p.bytes + item.length > this.maxBytes) {
      this.flushGateway(gw);
      p = undefined;
    }
    if (!p) {
      p = { items: [], bytes: 0 };
      this.pending.set(gw, p);
    }
    p.items.push(item);
    p.bytes += item.length;
    if (p.items.length >= this.maxPushes || p.bytes >= this.maxBytes) this.flushGateway(gw);
    else this.schedule();
  }

  private flushGateway(gw: string): void {
    const p = this.pending.get(gw);
    if (!p) return;
    // The tick stays set when this empties the sink: it then finds nothing, which is cheaper than a timer per turn.
    this.pending.delete(gw);
    try {
      this.bus.publish(this.pushSubject(gw), p.items.length === 1 ? p.items[0]! : batchOf(p));
    } catch (err) {
      this.log.warn({ err, gateway: gw, pushes: p.items.length }, 'could not send pushes');
    }
  }

  private addValue(gw: string, value: GatewayPush): void {
    let p = this.pendingValues.get(gw);
    if (!p) this.pendingValues.set(gw, (p = []));
    p.push(value);
    if (p.length >= this.maxPushes) this.flushValues(gw);
    else this.schedule();
  }

  private flushValues(gw: string): void {
    const p = this.pendingValues.get(gw);
    if (!p) return;
    this.pendingValues.delete(gw);
    try {
      this.publishValue(gw, p.length === 1 ? p[0]! : p);
    } catch (err) {
      this.log.warn({ err, gateway: gw, pushes: p.length }, 'could not send pushes');
    }
  }

  private publishValue(gw: string, value: GatewayPush | GatewayPush[]): void {
    const o = this.valueOpts;
    o.value = value;
    try {
      this.bus.publish(this.pushSubject(gw), NO_BYTES, o);
    } finally {
      o.value = undefined;
    }
  }

  /**
   * `gw.<gateway>.push`, kept per gateway: no id encoding and concatenation per push, and the bus sees the same string
   * object each time, whose hash V8 keeps (the memory bus looks subscriptions up by subject, as client.ts notes).
   */
  private pushSubject(gw: string): string {
    let s = this.gatewaySubjects.get(gw);
    if (s === undefined) {
      if (this.gatewaySubjects.size >= MAX_GATEWAY_SUBJECTS) this.gatewaySubjects.clear();
      this.gatewaySubjects.set(gw, (s = subjects.gateway(gw, 'push')));
    }
    return s;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.cancelDefer) return;
    const run = () => {
      this.timer = undefined;
      this.cancelDefer = undefined;
      this.flush();
    };
    if (this.tickMs === 0) this.cancelDefer = this.defer(run);
    else this.timer = this.clock.setTimeout(run, this.tickMs);
  }

  private unschedule(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.cancelDefer?.();
    this.timer = undefined;
    this.cancelDefer = undefined;
  }
}

/**
 * A MessagePack array of the already encoded pushes: the array header, then the items' bytes as they are (an array
 * is its header followed by its elements), so no push is encoded twice.
 */
function batchOf(p: Pending): Uint8Array {
  const n = p.items.length;
  const head = n < 16 ? 1 : n < 0x10000 ? 3 : 5;
  const out = new Uint8Array(head + p.bytes);
  if (head === 1) out[0] = 0x90 | n;
  else if (head === 3) {
    out[0] = 0xdc;
    out[1] = n >> 8;
    out[2] = n & 0xff;
  } else {
    out[0] = 0xdd;
    new DataView(out.buffer).setUint32(1, n);
  }
  let at = head;
  for (const item of p.items) {
    out.set(item, at);
    at += item.length;
  }
  return out;
}
