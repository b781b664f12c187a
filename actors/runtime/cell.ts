/**
 * One actor on this node: its lifecycle (cell-lifecycle.ts) around the turns its TurnRunner runs (turn-runner.ts).
 * It activates on its first message (loading its stored state, or from a migration image), sleeps as a dormant
 * image until then when it was adopted, passivates when idle, writes its state, and hands itself over (state plus
 * unprocessed messages) when its shard moves. The cell owns its runner and is the runner's TurnOwner. What it answers
 * without a turn (a missing actor, a failed write) is decided in cell-answers.ts.
 */
import type { BusMsg } from '../../bus/bus.js';
import { ErrorCode, errorMessage, GatehouseError, type WireError } from '../../common/errors.js';
import type { CellContext } from './cell-context.js';
import { ACTIVE, CLOSED, NEW, STARTING, STOPPED, type CellImage, type CellLifecycle } from './cell-lifecycle.js';
import type { Envelope } from './envelope.js';
import { isDurable, type ActorKind } from './kind.js';
import { packRecord, unpackRecord } from './hibernate.js';
import { activityNow } from './activity-clock.js';
import { SeenMarks } from './seen.js';
import type { StoredActor } from './snapshots.js';
import type { PersistedTimer } from './timers.js';
import type { AnySnapshot, Item, TurnOwner } from './turn-owner.js';
import { SEEN_MAX, TurnRunner } from './turn-runner.js';
import { conflictAnswer, maybeApplied, missingAnswer, refusedUnwritten } from './cell-answers.js';

export type { CellImage, CellLifecycle } from './cell-lifecycle.js';

export class ActorCell implements TurnOwner {
  private life: CellLifecycle = NEW;
  lastActive: number;
  revision = 0;
  private readonly runner: TurnRunner;
  /** Batched persistence: changes not written yet, and the timer that will write them. */
  private dirty = false;
  private flushTimer: unknown;
  /** Hibernated (dormant with its own image): whether it may also leave memory, decided while it was live. */
  private mayLeave?: boolean;

  constructor(
    private readonly ctx: CellContext,
    readonly kind: ActorKind,
    readonly id: string,
  ) {
    this.lastActive = ctx.clock.now();
    this.runner = new TurnRunner(this, ctx, kind, id);
  }

  get lifecycle(): CellLifecycle {
    return this.life;
  }

  get queued(): number {
    return this.runner.mailbox.length;
  }

  get busy(): boolean {
    const t = this.life.type;
    return this.runner.busy || t === 'starting' || t === 'waking';
  }

  /** What it is doing, for a log line about a stop or hand-over that waits on it. */
  describe(): string {
    return `${this.kind.name}/${this.id} (${this.life.type}${this.runner.inTurn ? ', in a turn' : ''}, ${this.runner.mailbox.length} queued)`;
  }

  get pendingTimers(): number {
    return this.runner.pendingTimers;
  }

  get isDormant(): boolean {
    const t = this.life.type;
    return t === 'dormant' || t === 'waking';
  }

  /** Accepts a message from the bus (or from a hand-over). */
  deliver(env: Envelope, msg: BusMsg): void {
    this.ctx.metrics.received++;
    const t = this.life.type;
    const seen = this.runner.seen;
    if ((t === 'dormant' || t === 'waking') && seen && env.s !== undefined && env.q !== undefined) {
      const last = seen.get(env.s);
      if (last !== undefined && env.q <= last) {
        this.ctx.metrics.duplicates++;
        return;
      }
    }
    if (this.runner.mailbox.length >= this.ctx.limits.mailboxLimit) {
      this.ctx.metrics.busy++;
      if (msg.reply) {
        this.reply(msg, { code: ErrorCode.Busy, message: `${this.kind.name}/${this.id} mailbox is full` });
      } else {
        this.ctx.metrics.droppedTells++;
        this.runner.log.warn({ limit: this.ctx.limits.mailboxLimit }, 'mailbox full: tell dropped');
      }
      return;
    }
    this.enqueue({ k: 'msg', env, msg });
  }

  /** Activates without a message (pinned actors created by their node), optionally with an explicit input. */
  touch(input?: unknown): void {
    if (input !== undefined) this.runner.input = input;
    const t = this.life.type;
    if (t === 'new' || t === 'dormant') this.activate();
  }

  /** Starts the actor from a hand-over or stored image instead of loading it. */
  restore(image: CellImage): void {
    this.life = STARTING;
    this.start(image.record, image.revision);
    const p = this.kind.persistence;
    if (image.dirty && typeof p === 'object') this.markDirty(p.batchMs);
    for (const q of image.queued) this.runner.mailbox.push({ k: 'msg', env: q.env, msg: q.msg });
    this.runner.pump();
  }

