/**
 * How a live actor runs its turns: the XState actor, the mailbox pump, effects and supervision. Turns run
 * one at a time (a turn that awaits, for a snapshot write or an `ask` effect, holds the mailbox until it ends);
 * per-sender order is the arrival order; duplicates (seq ≤ last seen from that sender) are dropped. Failures are
 * handled here as a supervisor would: the asker gets ACTOR_FAILED, the actor restarts from its state before the failing
 * message, and too many crashes in a window stop it.
 *
 * Each ActorCell (cell.ts) owns one runner and is its TurnOwner: the lifecycle (activation, passivation, hand-over)
 * and the writes of its state stay the cell's, and the runner asks for them through that narrow interface. The cell
 * passes itself, not callbacks: a closure per actor would cost memory on every idle actor.
 */
import { createActor, type AnyActor, type EventObject } from 'xstate';
import type { Logger } from 'pino';
import type { BusMsg } from '../../bus/bus.js';
import { ErrorCode, errorMessage, GatehouseError, type WireError } from '../../common/errors.js';
import type { CellContext } from './cell-context.js';
import { listenToEmits } from './emit-hook.js';
import { isEffect, type Effect } from './effects.js';
import { defaultToEvent, type ActorKind } from './kind.js';
import { Queue } from './mailbox.js';
import { inspectView, onlyTimersMoved, transitionRecord } from './turn-views.js';
import { persistedSnapshot } from './persisted.js';
import { DEFAULT_SEQ_AHEAD_MS, SEQ_PER_MS, SeenMarks, seqTooFarAhead } from './seen.js';
import type { StoredActor } from './snapshots.js';
import { ActorTimers, type PersistedTimer, type TimerOwner } from './timers.js';
import type { AnySnapshot, Item, TurnOwner } from './turn-owner.js';

const NO_TIMERS: PersistedTimer[] = [];
const NO_EFFECTS = Object.freeze([]) as unknown as Effect[];
/**
 * A turn's effects before its first one: the array is made by the first emit, `[e]`, sized to it (an empty array
 * pushed to got room for 17: ~180 B a turn); a turn that emits nothing ends with NO_EFFECTS.
 */
const NONE_YET = Object.freeze([]) as unknown as Effect[];
const SWALLOW_ERRORS = { error: () => undefined };
export const SEEN_MAX = 64;

function wireError(err: unknown, fallback: string): WireError {
  if (err instanceof GatehouseError) return err.toWire();
  return { code: fallback, message: errorMessage(err) };
}

export class TurnRunner implements TimerOwner {
  actor?: AnyActor;
  readonly mailbox = new Queue<Item>();
  /** A turn awaits (a snapshot write, an `ask` effect): the mailbox waits for it. */
  inTurn = false;
  private effects: Effect[] | null = null;
  /** Effects emitted while the actor started, carried out by its next turn; a shared empty array until there are. */
  private startEffects: Effect[] = NO_EFFECTS;
  /** Per-sender dedupe marks; the cell sets them for a dormant actor (they travel beside its image). */
  seen?: SeenMarks;
  /** Input for the first start instead of the kind's (`touch(input)`: pinned actors created by their node). */
  input?: unknown;
  /** A hand-over waiting for the turn in progress: it runs instead of the next turn. */
  private afterTurn?: () => void;
  private crashes?: number[];
  private timersObj?: ActorTimers;
  private tracedVersion = -1;
  private traced = false;
  private logger?: Logger;

  constructor(
    private readonly cell: TurnOwner,
    private readonly ctx: CellContext,
    readonly kind: ActorKind,
    readonly id: string,
  ) {}

  /** Created on first start: dormant and never-started cells (most of a migration) need none. */
  private get timers(): ActorTimers {
    return (this.timersObj ??= new ActorTimers(this.ctx.clock, this));
  }

  /** For ActorTimers: a due XState timer becomes a mailbox item, so it runs as a turn. */
  enqueueTimer(fire: () => void): void {
    this.cell.enqueue({ k: 'timer', fire });
  }

  get log(): Logger {
    return (this.logger ??= this.ctx.log.child({ actor: `${this.kind.name}/${this.id}` }));
  }

  get busy(): boolean {
    return this.inTurn || this.mailbox.length > 0;
  }

