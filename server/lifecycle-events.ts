/**
 * `sys.lifecycle`: every actor instance start, stop and adoption of a node, for checking ownership from outside
 * (actors.lifecycleEvents=true; the tests prove with it that no actor is ever live on two nodes, and bench migration
 * measures pauses with it). Each event carries a wall-clock timestamp precise across the processes of one machine
 * (timeOrigin + now, in µs), so a checker can order one node's "closed" before another's "active".
 *
 * The events are sent in batches, at most `batchMs` after the first one: a migration hands over thousands of actors,
 * and a message (and a socket write) per actor, or per event-loop turn, loaded the very move it measured. Since each
 * event has its own timestamp, the delay costs no accuracy. The wire form is compact for the same reason:
 * `{ n: node, v: [[event, kind, id, tUs], …] }`.
 *
 * Batches of the last `resendMs` are sent again when the connection comes back after a disconnect: what was written to
 * a socket the client then declared stale (a host cut off for longer than its ping window) is lost, and the "closed"
 * events of a fenced node are exactly what a checker needs. Events carry their own time, so a checker that sorts by it
 * sees repeats as no-ops.
 */
import type { Bus } from '../bus/bus.js';
import { decode, encode } from '../bus/codec.js';
import { subjects } from '../bus/subjects.js';
import { DecodeError } from '../common/errors.js';
import type { LifecycleHook } from '../actors/runtime/cell-context.js';

export type LifecycleEventName = Parameters<LifecycleHook>[0];

export interface LifecycleEvent {
  e: LifecycleEventName;
  k: string;
  i: string;
  n: string;
  /** µs since the epoch, comparable across the processes of one machine. */
  t: number;
}

type WireEvent = [e: LifecycleEventName, k: string, i: string, t: number];

export interface LifecyclePublisher {
  hook: LifecycleHook;
  /** Sends what is batched now (before the bus closes). */
  flush(): void;
}

const EVENTS: ReadonlySet<string> = new Set<LifecycleEventName>(['active', 'closed', 'adopted', 'fenced']);

export function publishLifecycle(bus: Bus, node: string, o: { batchMs?: number; maxBatch?: number; resendMs?: number } = {}): LifecyclePublisher {
  const subject = subjects.sys('lifecycle');
  const batchMs = o.batchMs ?? 20;
  const maxBatch = o.maxBatch ?? 2000;
  const resendMs = o.resendMs ?? 30_000;
  /** Sent batches of the last resendMs (at most 100 batches), sent again after a reconnect. */
  const recent: Array<{ at: number; bytes: Uint8Array }> = [];
  bus.onStatus((st) => {
    if (st.type !== 'reconnect') return;
    const since = performance.now() - resendMs;
    for (const r of recent) if (r.at >= since) send(r.bytes);
  });
  const send = (bytes: Uint8Array) => {
    try {
      bus.publish(subject, bytes);
    } catch {
      /* the bus is closing: events are diagnostics, nothing waits for them */
    }
  };
  // The getter is slow enough to show in a profile when called per event; it never changes within a process.
  const origin = performance.timeOrigin;
  let batch: WireEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (batch.length === 0) return;
    const v = batch;
    batch = [];
    const bytes = encode({ n: node, v });
    const now = performance.now();
    recent.push({ at: now, bytes });
    while (recent.length > 100 || (recent.length && recent[0]!.at < now - resendMs)) recent.shift();
    send(bytes);
  };
  const hook: LifecycleHook = (e, k, i, _n, atMs) => {
    batch.push([e, k, i, Math.round((atMs ?? origin + performance.now()) * 1000)]);
    if (batch.length >= maxBatch) flush();
    else timer ??= setTimeout(flush, batchMs);
  };
  return { hook, flush };
}

/** One `sys.lifecycle` message as events; throws DecodeError on bytes that are not MessagePack, and names a bad field. */
export function decodeLifecycle(bytes: Uint8Array): LifecycleEvent[] {
  const m = decode<{ n?: unknown; v?: unknown }>(bytes);
  if (typeof m?.n !== 'string' || !Array.isArray(m.v)) throw new DecodeError('lifecycle message: expected { n: string, v: array }');
  const n = m.n;
  return m.v.map((x: unknown, j) => {
    const ok = Array.isArray(x) && EVENTS.has(x[0]) && typeof x[1] === 'string' && typeof x[2] === 'string' && typeof x[3] === 'number';
    if (!ok) throw new DecodeError(`lifecycle message from ${n}: event ${j} is not [event, kind, id, tUs]`);
    const [e, k, i, t] = x as WireEvent;
    return { e, k, i, n, t };
  });
}