  enqueue(item: Item): void {
    this.runner.mailbox.push(item);
    this.lastActive = activityNow(this.ctx.clock);
    const t = this.life.type;
    if (t === 'new' || t === 'dormant') this.activate(item.k === 'msg' && item.msg.reply !== undefined);
    else if (t === 'waking') {
      if (item.k === 'msg' && item.msg.reply !== undefined) this.ctx.home.wakeLater(this, true); // an asker now waits
    } else if (t !== 'starting') this.runner.pump(); // starting: the messages wait until the actor has started
  }

  /**
   * Adopts an image without starting the actor: restoring an XState actor costs tens of µs, and most actors that a
   * migration moves are idle. The first message (or `touch`) restores it; until then the image is all there is.
   */
  setDormant(image: () => CellImage, seen?: Array<[string, number]>): void {
    this.life = { type: 'dormant', image };
    // The dedupe marks travel beside the image, so a dormant actor drops replayed duplicates without a restore.
    if (seen?.length) this.runner.seen = new SeenMarks(seen, SEEN_MAX);
  }

  /** Host: restores a dormant actor whose first message is waiting (queued by `activate`). */
  wake(): void {
    if (this.life.type !== 'waking') return; // closed or handed over meanwhile
    const image = this.life.image();
    if (this.mayLeave !== undefined) {
      this.mayLeave = undefined;
      this.ctx.metrics.wakes++;
    }
    const queued = this.runner.mailbox.drain();
    this.restore(image);
    // Messages that arrived before the restore go after the image's own queued messages.
    for (const item of queued) this.runner.mailbox.push(item);
    this.runner.pump();
  }

  private activate(ask = false): void {
    if (this.life.type === 'dormant') {
      // Restoring costs tens of µs; right after a migration thousands of adopted actors get their first message in
      // one read from the socket. The host restores them in batches between turns of the event loop, so the next
      // shard's hand-over (on the control connection) is not kept waiting behind all of them.
      this.life = { type: 'waking', image: this.life.image };
      this.ctx.home.wakeLater(this, ask);
      return;
    }
    this.life = STARTING;
    if (!isDurable(this.kind)) {
      this.start(null, 0);
      this.runner.pump();
      return;
    }
    const store = this.ctx.snapshots;
    if (!store) throw new GatehouseError(ErrorCode.StoreError, `kind ${this.kind.name} is durable but no store is configured`);
    store.load(this.kind.name, this.id).then(
      (r) => {
        if (this.life.type === 'closed') return; // fenced or dropped while loading: it must not become live
        if (!r && this.refuseMissing()) return;
        this.start(r?.record ?? null, r?.revision ?? 0);
        this.runner.pump();
      },
      (err) => {
        this.runner.log.error({ err }, 'cannot load stored state; failing queued requests');
        this.close({ code: ErrorCode.StoreError, message: `cannot load state of ${this.kind.name}/${this.id}: ${errorMessage(err)}` });
      },
    );
  }

  /** No stored state and a kind that answers every waiting message for a missing actor: answered, not started. */
  private refuseMissing(): boolean {
    const items = this.runner.mailbox.drain();
    for (const item of items) this.runner.mailbox.push(item);
    const error = missingAnswer(this.kind, items);
    if (error) this.close(error);
    return error !== undefined;
  }

  private start(record: StoredActor | null, revision: number): void {
    this.revision = revision;
    const err = this.runner.start(record);
    if (err !== undefined) {
      this.runner.log.error({ err }, 'cannot start actor from its state');
      this.close({ code: ErrorCode.ActorFailed, message: `${this.kind.name}/${this.id} cannot start: ${errorMessage(err)}` });
      return;
    }
    this.life = ACTIVE;
    this.ctx.metrics.activations++;
    this.ctx.lifecycle?.('active', this.kind.name, this.id, this.ctx.nodeId);
  }

  escalate(): void {
    this.life = STOPPED;
  }

  /** Whether the host may passivate this actor now. */
  idleSince(now: number): boolean {
    if (this.busy || this.runner.pendingTimers > 0 || this.flushTimer !== undefined) return false;
    if (now - this.lastActive < (this.kind.passivateAfterMs ?? this.ctx.limits.passivateAfterMs)) return false;
    const t = this.life.type;
    // A dormant durable actor's image equals its stored snapshot (unsaved changes are restored at once): it may go.
    // A hibernated in-memory one may go when it could when it hibernated (its state has not changed since).
    if (t === 'dormant') return isDurable(this.kind) || this.mayLeave === true;
    if (t === 'stopped') return true;
    if (t !== 'active') return false;
    return this.mayLeaveNow();
  }

