/**
 * The actor host of one node: it owns shard subscriptions (`<kind>.<shard>.*`), routes each message to the actor's
 * cell (activating it on first message), passivates idle actors, and carries out effects that leave the node.
 *
 * Which shards a host owns is decided outside: a single node owns them all (`ownAllShards`); in a cluster, the
 * ownership layer (cluster/) calls `ownShard` / `releaseShard`.
 */
import type { Logger } from 'pino';
import type { Bus, BusMsg, Subscription } from '../../bus/bus.js';
import { encode } from '../../bus/codec.js';
import type { Store } from '../../bus/store.js';
import { decodeId, PROBE_TOKEN, subjects } from '../../bus/subjects.js';
import { systemClock, type Clock } from '../../common/clock.js';
import { CountedSet } from '../../common/counted-set.js';
import { ErrorCode, GatehouseError } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import type { CellContext, LifecycleHook, RuntimeLimits } from './cell-context.js';
import { ActorCell, type CellImage } from './cell.js';
import { ActorClient } from './client.js';
import type { ConnRef } from './effects.js';
import { decodeEnvelope, encodeEnvelope, encodeReply, type Envelope, type Reply } from './envelope.js';
import { isDurable, type ActorKind } from './kind.js';
import { newRuntimeMetrics } from './metrics.js';
import { SNAPSHOT_BUCKET, SnapshotStore } from './snapshots.js';
import { TraceTaps } from './trace.js';
import { WakeQueue, type Wakeable } from './wake-queue.js';

export interface HostOptions {
  nodeId: string;
  bus: Bus;
  store?: Store;
  clock?: Clock;
  log?: Logger;
  kinds: ActorKind[];
  limits: RuntimeLimits & { shards: number };
  /** Own every shard of every sharded kind at start (single node, embedded). */
  ownAllShards?: boolean;
  /** Publish every transition, listener or not. */
  traceAlways?: boolean;
  /** Sender id for this host's client (defaults to node id + random incarnation). */
  senderId?: string;
  lifecycle?: LifecycleHook;
}

/** The message a gateway receives on `gw.<node>.push`: one per gateway per push effect. */
export interface GatewayPush {
  c: string[];
  r: string;
  b: unknown;
}

export class ActorHost implements CellContext {
  readonly nodeId: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly client: ActorClient;
  readonly metrics = newRuntimeMetrics();
  readonly taps: TraceTaps;
  readonly limits: RuntimeLimits;
  readonly lifecycle?: HostOptions['lifecycle'];
  snapshots?: SnapshotStore;
  private readonly kinds = new Map<string, ActorKind>();
  private readonly cells = new Map<string, Map<string, ActorCell>>();
  /** `kind.shard` → its live cells: releasing a shard must not scan every actor of the kind. */
  private readonly byShard = new Map<string, Set<ActorCell>>();
  private readonly shardSubs = new Map<string, Subscription>();
  /** Shards being moved in: messages wait here (arrival order) until the old owner's hand-over is adopted. */
  private readonly buffers = new Map<string, BusMsg[]>();
  /** Shards being moved out or in (a claim per move): their actors are not passivated meanwhile. */
  readonly moving = new CountedSet();
  /** Called for each migration probe seen on an owned or buffered shard. */
  onProbe?: (kind: string, shard: number, payload: Uint8Array) => void;
  private readonly pinnedSubs = new Map<string, Subscription>();
  /** Dormant cells with a first message waiting (see ActorCell.activate). */
  private readonly toWake = new WakeQueue((err) => this.log.error({ err }, 'runtime error restoring an actor'));
  private sweepTimer: unknown;
  private started = false;
  private stopping = false;

  constructor(private readonly o: HostOptions) {
    this.nodeId = o.nodeId;
    this.clock = o.clock ?? systemClock;
    this.log = o.log ?? silentLogger;
    this.limits = o.limits;
    this.lifecycle = o.lifecycle;
    this.client = new ActorClient(o.bus, {
      shards: o.limits.shards,
      askTimeoutMs: o.limits.askTimeoutMs,
      senderId: o.senderId,
    });
    this.taps = new TraceTaps(o.bus, this.clock, o.nodeId, o.traceAlways);
    for (const k of o.kinds) {
      if (this.kinds.has(k.name)) throw new GatehouseError(ErrorCode.UnknownKind, `actor kind ${k.name} declared twice`);
      this.kinds.set(k.name, k);
      this.cells.set(k.name, new Map());
    }
  }

