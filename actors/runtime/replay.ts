/**
 * Replay of a flight recording (recorder.ts) on the machine alone: no bus, no store, no wall clock. It starts the
 * kind's machine from the first base frame, then runs each recorded turn's events through it (a due timer fires the
 * replay's own pending timer with that event, so timers are tracked exactly as live), and compares the state after
 * every turn with the recorded one. A later base (the actor migrated, passivated and woke, or restarted after a crash)
 * is a checkpoint: the replayed state must equal it too.
 *
 * The file is JSON lines, one frame each: readable metadata beside `mp`, the frame itself as base64 MessagePack (the
 * codec snapshots are stored with: JSON would lose undefined, bytes and Maps, and the replay would start from a
 * state the live actor never had).
 */
import { createActor, type AnyActor, type EventObject } from 'xstate';
import { decode, encode, toJsonValue } from '../../bus/codec.js';
import { ErrorCode, GatehouseError } from '../../common/errors.js';
import type { Clock, TimerHandle } from '../../common/clock.js';
import type { ActorKind } from './kind.js';
import { persistedSnapshot } from './persisted.js';
import type { RecordedState, RecordFrame } from './recorder.js';
import { ActorTimers } from './timers.js';

export interface RecordingHeader {
  r: 'recording';
  v: 1;
  kind: string;
  id: string;
  startedAt: number;
}

export function encodeRecordingLine(f: RecordFrame | RecordingHeader): string {
  if (f.r === 'recording') return JSON.stringify(f);
  const meta: Record<string, unknown> = { r: f.r, node: f.node, at: f.at };
  if (f.r === 'turn') Object.assign(meta, { label: f.label, events: f.events.map((e) => (e as EventObject).type) });
  return JSON.stringify({ ...meta, mp: Buffer.from(encode(f)).toString('base64') });
}

export function decodeRecording(text: string): { header: RecordingHeader; frames: RecordFrame[] } {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const bad = (n: number, why: string) => new GatehouseError(ErrorCode.BadMessage, `recording line ${n}: ${why}`);
  if (lines.length === 0) throw bad(1, 'empty file');
  const header = JSON.parse(lines[0]!) as RecordingHeader;
  if (header.r !== 'recording' || header.v !== 1) throw bad(1, 'not a gatehouse recording (expected {"r":"recording","v":1,…})');
  const frames = lines.slice(1).map((l, j) => {
    const o = JSON.parse(l) as { mp?: unknown };
    if (typeof o.mp !== 'string') throw bad(j + 2, 'no mp field');
    const f = decode<RecordFrame>(Buffer.from(o.mp, 'base64'));
    if (f?.r !== 'base' && f?.r !== 'turn') throw bad(j + 2, 'not a base or turn frame');
    return f;
  });
  return { header, frames };
}

export interface ReplayStep {
  /** Turn number, from 1. */
  n: number;
  node: string;
  label: string;
  from: unknown;
  to: unknown;
  /** The replayed state equals the recorded one after this turn (crashed turns are not compared). */
  match: boolean;
  crashed?: boolean;
}

export interface ReplayResult {
  turns: number;
  /** Bases after the first: the state replayed so far against the state the next instance started from. */
  checkpoints: Array<{ node: string; match: boolean }>;
  mismatches: number;
  final?: { value: unknown; context: unknown };
  /** The final replayed state equals the last recorded one. */
  matches: boolean;
}

/** The replay's clock: now is the recorded turn's time; timers fire only when a recorded turn says so. */
class ReplayClock implements Clock {
  at = 0;
  private next = 1;
  readonly pending = new Map<number, { fn: () => void; id: string | undefined }>();
  timers?: ActorTimers;
  now(): number {
    return this.at;
  }
  setTimeout(fn: () => void, _ms: number): TimerHandle {
    const h = this.next++;
    this.pending.set(h, { fn, id: this.timers?.scheduling });
    return h;
  }
  clearTimeout(h: TimerHandle): void {
    this.pending.delete(h as number);
  }
}

type Comparable = { s: unknown; t: Array<[string, number, unknown]> };

/** Canonical JSON of a state: the persisted snapshot, and the pending timers' events (ids of unnamed delays are
 * random and due times depend on when the turn ran, so neither is compared). */
