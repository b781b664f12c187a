/**
 * The flight recorder's node side: while an operator records `<kind>/<id>` (`gatehouse record`, the console), the node
 * hosting that actor publishes, on the actor's trace subject, a `base` frame (its whole state: snapshot and timers)
 * before the first turn of each XState actor instance, and a `turn` frame after every turn: the events the machine
 * received in it (the message as the kind's toEvent made it, the due timer's event, each `ask` result) and the state
 * after it. `replay.ts` runs the events through the machine alone and checks each state.
 *
 * A recording is requested like a tap (`sys.tap`, `{ pattern, ttlMs, record: true }`, renewed by the recorder), so the
 * node the actor migrates to keeps recording it: its first turn there publishes a new base. Events are taken from
 * XState's own inspection (`system.inspect`: `@xstate.event` addressed to the root actor), subscribed only for the
 * recorded actor, so the turn path pays one property read per turn when nothing is recorded (TurnRunner calls
 * `begin`/`end` only when `TraceTaps.recorder` is set and active).
 *
 * Kinds that declare `redact` are never recorded: a recording holds the whole context, secrets included.
 */
import type { AnyActor, EventObject } from 'xstate';
import type { ActorKind } from './kind.js';
import type { Bus, Subscription } from '../../bus/bus.js';
import { decode, encode } from '../../bus/codec.js';
import { decodeId, subjects } from '../../bus/subjects.js';
import type { Clock } from '../../common/clock.js';
import type { RecordedRunner, TurnRecorderHook } from './recorder-hook.js';
import { TAP_TOPIC, type TapAnnouncement } from './trace.js';
import type { StoredActor } from './snapshots.js';

export type { RecordedRunner } from './recorder-hook.js';

export interface RecordTapAnnouncement extends TapAnnouncement {
  record?: true;
}

/** State as recorded: the persisted XState snapshot and the pending timers `[id, dueAt, event]`. */
export interface RecordedState {
  s: unknown;
  t: Array<[string, number, EventObject]>;
}

export type RecordFrame =
  | { r: 'base'; kind: string; id: string; node: string; at: number; state: RecordedState }
  | { r: 'turn'; kind: string; id: string; node: string; at: number; label: string; events: unknown[]; after: RecordedState; crashed?: true };

/** Most actors recorded at once by one node: a recording is a debugging aid for a handful of actors. */
export const MAX_RECORDED = 16;

interface Live {
  actor: AnyActor;
  sub: Subscription | { unsubscribe(): void };
  events: EventObject[] | null;
  label: string;
}

export class TurnRecorder implements TurnRecorderHook {
  /** `<kind>/<id>` → expires at */
  private readonly wanted = new Map<string, number>();
  private readonly live = new WeakMap<RecordedRunner, Live>();
  private sub?: Subscription;
  /** Frames published, for status. */
  frames = 0;

  constructor(
    private readonly bus: Bus,
    private readonly clock: Clock,
    private readonly nodeId: string,
  ) {}

  start(): void {
    this.sub = this.bus.subscribe(subjects.sys(TAP_TOPIC), (m) => {
      try {
        const a = decode<RecordTapAnnouncement>(m.data);
        if (a?.record !== true || typeof a.pattern !== 'string') return;
        const key = keyOfTracePattern(a.pattern);
        if (!key || (!this.wanted.has(key) && this.wanted.size >= MAX_RECORDED)) return;
        this.wanted.set(key, this.clock.now() + Math.min(Math.max(a.ttlMs ?? 6000, 1000), 60_000));
      } catch {
        /* a malformed announcement is ignored, as for taps */
      }
    });
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.wanted.clear();
  }

  /** Turns per kind since the last `takeCounts`, while a console or `gatehouse top` watches (null otherwise). */
  private counts: Map<string, number> | null = null;

  /** True while any recording is requested or turns are counted: the turn path checks this before anything else. */
  get active(): boolean {
    return this.wanted.size > 0 || this.counts !== null;
  }

  /** Counts turns per kind from now on (`on`), or stops (the count then costs nothing). */
  countTurns(on: boolean): void {
    if (on) this.counts ??= new Map();
    else this.counts = null;
  }

  /** Turns per kind since the last call. */
  takeCounts(): Record<string, number> {
    const out = Object.fromEntries(this.counts ?? []);
    this.counts?.clear();
    return out;
  }