  get bus(): Bus {
    return this.o.bus;
  }

  kind(name: string): ActorKind | undefined {
    return this.kinds.get(name);
  }

  shardedKinds(): string[] {
    return [...this.kinds.values()].filter((k) => (k.placement ?? 'sharded') === 'sharded').map((k) => k.name);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if ([...this.kinds.values()].some(isDurable)) {
      if (!this.o.store) throw new GatehouseError(ErrorCode.StoreError, 'durable actor kinds need a store');
      this.snapshots = new SnapshotStore(await this.o.store.bucket(SNAPSHOT_BUCKET));
    }
    this.taps.start();
    for (const k of this.kinds.values()) {
      if (k.placement === 'pinned') {
        this.pinnedSubs.set(
          k.name,
          this.o.bus.subscribe(subjects.pinnedAll(k.name, this.nodeId), (m) => this.onPinnedMessage(k.name, m)),
        );
      } else if (this.o.ownAllShards) {
        for (let s = 0; s < this.o.limits.shards; s++) this.ownShard(k.name, s);
      }
    }
    await this.o.bus.flush();
    this.scheduleSweep();
  }

  /**
   * Starts receiving a shard's messages. With `buffer`, messages are held (not processed) until `unbuffer`: the
   * receiving side of a live migration subscribes before the old owner lets go.
   */
  ownShard(kind: string, shard: number, opts?: { buffer?: boolean }): void {
    const key = `${kind}.${shard}`;
    if (this.shardSubs.has(key) || this.stopping) return;
    if (opts?.buffer) this.buffers.set(key, []);
    this.shardSubs.set(
      key,
      this.o.bus.subscribe(subjects.shard(kind, shard), (m) => this.onShardMessage(kind, shard, key, m)),
    );
  }

  /** Buffered messages so far (for bounds and progress). */
  buffered(kind: string, shard: number): number {
    return this.buffers.get(`${kind}.${shard}`)?.length ?? 0;
  }

  /** Ends buffering: replays held messages in arrival order (duplicates are dropped by the cells), then goes live. */
  unbuffer(kind: string, shard: number): number {
    const key = `${kind}.${shard}`;
    const held = this.buffers.get(key);
    if (!held) return 0;
    this.buffers.delete(key);
    for (const m of held) this.onShardMessage(kind, shard, key, m);
    return held.length;
  }

  /** Gives up a buffered shard whose move was aborted: nothing was processed here, the old owner keeps it. */
  abandonShard(kind: string, shard: number): void {
    const key = `${kind}.${shard}`;
    this.buffers.delete(key);
    this.shardSubs.get(key)?.unsubscribe();
    this.shardSubs.delete(key);
  }

  /**
   * Stops owning a shard without a hand-over (its lease went elsewhere while this node was cut off, or a move was
   * reverted): live actors leave; durable ones are in the store, queued asks are told to retry.
   */
  dropShard(kind: string, shard: number): number {
    this.abandonShard(kind, shard);
    const cells = [...(this.byShard.get(`${kind}.${shard}`) ?? [])];
    for (const c of cells) c.close({ code: ErrorCode.NotOwner, message: `${kind}/${c.id} moved; retry` });
    return cells.length;
  }

  ownedShards(): Array<{ kind: string; shard: number }> {
    return [...this.shardSubs.keys()].map((k) => {
      const dot = k.lastIndexOf('.');
      return { kind: k.slice(0, dot), shard: Number(k.slice(dot + 1)) };
    });
  }

  /**
   * Stops receiving a shard but keeps its actors in memory, as an owner cut off by a partition would. Their next
   * snapshot write is fenced if a newer owner wrote meanwhile. (Used by fencing tests and lease loss.)
   */
  suspendShard(kind: string, shard: number): void {
    const key = `${kind}.${shard}`;
    this.shardSubs.get(key)?.unsubscribe();
    this.shardSubs.delete(key);
  }

  ownsShard(kind: string, shard: number): boolean {
    return this.shardSubs.has(`${kind}.${shard}`);
  }