function canonical(st: Comparable): string {
  const events = st.t.map(([, , e]) => stable(toJsonValue(e))).sort();
  return stable(toJsonValue(st.s)) + '|' + events.join(',');
}

function stable(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${stable(o[k])}`).join(',')}}`;
}

export function replayRecording(kind: ActorKind, frames: readonly RecordFrame[], o: { until?: number; onStep?: (s: ReplayStep) => void; onCheckpoint?: (c: { node: string; match: boolean }) => void } = {}): ReplayResult {
  const first = frames.findIndex((f) => f.r === 'base');
  if (first < 0) throw new GatehouseError(ErrorCode.BadMessage, 'the recording has no base frame (the actor took no turn while recorded)');
  const clock = new ReplayClock();
  let actor: AnyActor | undefined;
  let timers: ActorTimers | undefined;
  const start = (st: RecordedState) => {
    actor?.stop();
    clock.pending.clear();
    // A due timer is enqueued by ActorTimers as a mailbox item; here it runs at once (the replay is one turn at a time).
    timers = new ActorTimers(clock, { enqueueTimer: (fire) => fire() });
    clock.timers = timers;
    clock.at = (frames[first] as { at: number }).at;
    const a = createActor(kind.machine, { clock: timers.xstateClock, snapshot: st.s } as never);
    timers.attach(a);
    a.subscribe({ error: () => undefined });
    a.start();
    if (st.t.length) timers.restore(a, st.t);
    actor = a;
  };
  const current = (): Comparable => ({ s: persistedSnapshot(actor!), t: timers!.persisted() });
  const value = () => toJsonValue((actor!.getSnapshot() as { value?: unknown }).value);
  const fireTimer = (ev: EventObject): boolean => {
    const want = stable(toJsonValue(ev));
    const mine = new Map(timers!.persisted().map(([id, , e]) => [id, stable(toJsonValue(e))]));
    for (const [h, p] of clock.pending) {
      if (p.id !== undefined && mine.get(p.id) === want) {
        clock.pending.delete(h);
        p.fn();
        return true;
      }
    }
    return false;
  };

  start((frames[first] as Extract<RecordFrame, { r: 'base' }>).state);
  const res: ReplayResult = { turns: 0, checkpoints: [], mismatches: 0, matches: true };
  let lastRecorded: Comparable | undefined;
  for (const f of frames.slice(first + 1)) {
    if (o.until !== undefined && res.turns >= o.until) break;
    if (f.r === 'base') {
      const match = canonical(current()) === canonical(f.state);
      res.checkpoints.push({ node: f.node, match });
      o.onCheckpoint?.({ node: f.node, match });
      // After a crash the live actor restarted from its state before the failing turn, as the replay does below; a
      // checkpoint that differs (a gap in the recording) resynchronises on the recorded state.
      if (!match) start(f.state);
      continue;
    }
    clock.at = f.at;
    const before = actor!.getSnapshot();
    const from = value();
    const prev = current();
    const events = f.events as EventObject[];
    events.forEach((ev, j) => {
      if (j === 0 && f.label === 'timer' && fireTimer(ev)) return;
      actor!.send(ev);
    });
    res.turns++;
    const snap = actor!.getSnapshot() as { status?: string };
    if (f.crashed || snap.status === 'error') {
      const step: ReplayStep = { n: res.turns, node: f.node, label: f.label, from, to: from, match: f.crashed === true && snap.status === 'error', crashed: true };
      if (!step.match) res.mismatches++;
      o.onStep?.(step);
      start({ s: kind.machine.getPersistedSnapshot(before as never), t: prev.t as RecordedState['t'] });
      continue;
    }
    const match = canonical(current()) === canonical(f.after);
    if (!match) res.mismatches++;
    lastRecorded = f.after;
    o.onStep?.({ n: res.turns, node: f.node, label: f.label, from, to: value(), match });
  }
  const end = actor!.getSnapshot() as { value?: unknown; context?: unknown };
  res.final = { value: toJsonValue(end.value), context: toJsonValue(end.context) };
  res.matches = res.mismatches === 0 && res.checkpoints.every((c) => c.match) && (lastRecorded === undefined || canonical(current()) === canonical(lastRecorded));
  actor?.stop();
  return res;
}