  get pendingTimers(): number {
    return this.timersObj?.size ?? 0;
  }

  /** Starts the XState actor from a stored or handed-over record (or fresh); the error when it cannot start. */
  start(record: StoredActor | null): unknown {
    if (record?.d.length) this.seen = new SeenMarks(record.d, SEEN_MAX);
    try {
      const stored = record?.s !== undefined && this.kind.restore ? this.kind.restore(record.s, this.id) : record?.s;
      this.actor = this.createX(stored, record?.t ?? NO_TIMERS);
      return undefined;
    } catch (err) {
      return err;
    }
  }

  /** Stops the XState actor (errors from an already errored actor are ignored). */
  stopActor(): void {
    try {
      this.actor?.stop();
    } catch {
      /* stopping an errored actor */
    }
  }

  /** A turn that could not be saved is undone: the actor restarts from its state before the turn. */
  rollback(prev: AnySnapshot, timersBefore: PersistedTimer[]): void {
    this.actor?.stop();
    this.actor = this.createX(this.kind.machine.getPersistedSnapshot(prev as never), timersBefore);
  }

  /** For a hand-over: `take` runs after the turn in progress, before the next one (or when the cell closes). */
  afterThisTurn(take: () => void): void {
    this.afterTurn = take;
  }
  takeAfterTurn(): (() => void) | undefined {
    const take = this.afterTurn;
    this.afterTurn = undefined;
    return take;
  }

  private createX(persisted: unknown, timers: readonly PersistedTimer[]): AnyActor {
    this.timers.clear();
    const started: Effect[] = [];
    this.effects = started;
    try {
      // Only the options that have a value: XState spreads them over its defaults, and undefined-valued keys gave
      // every actor its own hidden class there (~220 B per idle actor, seen in a heap snapshot).
      const options: { clock: unknown; snapshot?: unknown; input?: unknown } = { clock: this.timers.xstateClock };
      if (persisted !== undefined) options.snapshot = persisted;
      else {
        const input = this.input ?? this.kind.input?.(this.id);
        if (input !== undefined) options.input = input;
      }
      const a = createActor(this.kind.machine, options as never);
      this.timers.attach(a);
      listenToEmits(a, this.onEmit);
      // Without an error observer XState re-throws an actor's error from a timer: an uncaught exception that would
      // take the whole node down. The cell sees the error in the snapshot and supervises it.
      a.subscribe(SWALLOW_ERRORS);
      a.start();
      if (timers.length) this.timers.restore(a, timers);
      return a;
    } finally {
      this.effects = null;
      if (started.length) this.startEffects = this.startEffects.length ? this.startEffects.concat(started) : started;
    }
  }

  private readonly onEmit = (e: EventObject): void => {
    if (!isEffect(e)) return;
    const fx = this.effects;
    if (fx === NONE_YET) this.effects = [e];
    else if (fx) fx.push(e);
    else {
      // Emitted outside a turn (e.g. from an invoked promise): carried out at once, but it breaks turn semantics.
      this.log.warn({ effect: e.type }, 'effect emitted outside a turn; machines should use `ask` effects, not invoke');
      this.finish([e], undefined, this.actor!.getSnapshot());
    }
  };

  /** Runs queued turns until one awaits or the mailbox is empty. The cell calls it only once the actor started. */
  pump(): void {
    if (this.inTurn) return;
    if (this.afterTurn) return this.takeAfterTurn()!();
    const serving = this.kind.placement === 'pinned' ? undefined : this.ctx.serving;
    for (;;) {
      // The node cannot confirm it still owns this actor's shard (a lapse: stalled, SIGSTOPped, cut off): no turn runs,
      // timers included; the mailbox waits until the cluster has re-read the leases (then the cell goes on, or is
      // closed with its shard and its queued asks told NOT_OWNER).
      if (serving !== undefined && this.mailbox.length > 0 && !serving()) {
        this.ctx.metrics.unconfirmed++;
        return this.ctx.home.park(this);
      }
      const item = this.mailbox.shift();
      if (item === undefined) return;
      if (this.cell.lifecycle.type === 'closed') {
        if (item.k === 'msg') this.ctx.home.redeliver(this.kind.name, this.id, item.env, item.msg);
        continue;
      }
      let r: void | Promise<void> = undefined;
      try {
        r = this.turn(item);
      } catch (err) {
        this.log.error({ err }, 'runtime error in turn');
      }
      if (r) {
        this.inTurn = true;
        r.catch((err) => this.log.error({ err }, 'runtime error in turn')).then(() => {
          this.inTurn = false;
          this.pump();
        });
        return;
      }
    }
  }