  private isWanted(kind: ActorKind, id: string): boolean {
    const key = `${kind.name}/${id}`;
    const until = this.wanted.get(key);
    if (until === undefined) return false;
    if (until < this.clock.now()) {
      this.wanted.delete(key);
      return false;
    }
    return !kind.redact?.length;
  }

  /** Before a turn (TurnRunner.step): a base frame for a new XState actor instance, then collect the turn's events. */
  begin(r: RecordedRunner, label: string): void {
    if (this.counts) this.counts.set(r.kind.name, (this.counts.get(r.kind.name) ?? 0) + 1);
    if (this.wanted.size === 0) return;
    if (!r.actor || !this.isWanted(r.kind, r.id)) return this.detach(r);
    let l = this.live.get(r);
    if (!l || l.actor !== r.actor) {
      // A new instance (activation, migration, restart after a crash, rollback): its state is the new reference.
      l?.sub.unsubscribe();
      const actor = r.actor;
      const fresh: Live = { actor, events: null, label, sub: { unsubscribe: () => undefined } };
      fresh.sub = actor.system.inspect((ev) => {
        if (ev.type === '@xstate.event' && ev.actorRef === actor && fresh.events) fresh.events.push(ev.event);
      });
      this.live.set(r, fresh);
      l = fresh;
      const rec = r.record();
      if (rec) this.publish({ r: 'base', kind: r.kind.name, id: r.id, node: this.nodeId, at: this.clock.now(), state: stateOf(rec) });
    }
    l.events = [];
    l.label = label;
  }

  /** While turns are counted: sees each actor after its turn (the console's apps views: server/console/app-views.ts). */
  observer?: (r: RecordedRunner) => void;

  /** After a turn committed (or crashed): its events and the state after it. */
  end(r: RecordedRunner, crashed = false): void {
    if (this.counts && this.observer && r.actor) this.observer(r);
    if (this.wanted.size === 0) return;
    const l = this.live.get(r);
    if (!l?.events) return;
    const events = l.events;
    l.events = null;
    const rec = r.record();
    if (!rec) return;
    const frame: RecordFrame = { r: 'turn', kind: r.kind.name, id: r.id, node: this.nodeId, at: this.clock.now(), label: l.label, events, after: stateOf(rec) };
    if (crashed) frame.crashed = true;
    this.publish(frame);
  }

  private detach(r: RecordedRunner): void {
    const l = this.live.get(r);
    if (!l) return;
    l.sub.unsubscribe();
    this.live.delete(r);
  }

  private publish(f: RecordFrame): void {
    try {
      this.bus.publish(subjects.trace(f.kind, f.id), encode(f));
      this.frames++;
    } catch {
      /* recording must never break a turn (the bus is closing) */
    }
  }
}

/** Values as they are (frames are MessagePack, like stored snapshots): JSON would turn undefined into null and Maps
 * into objects, and a replay from such a state could differ from the live actor. Encoded at once, in publish. */
function stateOf(rec: StoredActor): RecordedState {
  return { s: rec.s, t: rec.t };
}

/** `trace.<kind>.<id>` (one actor, as recordTap announces it) → `<kind>/<id>`; null for wildcards. */
function keyOfTracePattern(pattern: string): string | null {
  const m = /^trace\.([a-z][a-z0-9-]*)\.([^.*>]+)$/.exec(pattern);
  if (!m) return null;
  return `${m[1]}/${decodeId(m[2]!)}`;
}

/** Asks nodes to record `kind/id` until stopped (renewed every `everyMs`, as `announceTap`). */
export function announceRecording(bus: Bus, kind: string, id: string, everyMs = 2000): () => void {
  const send = () => {
    try {
      bus.publish(subjects.sys(TAP_TOPIC), encode({ pattern: subjects.trace(kind, id), ttlMs: 6000, record: true } satisfies RecordTapAnnouncement));
    } catch {
      /* closing */
    }
  };
  send();
  const t = setInterval(send, everyMs);
  t.unref();
  return () => clearInterval(t);
}

/** Whether a message on a trace subject is a recording frame (not a transition record). */
export function isRecordFrame(x: unknown): x is RecordFrame {
  const r = (x as { r?: unknown } | null)?.r;
  return r === 'base' || r === 'turn';
}