  /** Stops receiving a shard and hands over its live actors (for migration); they are closed here. */
  async releaseShard(kind: string, shard: number): Promise<Array<{ id: string; image: CellImage }>> {
    const key = `${kind}.${shard}`;
    this.shardSubs.get(key)?.unsubscribe();
    this.shardSubs.delete(key);
    this.buffers.delete(key);
    const out: Array<{ id: string; image: CellImage }> = [];
    const waiting: Array<Promise<unknown>> = [];
    for (const c of [...(this.byShard.get(key) ?? [])]) {
      // Most cells are between turns and hand over at once; a promise each for 10 k actors showed in profiles.
      const image = c.handOverNow();
      if (image) out.push({ id: c.id, image });
      else waiting.push(c.handOver().then((img) => out.push({ id: c.id, image: img })));
    }
    if (waiting.length) await Promise.all(waiting);
    return out;
  }

  /**
   * Takes over an actor from a hand-over image (the receiving side of a migration). With `lazy`, the actor stays
   * dormant until its first message: restoring costs tens of µs and most moved actors are idle.
   */
  adopt(kind: string, id: string, image: CellImage | (() => CellImage), opts?: { lazy?: boolean; seen?: Array<[string, number]> }): void {
    const k = this.requireKind(kind);
    const cell = new ActorCell(this, k, id);
    this.cells.get(kind)!.set(id, cell);
    this.index(cell);
    const get = typeof image === 'function' ? image : () => image;
    if (opts?.lazy) cell.setDormant(get, opts.seen);
    else cell.restore(get());
    this.lifecycle?.('adopted', kind, id, this.nodeId);
  }

  private index(cell: ActorCell): void {
    const key = `${cell.kind.name}.${this.client.shardOf(cell.id)}`;
    let set = this.byShard.get(key);
    if (!set) this.byShard.set(key, (set = new Set()));
    set.add(cell);
  }

  /** Creates a pinned actor (e.g. a connection) on this node. */
  spawnPinned(kind: string, id: string, input?: unknown): void {
    const k = this.requireKind(kind);
    if (k.placement !== 'pinned') throw new GatehouseError(ErrorCode.UnknownKind, `${kind} is not a pinned kind`);
    this.cellFor(kind, id).touch(input);
  }

  private requireKind(kind: string): ActorKind {
    const k = this.kinds.get(kind);
    if (!k) throw new GatehouseError(ErrorCode.UnknownKind, `unknown actor kind ${kind}`);
    return k;
  }

  private onShardMessage(kind: string, shard: number, key: string, msg: BusMsg): void {
    const token = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
    if (token === PROBE_TOKEN) {
      this.onProbe?.(kind, shard, msg.data);
      return;
    }
    const held = this.buffers.get(key);
    if (held) {
      held.push(msg);
      return;
    }
    const env = this.decode(msg);
    if (env) this.cellFor(kind, decodeId(token)).deliver(env, msg);
  }

  private onPinnedMessage(kind: string, msg: BusMsg): void {
    const env = this.decode(msg);
    if (!env) return;
    const id = decodeId(msg.subject.slice(msg.subject.lastIndexOf('.') + 1));
    const cell = this.cells.get(kind)!.get(id);
    if (cell) cell.deliver(env, msg);
    else if (msg.reply) {
      // Pinned actors are never activated by a message: a connection that is gone stays gone.
      this.respond(msg, { ok: false, e: { code: ErrorCode.ActorStopped, message: `${kind}/${id} does not exist on ${this.nodeId}` } });
    }
  }

  private decode(msg: BusMsg): Envelope | undefined {
    try {
      return decodeEnvelope(msg.data);
    } catch (err) {
      this.metrics.badMessages++;
      if (msg.reply) this.respond(msg, { ok: false, e: { code: ErrorCode.BadMessage, message: (err as Error).message } });
      else this.log.debug({ err, subject: msg.subject }, 'undecodable actor message dropped');
      return undefined;
    }
  }

  private cellFor(kind: string, id: string): ActorCell {
    const map = this.cells.get(kind)!;
    let cell = map.get(id);
    if (!cell) {
      map.set(id, (cell = new ActorCell(this, this.kinds.get(kind)!, id)));
      if (this.kinds.get(kind)!.placement !== 'pinned') this.index(cell);
    }
    return cell;
  }

  // ---- CellContext -------------------------------------------------------------------------------------------------