  private turn(item: Item): void | Promise<void> {
    if (item.k === 'task') return item.run();
    if (this.cell.lifecycle.type === 'stopped') {
      if (item.k === 'msg' && item.msg.reply) {
        this.reply(item.msg, { code: ErrorCode.ActorStopped, message: `${this.kind.name}/${this.id} is stopped after repeated crashes` });
      }
      return;
    }
    if (item.k === 'timer') return this.step(item.fire, undefined, undefined, 'timer');
    const { env, msg } = item;
    if (env.s !== undefined && env.q !== undefined) {
      const seen = (this.seen ??= new SeenMarks([], SEEN_MAX));
      const last = seen.get(env.s);
      if (last !== undefined && env.q <= last) {
        this.ctx.metrics.duplicates++;
        return;
      }
      // The clock is read only when the sequence runs past the sender's last mark by more than the bound: below that
      // it cannot be too far ahead (the reference is the later of mark and clock), and a Date.now() per turn showed.
      const ahead = (this.ctx.limits.seqAheadMs ?? DEFAULT_SEQ_AHEAD_MS) * SEQ_PER_MS;
      if ((last === undefined || env.q > last + ahead) && seqTooFarAhead(env.q, last, this.ctx.client.now(), this.ctx.limits.seqAheadMs)) {
        // Recording it would drop every later message of this sender (dedupe-mark poisoning): refuse it instead.
        // Logged once per 1000 so that a flood of forged envelopes cannot flood the log too.
        if (this.ctx.metrics.seqRefused++ % 1000 === 0) {
          this.log.warn({ sender: env.s, seq: env.q, last, refused: this.ctx.metrics.seqRefused }, 'envelope sequence far ahead: refused, not recorded');
        }
        if (msg.reply) this.reply(msg, { code: ErrorCode.BadMessage, message: 'envelope sequence too far ahead' });
        return;
      }
      seen.set(env.s, env.q);
    }
    const m = env.m as { type?: unknown };
    if (typeof m?.type === 'string' && m.type.startsWith('$')) return this.runtimeMessage(m.type, msg);
    let event: EventObject;
    try {
      // The context object only when the kind reads it: the default needs none, and it was one more allocation a turn.
      const toEvent = this.kind.toEvent;
      event = (toEvent ? toEvent(env.m, { sender: env.s, ask: msg.reply !== undefined }) : defaultToEvent(env.m)) as EventObject;
    } catch (err) {
      this.ctx.metrics.badMessages++;
      if (msg.reply) this.reply(msg, wireError(err, ErrorCode.BadMessage));
      else this.log.debug({ err }, 'bad message dropped');
      return;
    }
    return this.step(undefined, event, msg, event.type);
  }

  /** Runs one turn: a due timer's `fire`, or else sends `event` (no closure per message). */
  private step(fire: (() => void) | undefined, event: EventObject | undefined, msg: BusMsg | undefined, label: string): void | Promise<void> {
    const actor = this.actor!;
    const prev = actor.getSnapshot() as AnySnapshot;
    const timersBefore = this.timersObj?.size ? this.timersObj.persisted() : NO_TIMERS;
    this.effects = this.startEffects.length ? this.startEffects.splice(0) : NONE_YET;
    const rec = this.ctx.taps.recorder;
    if (rec?.active) rec.begin(this, label); // the flight recorder (recorder.ts): base state, then this turn's events
    let effects: Effect[];
    try {
      if (fire) fire();
      else actor.send(event!);
    } finally {
      effects = this.effects === NONE_YET ? NO_EFFECTS : this.effects!;
      this.effects = null;
    }
    const snap = actor.getSnapshot() as AnySnapshot;
    if (snap.status === 'error') return this.crash((snap as { error?: unknown }).error, msg, label, prev, timersBefore);
    for (const e of effects) if (e.type === 'ask') return this.askLoop(effects, msg, label, prev, timersBefore);
    return this.commit(prev, effects, msg, label, timersBefore);
  }

