/**
 * One actor on this node: its lifecycle around CellRunner's turns. It activates on its first message (loading its
 * stored state, or from a migration image), sleeps as a dormant image until then when it was adopted, passivates when
 * idle, and hands itself over (state plus unprocessed messages) when its shard moves.
 */
import type { BusMsg } from '../../bus/bus.js';
import { ErrorCode, errorMessage, GatehouseError, type WireError } from '../../common/errors.js';
import { CellRunner, SEEN_MAX, type AnySnapshot, type CellImage, type Item } from './cell-runner.js';
import type { Envelope } from './envelope.js';
import { isDurable } from './kind.js';
import { SeenMarks } from './seen.js';
import type { PersistedTimer } from './timers.js';

export type { CellImage, CellState } from './cell-runner.js';

export class ActorCell extends CellRunner {
  /** Accepts a message from the bus (or from a hand-over). */
  deliver(env: Envelope, msg: BusMsg): void {
    this.ctx.metrics.received++;
    if (this.dormant && this.seen && env.s !== undefined && env.q !== undefined) {
      const last = this.seen.get(env.s);
      if (last !== undefined && env.q <= last) {
        this.ctx.metrics.duplicates++;
        return;
      }
    }
    if (this.mailbox.length >= this.ctx.limits.mailboxLimit) {
      this.ctx.metrics.busy++;
      if (msg.reply) {
        this.reply(msg, { code: ErrorCode.Busy, message: `${this.kind.name}/${this.id} mailbox is full` });
      } else {
        this.ctx.metrics.droppedTells++;
        this.log.warn({ limit: this.ctx.limits.mailboxLimit }, 'mailbox full: tell dropped');
      }
      return;
    }
    this.enqueue({ k: 'msg', env, msg });
  }

  /** Activates without a message (pinned actors created by their node), optionally with an explicit input. */
  touch(input?: unknown): void {
    if (input !== undefined) this.inputOverride = input;
    if (this.state === 'new') this.activate();
  }

  /** Starts the actor from a hand-over or stored image instead of loading it. */
  restore(image: CellImage): void {
    this.dormant = undefined;
    this.state = 'activating';
    this.start(image.record, image.revision);
    const p = this.kind.persistence;
    if (image.dirty && typeof p === 'object') this.markDirty(p.batchMs);
    for (const q of image.queued) this.mailbox.push({ k: 'msg', env: q.env, msg: q.msg });
    this.pump();
  }

  protected enqueue(item: Item): void {
    this.mailbox.push(item);
    this.lastActive = this.ctx.clock.now();
    const ask = item.k === 'msg' && item.msg.reply !== undefined;
    if (this.state === 'new') this.activate(ask);
    else if (ask && this.dormant && this.state === 'activating') this.ctx.wakeLater(this, true); // an asker now waits
    else this.pump();
  }

  /**
   * Adopts an image without starting the actor: restoring an XState actor costs tens of µs, and most actors that a
   * migration moves are idle. The first message (or `touch`) restores it; until then the image is all there is.
   */
  setDormant(image: () => CellImage, seen?: Array<[string, number]>): void {
    this.dormant = image;
    // The dedupe marks travel beside the image, so a dormant actor drops replayed duplicates without a restore.
    if (seen?.length) this.seen = new SeenMarks(seen, SEEN_MAX);
  }

  /** Host: restores a dormant actor whose first message is waiting (queued by `activate`). */
  wake(): void {
    if (this.state !== 'activating' || !this.dormant) return; // closed or handed over meanwhile
    const image = this.dormant();
    const queued = this.mailbox.drain();
    this.restore(image);
    // Messages that arrived before the restore go after the image's own queued messages.
    for (const item of queued) this.mailbox.push(item);
    this.pump();
  }

  get isDormant(): boolean {
    return this.dormant !== undefined;
  }

  private activate(ask = false): void {
    if (this.dormant) {
      // Restoring costs tens of µs; right after a migration thousands of adopted actors get their first message in
      // one read from the socket. The host restores them in batches between turns of the event loop, so the next
      // shard's hand-over (on the control connection) is not kept waiting behind all of them.
      this.state = 'activating';
      this.ctx.wakeLater(this, ask);
      return;
    }
    this.state = 'activating';
    if (!isDurable(this.kind)) {
      this.start(null, 0);
      this.pump();
      return;
    }
    const store = this.ctx.snapshots;
    if (!store) throw new GatehouseError(ErrorCode.StoreError, `kind ${this.kind.name} is durable but no store is configured`);
    store.load(this.kind.name, this.id).then(
      (r) => {
        this.start(r?.record ?? null, r?.revision ?? 0);
        this.pump();
      },
      (err) => {
        this.log.error({ err }, 'cannot load stored state; failing queued requests');
        this.close({ code: ErrorCode.StoreError, message: `cannot load state of ${this.kind.name}/${this.id}: ${errorMessage(err)}` });
      },
    );
  }

  /** Whether the host may passivate this actor now. */
  idleSince(now: number): boolean {
    if (this.busy || (this.timersObj?.size ?? 0) > 0 || this.flushTimer !== undefined) return false;
    if (now - this.lastActive < (this.kind.passivateAfterMs ?? this.ctx.limits.passivateAfterMs)) return false;
    // A dormant durable actor's image equals its stored snapshot (unsaved changes are restored at once): it may go.
    if (this.dormant) return isDurable(this.kind);
    if (this.state === 'stopped') return true;
    if (this.state !== 'active') return false;
    const snap = this.actor!.getSnapshot() as AnySnapshot;
    if (this.kind.canPassivate) return this.kind.canPassivate(snap as never);
    return isDurable(this.kind) || snap.status === 'done';
  }