  /** A live actor may leave memory when durable, when its kind says so, or (by default) when its machine is done. */
  private mayLeaveNow(): boolean {
    const snap = this.runner.actor!.getSnapshot() as AnySnapshot;
    if (this.kind.canPassivate) return this.kind.canPassivate(snap as never);
    return isDurable(this.kind) || snap.status === 'done';
  }

  /** Whether the sweep may hibernate this actor now (see hibernate.ts): live, idle for `afterMs`, nothing pending. */
  mayHibernate(now: number, afterMs: number): boolean {
    if (this.life.type !== 'active' || this.dirty || this.flushTimer !== undefined) return false;
    return now - this.lastActive >= afterMs && this.runner.canHibernate;
  }

  /**
   * Keeps only a compact image of the actor (hibernate.ts) until its next message, which restores it through the
   * same path as a migrated dormant actor (batched wake-up, dedupe marks checked while dormant). For the lifecycle
   * feed the instance closes here and starts again on wake-up, as after a passivation.
   */
  hibernate(): void {
    this.mayLeave = isDurable(this.kind) || this.mayLeaveNow();
    const packed = packRecord(this.runner.hibernate());
    const revision = this.revision;
    this.life = { type: 'dormant', image: () => ({ record: unpackRecord(packed), revision, queued: [] }) };
    this.ctx.metrics.hibernations++;
    this.ctx.lifecycle?.('closed', this.kind.name, this.id, this.ctx.nodeId);
  }

  /** Passivates through the mailbox, after anything already queued. */
  passivate(): void {
    if (this.life.type === 'dormant') {
      this.life = CLOSED;
      this.ctx.metrics.passivations++;
      this.ctx.home.removed(this.kind.name, this.id, this);
      return;
    }
    this.enqueue({ k: 'task', run: () => this.deactivate(false) });
  }

  async deactivate(forget: boolean): Promise<void> {
    if (this.life.type === 'closed') return;
    // Forgetting deletes instead of writing the final state first (a write only to delete it after). When the delete
    // fails, the state is written after all, so the store never keeps an older state than memory had.
    const res = forget && isDurable(this.kind) && this.life.type === 'active' ? await this.forgetStored() : 'ok';
    if (res !== 'ok') this.runner.log.warn({ err: res === 'fenced' ? undefined : res, fenced: res === 'fenced' }, 'could not delete stored state');
    if (this.dirty) await this.flush();
    this.ctx.metrics.passivations++;
    this.close();
  }

  /**
   * Deletes the stored state (the turn-runner's path for a turn that passivates with `forget`, in place of its
   * write); nothing to do when nothing is stored. Afterwards the actor counts as never written: a later turn creates.
   */
  async forgetStored(): Promise<'ok' | 'fenced' | Error> {
    if (this.revision === 0) {
      this.dirty = false;
      return 'ok';
    }
    try {
      await this.ctx.snapshots!.remove(this.kind.name, this.id, this.revision);
    } catch (err) {
      return (err as { code?: string }).code === ErrorCode.Conflict ? 'fenced' : (err as Error);
    }
    this.revision = 0;
    this.dirty = false;
    return 'ok';
  }

  /**
   * Leaves memory. Asks still queued are answered with `error` when given; otherwise queued messages go back to the
   * host, which delivers them to a fresh instance.
   */
  close(error?: WireError): void {
    if (this.life.type === 'closed') return;
    this.markClosed();
    this.runner.stopActor();
    this.ctx.home.removed(this.kind.name, this.id, this);
    const take = this.runner.takeAfterTurn();
    if (take) {
      // A hand-over was waiting for this cell: it takes the queued messages with it.
      take();
      return;
    }
    for (const item of this.runner.mailbox.drain()) {
      if (item.k !== 'msg') continue;
      if (error) this.reply(item.msg, error);
      else this.ctx.home.redeliver(this.kind.name, this.id, item.env, item.msg);
    }
  }

  /**
   * For live migration: after the turn in progress, stops taking turns and returns the actor's image with the
   * messages still queued. The cell is closed afterwards.
   */
  handOver(): Promise<CellImage> {
    const now = this.handOverNow();
    if (now) return Promise.resolve(now);
    // In a turn (or loading its state): after it, before the next one.
    return new Promise((resolve) => this.runner.afterThisTurn(() => resolve(this.take())));
  }