  /** Carries out `ask` effects inside the turn, feeding each result back to the machine as an event. */
  private async askLoop(effects: Effect[], msg: BusMsg | undefined, label: string, prev: AnySnapshot, timersBefore: PersistedTimer[]): Promise<void> {
    const rest: Effect[] = [];
    const asks: Array<Extract<Effect, { type: 'ask' }>> = [];
    for (const e of effects) (e.type === 'ask' ? asks : rest).push(e as never);
    for (let a = asks.shift(); a; a = asks.shift()) {
      let result: EventObject;
      try {
        this.ctx.effects.flush?.(); // as for a tell: earlier turns' pushes leave before the asked actor acts
        const asked = this.ctx.client.ask(a.to, a.msg, { timeoutMs: a.timeoutMs });
        const stopping = this.ctx.stopping;
        const body = await (stopping ? Promise.race([asked, stopping]) : asked);
        result = { type: a.then, ok: true, body } as EventObject;
      } catch (err) {
        result = { type: a.then, ok: false, error: wireError(err, ErrorCode.ActorFailed) } as EventObject;
      }
      const more: Effect[] = [];
      this.effects = more;
      try {
        this.actor!.send(result);
      } finally {
        this.effects = null;
      }
      const snap = this.actor!.getSnapshot() as AnySnapshot;
      if (snap.status === 'error') return this.crash((snap as { error?: unknown }).error, msg, label, prev, timersBefore);
      for (const e of more) (e.type === 'ask' ? asks : rest).push(e as never);
    }
    return this.commit(prev, rest, msg, label, timersBefore);
  }

  private commit(prev: AnySnapshot, effects: Effect[], msg: BusMsg | undefined, label: string, timersBefore: PersistedTimer[]): void | Promise<void> {
    const snap = this.actor!.getSnapshot() as AnySnapshot;
    if (snap !== prev) {
      if (this.ctx.taps.active) this.trace(prev, snap, label);
      const p = this.kind.persistence;
      if (p === 'snapshot' && onlyTimersMoved(prev, snap, timersBefore, this.timersObj?.persisted() ?? NO_TIMERS)) {
        // A periodic timer re-armed in the same state (a session's connection probe): nothing worth a store write.
        this.finish(effects, msg, snap);
        return;
      }
      if (p === 'snapshot') {
        // A turn that ends by forgetting the actor deletes its stored state in place of writing it (a logout: one
        // store operation instead of an update and a delete), unless more messages wait to be handled by it.
        const forget = this.mailbox.length === 0 && effects.some((e) => e.type === 'passivate' && e.forget === true);
        return (forget ? this.cell.forgetStored() : this.cell.persist()).then((res) => {
          if (res === 'ok') this.finish(effects, msg, snap);
          else this.cell.unsaved(res, msg, label, prev, timersBefore);
        });
      }
      if (typeof p === 'object') this.cell.markDirty(p.batchMs);
    }
    this.finish(effects, msg, snap);
  }

  /** Carries out a committed turn's effects and answers the asker. */
  private finish(effects: Effect[], msg: BusMsg | undefined, snap: AnySnapshot): void {
    let replied = false;
    let passivate: Extract<Effect, { type: 'passivate' }> | undefined;
    for (const e of effects) {
      try {
        switch (e.type) {
          case 'reply':
            if (!replied && msg?.reply) this.ctx.effects.respond(msg, e.error ? { ok: false, e: e.error } : { ok: true, v: e.body });
            replied = true;
            break;
          case 'tell':
            // The pushes emitted before leave first (EffectSink batches them): whatever the receiver pushes or does in
            // answer (a connection's `kick`) must not reach a gateway ahead of them.
            this.ctx.effects.flush?.();
            this.ctx.client.tell(e.to, e.msg);
            break;
          case 'push':
            this.ctx.effects.push(Array.isArray(e.to) ? e.to : [e.to], e.route, e.body);
            break;
          case 'passivate':
            passivate = e;
            break;
        }
      } catch (err) {
        this.log.warn({ err, effect: e.type }, 'effect failed');
      }
    }
    if (!replied && msg?.reply) this.ctx.effects.respond(msg, { ok: true, v: this.kind.defaultReply?.(snap as never) ?? null });
    this.ctx.metrics.processed++;
    this.ctx.taps.recorder?.end(this);
    if (passivate && this.mailbox.length === 0) {
      const forget = passivate.forget === true;
      this.cell.enqueue({ k: 'task', run: () => this.cell.deactivate(forget) });
    } else if (passivate?.forget && this.cell.revision === 0 && this.kind.persistence === 'snapshot') {
      // Its stored state was deleted above but messages arrived meanwhile: it stays, and its state is written again.
      // (Unless a turn of theirs has written it already.)
      const rewrite = async () => {
        const r = this.cell.revision === 0 ? await this.cell.persist() : 'ok';
        if (r !== 'ok') this.log.warn({ err: r }, 'could not write the state kept after forgetting');
      };
      this.cell.enqueue({ k: 'task', run: rewrite });
    }
  }