  /** Passivates through the mailbox, after anything already queued. */
  passivate(): void {
    if (this.dormant && this.state === 'new') {
      this.dormant = undefined;
      this.state = 'closed';
      this.ctx.metrics.passivations++;
      this.ctx.removed(this.kind.name, this.id, this);
      return;
    }
    this.enqueue({ k: 'task', run: () => this.deactivate(false) });
  }

  protected async deactivate(forget: boolean): Promise<void> {
    if (this.state === 'closed') return;
    if (this.dirty) await this.flush();
    if (forget && isDurable(this.kind) && this.revision > 0 && this.state === 'active') {
      try {
        await this.ctx.snapshots!.remove(this.kind.name, this.id, this.revision);
      } catch (err) {
        this.log.warn({ err }, 'could not delete stored state');
      }
    }
    this.ctx.metrics.passivations++;
    this.close();
  }

  /**
   * Leaves memory. Asks still queued are answered with `error` when given; otherwise queued messages go back to the
   * host, which delivers them to a fresh instance.
   */
  close(error?: WireError): void {
    if (this.state === 'closed') return;
    this.markClosed();
    try {
      this.actor?.stop();
    } catch {
      /* stopping an errored actor */
    }
    this.ctx.removed(this.kind.name, this.id, this);
    if (this.afterTurn) {
      // A hand-over was waiting for this cell: it takes the queued messages with it.
      const take = this.afterTurn;
      this.afterTurn = undefined;
      take();
      return;
    }
    for (const item of this.mailbox.drain()) {
      if (item.k !== 'msg') continue;
      if (error) this.reply(item.msg, error);
      else this.ctx.redeliver(this.kind.name, this.id, item.env, item.msg);
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
    return new Promise((resolve) => (this.afterTurn = () => resolve(this.take())));
  }

  /**
   * The hand-over without waiting, when nothing is in progress (almost every actor of a migration): its image, or
   * undefined when a turn must end first (then use handOver()).
   */
  handOverNow(): CellImage | undefined {
    if (this.dormant) {
      // Never restored here (possibly waiting for the host to wake it): the image goes on as it came, with any
      // message that arrived meanwhile.
      const image = this.withQueued(this.dormant());
      this.dormant = undefined;
      this.markClosed();
      this.ctx.removed(this.kind.name, this.id, this);
      return image;
    }
    if (this.state === 'new' || this.state === 'closed') return { record: null, revision: 0, queued: [] };
    // Jump the queue: queued messages travel with the image instead of being processed here.
    if (!this.inTurn && this.state !== 'activating') return this.take();
    return undefined;
  }

  private take(): CellImage {
    const image = this.image();
    this.markClosed();
    // Stopping only matters for pending timers (children are not used); skipping it saves ~17 µs an actor
    // when a migration hands over thousands.
    if (image.record?.t.length) {
      try {
        this.actor?.stop();
      } catch {
        /* errored */
      }
    }
    this.ctx.removed(this.kind.name, this.id, this);
    return this.withQueued(image);
  }

  /** No more turns: its 'closed' event if it was live, no batched write pending. */
  private markClosed(): void {
    const wasLive = this.state === 'active' || this.state === 'stopped';
    this.state = 'closed';
    if (wasLive) this.ctx.lifecycle?.('closed', this.kind.name, this.id, this.ctx.nodeId);
    if (this.flushTimer !== undefined) this.ctx.clock.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  /** The image with the messages received and not processed here appended (they travel with it). */
  private withQueued(image: CellImage): CellImage {
    for (const item of this.mailbox.drain()) if (item.k === 'msg') image.queued.push({ env: item.env, msg: item.msg });
    return image;
  }

  // ---- persistence ----------------------------------------------------------------------------------------------

  protected async persist(): Promise<'ok' | 'fenced' | Error> {
    try {
      this.revision = await this.ctx.snapshots!.save(this.kind.name, this.id, this.image().record!, this.revision);
      this.ctx.metrics.persisted++;
      return 'ok';
    } catch (err) {
      if ((err as { code?: string }).code === ErrorCode.Conflict) return 'fenced';
      return err as Error;
    }
  }

  protected unsaved(res: 'fenced' | Error, msg: BusMsg | undefined, label: string, prev: AnySnapshot, timersBefore: PersistedTimer[]): void {
    if (res === 'fenced') {
      this.ctx.metrics.fenced++;
      this.log.warn({ revision: this.revision, event: label }, 'snapshot write fenced: a newer instance owns this actor; leaving');
      if (msg?.reply) this.reply(msg, { code: ErrorCode.NotOwner, message: `${this.kind.name}/${this.id} moved; retry` });
      this.close();
      return;
    }
    this.log.error({ err: res, event: label }, 'snapshot write failed: rolling back the turn');
    if (msg?.reply) this.reply(msg, { code: ErrorCode.StoreError, message: `state of ${this.kind.name}/${this.id} not saved: ${res.message}` });
    this.actor?.stop();
    this.actor = this.createX(this.kind.machine.getPersistedSnapshot(prev as never), timersBefore);
  }

  protected markDirty(batchMs: number): void {
    this.dirty = true;
    if (this.flushTimer !== undefined) return;
    this.flushTimer = this.ctx.clock.setTimeout(() => {
      this.flushTimer = undefined;
      this.enqueue({ k: 'task', run: () => this.flush() });
    }, batchMs);
  }

  private async flush(): Promise<void> {
    if (!this.dirty || this.state !== 'active') return;
    this.dirty = false;
    const res = await this.persist();
    if (res === 'fenced') {
      this.ctx.metrics.fenced++;
      this.close();
    } else if (res !== 'ok') {
      this.log.warn({ err: res }, 'batched snapshot write failed; will retry');
      const p = this.kind.persistence;
      if (typeof p === 'object') this.markDirty(p.batchMs);
    }
  }
}
