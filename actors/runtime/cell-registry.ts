/**
 * A node's actor cells: the kinds it can host, the live cells of each (and of each shard, so a shard's release does
 * not scan every actor of its kind), the batched wake-up of dormant cells, and the passivation sweep. It is the home
 * the cells report to (CellHome) and holds the context they run in.
 */
import type { BusMsg } from '../../bus/bus.js';
import { CountedSet } from '../../common/counted-set.js';
import { ErrorCode, GatehouseError } from '../../common/errors.js';
import type { CellContext, CellHome } from './cell-context.js';
import { ActorCell, type CellImage } from './cell.js';
import type { Envelope } from './envelope.js';
import type { ActorKind } from './kind.js';
import { shardKey } from './shard-key.js';
import { WakeQueue, type Wakeable } from './wake-queue.js';

export interface RegistryHooks {
  /** Whether this node receives the shard's messages now (the shard inbox). */
  ownsShard(kind: string, shard: number): boolean;
  /** Sends a message on to wherever the actor lives now (the effect sink). */
  forward(kind: string, id: string, env: Envelope, msg: BusMsg): void;
}

/** How long asks of turns in progress may still be answered once the node stops (RuntimeLimits.stopAskGraceMs). */
export const DEFAULT_STOP_ASK_GRACE_MS = 1000;

export class CellRegistry implements CellHome {
  /** The context every cell of this node runs in (one object, shared). */
  readonly context: CellContext;
  private readonly kinds = new Map<string, ActorKind>();
  private readonly cells = new Map<string, Map<string, ActorCell>>();
  /** `kind.shard` → its live cells: releasing a shard must not scan every actor of the kind. */
  private readonly byShard = new Map<string, Set<ActorCell>>();
  /** Shards being moved out or in (a claim per move): their actors are not passivated meanwhile. */
  readonly moving = new CountedSet();
  /** Dormant cells with a first message waiting (see ActorCell.activate). */
  private readonly toWake: WakeQueue;
  private sweepTimer: unknown;
  private stopping = false;
  /** Mailboxes waiting for the node to serve again (see park). */
  private readonly parked = new Set<{ pump(): void }>();
  private stopAsks!: (err: Error) => void;

  constructor(
    context: Omit<CellContext, 'home'>,
    kinds: ActorKind[],
    private readonly hooks: RegistryHooks,
  ) {
    const c = context;
    const stopping = new Promise<never>((_, reject) => (this.stopAsks = reject));
    stopping.catch(() => undefined); // raced by asks in turns; nobody need be listening when it rejects
    // Listed field by field: one shape for the object every cell reads on every turn.
    this.context = {
      nodeId: c.nodeId,
      clock: c.clock,
      log: c.log,
      client: c.client,
      snapshots: c.snapshots,
      serving: c.serving,
      taps: c.taps,
      limits: c.limits,
      metrics: c.metrics,
      lifecycle: c.lifecycle,
      effects: c.effects,
      home: this,
      stopping,
    };
    this.toWake = new WakeQueue((err) => c.log.error({ err }, 'runtime error restoring an actor'));
    for (const k of kinds) {
      if (this.kinds.has(k.name)) throw new GatehouseError(ErrorCode.UnknownKind, `actor kind ${k.name} declared twice`);
      this.kinds.set(k.name, k);
      this.cells.set(k.name, new Map());
    }
  }

  kind(name: string): ActorKind | undefined {
    return this.kinds.get(name);
  }

  allKinds(): IterableIterator<ActorKind> {
    return this.kinds.values();
  }

  requireKind(kind: string): ActorKind {
    const k = this.kinds.get(kind);
    if (!k) throw new GatehouseError(ErrorCode.UnknownKind, `unknown actor kind ${kind}`);
    return k;
  }

  /** The actor's cell, created (not yet activated) when it has none here. */
  cellFor(kind: string, id: string): ActorCell {
    const map = this.cells.get(kind)!;
    let cell = map.get(id);
    if (!cell) {
      map.set(id, (cell = new ActorCell(this.context, this.kinds.get(kind)!, id)));
      if (this.kinds.get(kind)!.placement !== 'pinned') this.index(cell);
    }
    return cell;
  }

  /** The actor's cell if it has one here (pinned actors are never created by a message). */
  existing(kind: string, id: string): ActorCell | undefined {
    return this.cells.get(kind)!.get(id);
  }

  /** A cell for a handed-over actor (see ActorHost.adopt). */
  adopt(kind: string, id: string, image: CellImage | (() => CellImage), opts?: { lazy?: boolean; seen?: Array<[string, number]> }): void {
    const k = this.requireKind(kind);
    const cell = new ActorCell(this.context, k, id);
    this.cells.get(kind)!.set(id, cell);
    this.index(cell);
    const get = typeof image === 'function' ? image : () => image;
    if (opts?.lazy) cell.setDormant(get, opts.seen);
    else cell.restore(get());
    this.context.lifecycle?.('adopted', kind, id, this.context.nodeId);
  }

  /** The live cells of a shard (a copy: closing them changes the index). */
  ofShard(kind: string, shard: number): ActorCell[] {
    return [...(this.byShard.get(shardKey(kind, shard)) ?? [])];
  }

