/**
 * Debug by subscribing: state transitions go to `<prefix>.trace.<kind>.<id>` as readable MessagePack, but only while
 * someone listens. A listener (`gatehouse tail`) announces its pattern on `sys.tap` every few seconds; nodes keep the
 * live patterns and publish traces only for actors that match one. Publishing every transition unconditionally
 * would cost an encode and a publish per turn for nobody.
 */
import type { Bus, Subscription } from '../../bus/bus.js';
import { decode, encode } from '../../bus/codec.js';
import { matches } from '../../bus/subject-match.js';
import { subjects } from '../../bus/subjects.js';
import type { Clock } from '../../common/clock.js';
import type { TurnRecorderHook } from './recorder-hook.js';

export interface TapAnnouncement {
  pattern: string;
  /** How long the tap stays live without another announcement. */
  ttlMs: number;
}

export const TAP_TOPIC = 'tap';
export const TAP_TTL_MS = 6000;

export interface TraceRecord {
  kind: string;
  id: string;
  node: string;
  event: string;
  from: unknown;
  to: unknown;
  at: number;
}

export class TraceTaps {
  private readonly taps = new Map<string, number>(); // pattern → expires at
  private sub?: Subscription;
  /** The flight recorder (recorder.ts), when the node installed one: turns call it only while it is active. */
  recorder?: TurnRecorderHook;
  /** Bumped whenever the tap set changes, so cells can cache "am I traced?". */
  version = 0;

  constructor(
    private readonly bus: Bus,
    private readonly clock: Clock,
    private readonly nodeId: string,
    private readonly always = false,
  ) {}

  start(): void {
    this.sub = this.bus.subscribe(subjects.sys(TAP_TOPIC), (m) => {
      try {
        const a = decode<TapAnnouncement>(m.data);
        if (typeof a?.pattern !== 'string') return;
        const isNew = !this.taps.has(a.pattern);
        this.taps.set(a.pattern, this.clock.now() + Math.min(Math.max(a.ttlMs ?? TAP_TTL_MS, 1000), 60_000));
        if (isNew) this.version++;
      } catch {
        // A malformed announcement is ignored: taps are best-effort debugging aids.
      }
    });
  }

  stop(): void {
    this.sub?.unsubscribe();
  }

  /** Whether transitions of this actor should be published now. */
  isTraced(kind: string, id: string): boolean {
    if (this.always) return true;
    if (this.taps.size === 0) return false;
    const now = this.clock.now();
    const subject = subjects.trace(kind, id);
    for (const [pattern, until] of this.taps) {
      if (until < now) {
        this.taps.delete(pattern);
        this.version++;
        continue;
      }
      if (matches(pattern, subject)) return true;
    }
    return false;
  }

  get active(): boolean {
    return this.always || this.taps.size > 0;
  }

  publish(rec: Omit<TraceRecord, 'node' | 'at'>): void {
    const full: TraceRecord = { ...rec, node: this.nodeId, at: this.clock.now() };
    try {
      this.bus.publish(subjects.trace(rec.kind, rec.id), encode(full));
    } catch {
      // Tracing must never break a turn (e.g. the bus is closing).
    }
  }
}

/** Announces a tap for `pattern` until stopped (used by `gatehouse tail`). */
export function announceTap(bus: Bus, pattern: string, everyMs = 2000): () => void {
  const send = () => {
    try {
      bus.publish(subjects.sys(TAP_TOPIC), encode({ pattern, ttlMs: TAP_TTL_MS } satisfies TapAnnouncement));
    } catch {
      /* closing */
    }
  };
  send();
  const t = setInterval(send, everyMs);
  t.unref();
  return () => clearInterval(t);
}