  private crash(err: unknown, msg: BusMsg | undefined, label: string, prev: AnySnapshot, timersBefore: PersistedTimer[]): void {
    this.ctx.metrics.crashes++;
    this.ctx.taps.recorder?.end(this, true);
    const now = this.ctx.clock.now();
    const window = this.ctx.limits.restartWindowMs;
    this.crashes = (this.crashes ?? []).filter((t) => now - t < window);
    this.crashes.push(now);
    if (msg?.reply) {
      this.reply(msg, { code: ErrorCode.ActorFailed, message: `${this.kind.name}/${this.id} failed handling ${label}: ${errorMessage(err)}` });
    }
    try {
      this.actor?.stop();
    } catch {
      /* already stopped by the error */
    }
    if (this.crashes.length > this.ctx.limits.maxRestarts) {
      this.cell.escalate();
      this.ctx.metrics.escalations++;
      this.log.error({ err, event: label, crashes: this.crashes.length, windowMs: window }, 'actor keeps crashing: stopped');
      return;
    }
    this.log.warn({ err, event: label }, 'actor crashed: restarting from its state before the failing message');
    this.actor = this.createX(this.kind.machine.getPersistedSnapshot(prev as never), timersBefore);
  }

  private runtimeMessage(type: string, msg: BusMsg): void {
    if (type === '$inspect' && msg.reply) {
      const snap = this.actor?.getSnapshot() as AnySnapshot | undefined;
      const where = { kind: this.kind, id: this.id, node: this.ctx.nodeId, stopped: this.cell.lifecycle.type === 'stopped' };
      this.ctx.effects.respond(msg, { ok: true, v: inspectView(where, snap, { mailbox: this.mailbox.length, timers: this.timers.size, revision: this.cell.revision }) });
      return;
    }
    if (msg.reply) this.reply(msg, { code: ErrorCode.BadMessage, message: `unknown runtime message ${type}` });
  }

  private trace(prev: AnySnapshot, snap: AnySnapshot, label: string): void {
    if (this.tracedVersion !== this.ctx.taps.version) {
      this.tracedVersion = this.ctx.taps.version;
      this.traced = this.ctx.taps.isTraced(this.kind.name, this.id);
    }
    if (this.traced) this.ctx.taps.publish(transitionRecord(this.kind.name, this.id, label, prev, snap));
  }

  private reply(msg: BusMsg, e: WireError): void {
    if (msg.reply) this.ctx.effects.respond(msg, { ok: false, e });
  }

  /**
   * Whether the actor may hibernate (hibernate.ts): started and running, between turns, no pending timer (a timer
   * must fire on time, so an actor waiting for one stays live) and no start effects waiting for a turn.
   */
  get canHibernate(): boolean {
    const snap = this.actor?.getSnapshot() as AnySnapshot | undefined;
    return snap?.status === 'active' && !this.busy && !this.afterTurn && this.pendingTimers === 0 && this.startEffects.length === 0;
  }

  /** Gives up the live XState actor (and what hangs off it) for its record; the dedupe marks stay with the cell. */
  hibernate(): StoredActor {
    const record = this.record()!;
    this.stopActor();
    this.actor = undefined;
    this.timersObj = undefined;
    this.logger = undefined;
    this.crashes = undefined;
    return record;
  }

  /** The actor's state as stored or handed over (null before it started). */
  record(): StoredActor | null {
    return this.actor ? { v: 1, s: persistedSnapshot(this.actor), t: this.timers.persisted(), d: this.seen ? this.seen.entries() : [] } : null;
  }
}