  private index(cell: ActorCell): void {
    const key = shardKey(cell.kind.name, this.context.client.shardOf(cell.id));
    let set = this.byShard.get(key);
    if (!set) this.byShard.set(key, (set = new Set()));
    set.add(cell);
  }

  // ---- CellHome ----------------------------------------------------------------------------------------------------

  removed(kind: string, id: string, cell: object): void {
    const map = this.cells.get(kind)!;
    if (map.get(id) === cell) map.delete(id);
    this.byShard.get(shardKey(kind, this.context.client.shardOf(id)))?.delete(cell as ActorCell);
  }

  wakeLater(cell: Wakeable, urgent?: boolean): void {
    this.toWake.push(cell, urgent);
  }

  park(runner: { pump(): void }): void {
    this.parked.add(runner);
  }

  /** Runs the turns parked while the node could not confirm its ownership (in the order they parked). */
  resumeParked(): number {
    const parked = [...this.parked];
    this.parked.clear();
    for (const r of parked) r.pump();
    return parked.length;
  }

  redeliver(kind: string, id: string, env: Envelope, msg: BusMsg): void {
    const k = this.kinds.get(kind)!;
    if (this.stopping || (k.placement !== 'pinned' && !this.hooks.ownsShard(kind, this.context.client.shardOf(id)))) {
      // The actor lives elsewhere now: forward it, keeping sender, sequence and reply address.
      this.hooks.forward(kind, id, env, msg);
      return;
    }
    const serving = this.context.serving;
    if (k.placement !== 'pinned' && serving !== undefined && !serving()) {
      // A lapse (the node cannot confirm it still owns the shard): a fresh instance must not start here now. Not
      // applied: an asker hears NOT_OWNER; a tell is dropped, as for a node that died.
      this.context.metrics.unconfirmed++;
      if (msg.reply) this.context.effects.respond(msg, { ok: false, e: { code: ErrorCode.NotOwner, message: `${kind}/${id}: owner not confirmed; retry` } });
      return;
    }
    this.cellFor(kind, id).deliver(env, msg);
  }

  /**
   * The fence (cluster/liveness.ts): this node cannot confirm it is heard, so other nodes may take its shards over once
   * they stop hearing it. Every instance of a sharded kind leaves memory now, in-memory kinds included, before anyone
   * may start a second one: durable state is in the store (unsaved batched changes are lost, as in a crash), in-memory
   * state is lost, as with a node that died. Queued asks hear NOT_OWNER (not applied), queued tells are dropped.
   * Pinned actors (connections) stay. Returns how many instances left.
   */
  fence(): number {
    let n = 0;
    for (const set of [...this.byShard.values()]) {
      for (const cell of [...set]) {
        cell.close({ code: ErrorCode.NotOwner, message: `${cell.kind.name}/${cell.id}: owner fenced (not heard); retry` });
        n++;
      }
    }
    return n;
  }

  // ---- passivation, counts, shutdown -------------------------------------------------------------------------------

  startSweeping(): void {
    if (this.stopping) return;
    const { passivateAfterMs, hibernateAfterMs } = this.context.limits;
    const idle = hibernateAfterMs ? Math.min(passivateAfterMs, hibernateAfterMs) : passivateAfterMs;
    const every = Math.max(50, Math.min(30_000, Math.floor(idle / 2)));
    this.sweepTimer = this.context.clock.setTimeout(() => {
      this.sweep();
      this.startSweeping();
    }, every);
  }

  /** Passivates every actor idle for its passivation time. Returns how many were asked to leave. */
  sweep(): number {
    const now = this.context.clock.now();
    const hibernate = this.context.limits.hibernateAfterMs ?? 0;
    let n = 0;
    for (const map of this.cells.values()) {
      for (const cell of map.values()) {
        if (this.moving.size && this.moving.has(shardKey(cell.kind.name, this.context.client.shardOf(cell.id)))) continue;
        if (cell.idleSince(now)) {
          cell.passivate();
          n++;
        } else if (hibernate && cell.mayHibernate(now, hibernate)) cell.hibernate();
      }
    }
    return n;
  }

  activeCount(kind?: string): number {
    if (kind) return this.cells.get(kind)?.size ?? 0;
    let n = 0;
    for (const m of this.cells.values()) n += m.size;
    return n;
  }

  perKind(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, m] of this.cells) out[k] = m.size;
    return out;
  }

  /** No more sweeps; messages for closed cells are forwarded from now on. Returns every cell still here. */
  stop(): ActorCell[] {
    this.stopping = true;
    const grace = this.context.limits.stopAskGraceMs ?? DEFAULT_STOP_ASK_GRACE_MS;
    const cut = () => this.stopAsks(new GatehouseError(ErrorCode.ActorStopped, `node ${this.context.nodeId} stopped: no answer within ${grace} ms`));
    if (grace === 0) cut();
    else this.context.clock.setTimeout(cut, grace);
    if (this.sweepTimer !== undefined) this.context.clock.clearTimeout(this.sweepTimer);
    const all: ActorCell[] = [];
    for (const m of this.cells.values()) all.push(...m.values());
    return all;
  }
}