  respond(msg: BusMsg, reply: Reply): void {
    try {
      this.o.bus.respond(msg, encodeReply(reply));
    } catch (err) {
      this.log.warn({ err, subject: msg.subject }, 'could not send reply');
    }
  }

  push(to: ConnRef[], route: string, body: unknown): void {
    const byGateway = new Map<string, string[]>();
    for (const c of to) {
      const list = byGateway.get(c.gw);
      if (list) list.push(c.id);
      else byGateway.set(c.gw, [c.id]);
    }
    for (const [gw, ids] of byGateway) {
      this.o.bus.publish(subjects.gateway(gw, 'push'), encode({ c: ids, r: route, b: body } satisfies GatewayPush));
    }
  }

  removed(kind: string, id: string, cell: object): void {
    const map = this.cells.get(kind)!;
    if (map.get(id) === cell) map.delete(id);
    this.byShard.get(`${kind}.${this.client.shardOf(id)}`)?.delete(cell as ActorCell);
  }

  wakeLater(cell: Wakeable, urgent?: boolean): void {
    this.toWake.push(cell, urgent);
  }

  redeliver(kind: string, id: string, env: Envelope, msg: BusMsg): void {
    const k = this.kinds.get(kind)!;
    if (this.stopping || (k.placement !== 'pinned' && !this.ownsShard(kind, this.client.shardOf(id)))) {
      // The actor lives elsewhere now: forward it, keeping sender, sequence and reply address.
      this.forward(kind, id, env, msg);
      return;
    }
    this.cellFor(kind, id).deliver(env, msg);
  }

  forward(kind: string, id: string, env: Envelope, msg: BusMsg): void {
    try {
      const subject = this.client.subjectOf({ kind, id });
      // Re-encoded from the envelope (sender and sequence kept): a handed-over message no longer has its bytes.
      this.o.bus.publish(subject, encodeEnvelope(env), msg.reply ? { reply: msg.reply } : undefined);
    } catch (err) {
      this.log.warn({ err, actor: `${kind}/${id}` }, 'could not forward message');
      if (msg.reply) this.respond(msg, { ok: false, e: { code: ErrorCode.NotOwner, message: 'actor moved; retry' } });
    }
  }

  // ---- passivation, stats, shutdown --------------------------------------------------------------------------------

  private scheduleSweep(): void {
    if (this.stopping) return;
    const every = Math.max(50, Math.min(30_000, Math.floor(this.limits.passivateAfterMs / 2)));
    this.sweepTimer = this.clock.setTimeout(() => {
      this.sweep();
      this.scheduleSweep();
    }, every);
  }

  /** Passivates every actor idle for its passivation time. Returns how many were asked to leave. */
  sweep(): number {
    const now = this.clock.now();
    let n = 0;
    for (const map of this.cells.values()) {
      for (const cell of map.values()) {
        if (this.moving.size && this.moving.has(`${cell.kind.name}.${this.client.shardOf(cell.id)}`)) continue;
        if (cell.idleSince(now)) {
          cell.passivate();
          n++;
        }
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

  stats() {
    const perKind: Record<string, number> = {};
    for (const [k, m] of this.cells) perKind[k] = m.size;
    return { node: this.nodeId, actors: this.activeCount(), perKind, shards: this.shardSubs.size, ...this.metrics };
  }

  /** Stops taking messages, finishes turns, writes durable state, and leaves. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.sweepTimer !== undefined) this.clock.clearTimeout(this.sweepTimer);
    for (const s of this.shardSubs.values()) s.unsubscribe();
    for (const s of this.pinnedSubs.values()) s.unsubscribe();
    this.shardSubs.clear();
    this.buffers.clear();
    this.pinnedSubs.clear();
    this.taps.stop();
    const all: ActorCell[] = [];
    for (const m of this.cells.values()) all.push(...m.values());
    await Promise.all(
      all.map(async (c) => {
        const image = await c.handOver();
        if (image.dirty && image.record && this.snapshots) {
          await this.snapshots.save(c.kind.name, c.id, image.record, image.revision).catch((err) => {
            this.log.warn({ err, actor: `${c.kind.name}/${c.id}` }, 'final snapshot write failed');
          });
        }
        for (const q of image.queued) {
          if (q.msg.reply) this.respond(q.msg, { ok: false, e: { code: ErrorCode.ActorStopped, message: 'node is stopping' } });
        }
      }),
    );
  }
}