  /**
   * The hand-over without waiting, when nothing is in progress (almost every actor of a migration): its image, or
   * undefined when a turn must end first (then use handOver()).
   */
  handOverNow(): CellImage | undefined {
    const life = this.life;
    if (life.type === 'dormant' || life.type === 'waking') {
      // Never restored here (possibly waiting for the host to wake it): the image goes on as it came, with any
      // message that arrived meanwhile.
      const image = this.withQueued(life.image());
      this.markClosed();
      this.ctx.home.removed(this.kind.name, this.id, this);
      return image;
    }
    if (life.type === 'new' || life.type === 'closed') return { record: null, revision: 0, queued: [] };
    // Jump the queue: queued messages travel with the image instead of being processed here.
    if (!this.runner.inTurn && life.type !== 'starting') return this.take();
    return undefined;
  }

  /** The actor's state as stored or handed over. */
  image(): CellImage {
    const life = this.life;
    if (life.type === 'dormant' || life.type === 'waking') return life.image();
    return { record: this.runner.record(), revision: this.revision, queued: [], dirty: this.dirty };
  }

  private take(): CellImage {
    const image = this.image();
    this.markClosed();
    // Stopping only matters for pending timers (children are not used); skipping it saves ~17 µs an actor
    // when a migration hands over thousands.
    if (image.record?.t.length) this.runner.stopActor();
    this.ctx.home.removed(this.kind.name, this.id, this);
    return this.withQueued(image);
  }

  /** No more turns: its 'closed' event if it was live, no batched write pending. */
  private markClosed(): void {
    const wasLive = this.life.type === 'active' || this.life.type === 'stopped';
    this.life = CLOSED;
    if (wasLive) this.ctx.lifecycle?.('closed', this.kind.name, this.id, this.ctx.nodeId);
    if (this.flushTimer !== undefined) this.ctx.clock.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  /** The image with the messages received and not processed here appended (they travel with it). */
  private withQueued(image: CellImage): CellImage {
    for (const item of this.runner.mailbox.drain()) if (item.k === 'msg') image.queued.push({ env: item.env, msg: item.msg });
    return image;
  }

  private reply(msg: BusMsg, e: WireError): void {
    if (msg.reply) this.ctx.effects.respond(msg, { ok: false, e });
  }

  // ---- persistence ----------------------------------------------------------------------------------------------

  async persist(): Promise<'ok' | 'fenced' | Error> {
    try {
      this.revision = await this.ctx.snapshots!.save(this.kind.name, this.id, this.image().record!, this.revision);
      this.ctx.metrics.persisted++;
      return 'ok';
    } catch (err) {
      if ((err as { code?: string }).code === ErrorCode.Conflict) return 'fenced';
      return err as Error;
    }
  }

  /** A turn whose write failed (cell-answers.ts says what each failure means and what the asker hears). */
  unsaved(res: 'fenced' | Error, msg: BusMsg | undefined, label: string, prev: AnySnapshot, timersBefore: PersistedTimer[]): void {
    if (res === 'fenced') {
      this.ctx.metrics.fenced++;
      this.runner.log.warn({ revision: this.revision, event: label }, 'snapshot write fenced: a newer instance owns this actor; leaving');
      const answer = msg?.reply ? conflictAnswer(this.ctx.snapshots, this.kind.name, this.id, msg.data, this.revision) : undefined;
      if (answer instanceof Promise) void answer.then((e) => this.reply(msg!, e));
      else if (answer) this.reply(msg!, answer);
      this.close();
    } else if (!refusedUnwritten(res)) {
      // The write may land: STORE_ERROR would let a retry apply it twice. Leave: the next message reloads the store.
      this.ctx.metrics.maybeApplied++;
      this.runner.log.warn({ err: res, event: label }, 'snapshot write outcome unknown: answering MAYBE_APPLIED and reloading');
      if (msg?.reply) this.reply(msg, maybeApplied(this.kind.name, this.id));
      this.close();
    } else {
      this.runner.log.error({ err: res, event: label }, 'snapshot write failed: rolling back the turn');
      if (msg?.reply) this.reply(msg, { code: ErrorCode.StoreError, message: `state of ${this.kind.name}/${this.id} not saved: ${res.message}` });
      this.runner.rollback(prev, timersBefore);
    }
  }

  markDirty(batchMs: number): void {
    this.dirty = true;
    if (this.flushTimer !== undefined) return;
    this.flushTimer = this.ctx.clock.setTimeout(() => {
      this.flushTimer = undefined;
      this.enqueue({ k: 'task', run: () => this.flush() });
    }, batchMs);
  }

  private async flush(): Promise<void> {
    if (!this.dirty || this.life.type !== 'active') return;
    this.dirty = false;
    const res = await this.persist();
    if (res === 'fenced') {
      this.ctx.metrics.fenced++;
      this.close();
    } else if (res !== 'ok') {
      this.runner.log.warn({ err: res }, 'batched snapshot write failed; will retry');
      const p = this.kind.persistence;
      if (typeof p === 'object') this.markDirty(p.batchMs);
    }
  }
}

