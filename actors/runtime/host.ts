/**
 * The actor host of one node, composed of three parts: the cell registry (kinds, cells, batched wake-up, idle
 * sweep: cell-registry.ts), the shard inbox (shard subscriptions, migration buffering, release and probes:
 * shard-inbox.ts) and the effect sink (replies, push fan-out, forwarding: effect-sink.ts). The host starts and stops
 * them and keeps one API for the node, the cluster and the gateway.
 *
 * Which shards a host owns is decided outside: a single node owns them all (`ownAllShards`); in a cluster, the
 * ownership layer (cluster/) calls `ownShard` / `releaseShard`.
 */
import type { Logger } from 'pino';
import type { Bus } from '../../bus/bus.js';
import type { Store } from '../../bus/store.js';
import { systemClock, type Clock } from '../../common/clock.js';
import type { CountedSet } from '../../common/counted-set.js';
import { ErrorCode, GatehouseError } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import type { LifecycleHook, RuntimeLimits } from './cell-context.js';
import type { ActorCell, CellImage } from './cell.js';
import { CellRegistry } from './cell-registry.js';
import { ActorClient } from './client.js';
import { EffectSink } from './effect-sink.js';
import { isDurable, type ActorKind } from './kind.js';
import { newRuntimeMetrics } from './metrics.js';
import { ShardInbox } from './shard-inbox.js';
import { ShardProbes } from './shard-probes.js';
import { snapshotBucketNames, SnapshotStore } from './snapshots.js';
import { TraceTaps } from './trace.js';
import { tuneV8ForTurns } from './v8-tuning.js';

export type { GatewayPush } from './effect-sink.js';

export interface HostOptions {
  nodeId: string;
  bus: Bus;
  store?: Store;
  clock?: Clock;
  log?: Logger;
  kinds: ActorKind[];
  /** `pushTickMs`: push batching (config actors.pushTickMs, effect-sink.ts); absent: -1, one bus message per push. */
  limits: RuntimeLimits & { shards: number; pushTickMs?: number };
  /** Runs a start-up store step until it succeeds or the start deadline passes (common/retry.ts); absent: once. */
  startRetry?: <T>(what: string, step: () => Promise<T>) => Promise<T>;
  /** Own every shard of every sharded kind at start (single node, embedded). */
  ownAllShards?: boolean;
  /** Publish every transition, listener or not. */
  traceAlways?: boolean;
  /** Sender id for this host's client (defaults to node id + random incarnation). */
  senderId?: string;
  lifecycle?: LifecycleHook;
  /**
   * Default true: turns V8's allocation-site pretenuring off for the whole process (v8-tuning.ts: ~1.4 µs of a
   * ~8.6 µs embedded tell). False leaves V8's settings alone (an application embedding a node that wants its own).
   */
  v8Tuning?: boolean;
}

export class ActorHost {
  readonly nodeId: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly client: ActorClient;
  readonly metrics = newRuntimeMetrics();
  readonly taps: TraceTaps;
  readonly limits: RuntimeLimits;
  readonly lifecycle?: HostOptions['lifecycle'];
  /** Probes seen by the inbox, for live migration (cluster/migration.ts waits on them). */
  readonly probes: ShardProbes;
  readonly cells: CellRegistry;
  readonly inbox: ShardInbox;
  readonly effects: EffectSink;
  private started = false;
  private stopping = false;
  private stopLeft: Set<ActorCell> | undefined;

  constructor(private readonly o: HostOptions) {
    if (o.v8Tuning !== false) tuneV8ForTurns();
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
    this.effects = new EffectSink(o.bus, this.client, this.log, { tickMs: o.limits.pushTickMs ?? -1, clock: this.clock });
    this.probes = new ShardProbes(o.bus, this.clock, o.nodeId);
    const { nodeId, clock, log, client, taps, limits, metrics, lifecycle, effects } = this;
    this.cells = new CellRegistry({ nodeId, clock, log, client, taps, limits, metrics, lifecycle, effects, snapshots: undefined }, o.kinds, {
      ownsShard: (kind, shard) => this.inbox.ownsShard(kind, shard),
      forward: (kind, id, env, msg) => effects.forward(kind, id, env, msg),
    });
    this.inbox = new ShardInbox({ nodeId, bus: o.bus, log, metrics, cells: this.cells, effects, probes: this.probes });
  }

  get bus(): Bus {
    return this.o.bus;
  }

  get snapshots(): SnapshotStore | undefined {
    return this.cells.context.snapshots;
  }

  /**
   * Makes every delivery and turn of a sharded actor first ask `serving()` (the cluster's fence: cluster/liveness.ts).
   * While it says no, nothing is activated and no turn runs: arriving messages are held until `resumeServing` (then
   * refused as NOT_OWNER if their shard went elsewhere), queued ones refused. Pinned actors are not affected.
   */
  setServingCheck(serving: () => boolean): void {
    this.cells.context.serving = serving;
  }

  /**
   * The node's fence tripped (it cannot confirm it is heard): every sharded actor instance leaves memory at once, so
   * none is live here when another node takes the shard over (see CellRegistry.fence). Messages arriving meanwhile
   * wait in the inbox as before (the serving check). Returns how many instances were closed. `servedUntilMs` is when
   * the serving check started refusing (the lifecycle feed records the fence then: a stalled process closes its
   * instances only once it runs again, but none of them did any work after that time).
   */
  fence(servedUntilMs?: number): number {
    this.lifecycle?.('fenced', '', '', this.nodeId, servedUntilMs);
    const closed = this.cells.fence();
    this.effects.flush(); // the closed instances' last pushes leave before another node can push for them
    return closed;
  }

  /** The cluster confirmed its ownership again (and dropped the shards it lost): held messages go on. */
  resumeServing(): number {
    // Messages queued before the lapse go first, then those that arrived during it.
    return this.cells.resumeParked() + this.inbox.replayHeld();
  }

  /** Shards being moved out or in (a claim per move): their actors are not passivated meanwhile. */
  get moving(): CountedSet {
    return this.cells.moving;
  }

  kind(name: string): ActorKind | undefined {
    return this.cells.kind(name);
  }

  shardedKinds(): string[] {
    return [...this.cells.allKinds()].filter((k) => (k.placement ?? 'sharded') === 'sharded').map((k) => k.name);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const kinds = [...this.cells.allKinds()];
    if (kinds.some(isDurable)) {
      if (!this.o.store) throw new GatehouseError(ErrorCode.StoreError, 'durable actor kinds need a store');
      const store = this.o.store;
      const names = snapshotBucketNames(this.o.limits.snapshotBuckets ?? 1);
      const open = () => Promise.all(names.map((n) => store.bucket(n)));
      // A new replicated stream answers NO_RESPONDERS until it has a leader: wait for it, up to the start deadline.
      const buckets = this.o.startRetry ? await this.o.startRetry(`snapshot buckets (${names.length})`, open) : await open();
      this.cells.context.snapshots = new SnapshotStore(buckets, this.o.limits.shards);
    }
    this.taps.start();
    for (const k of kinds) {
      if (k.placement === 'pinned') this.inbox.ownPinned(k.name);
      else if (this.o.ownAllShards) {
        for (let s = 0; s < this.o.limits.shards; s++) this.inbox.ownShard(k.name, s);
      }
    }
    await this.o.bus.flush();
    this.cells.startSweeping();
  }

  // ---- shards (the inbox) ------------------------------------------------------------------------------------------

  /** See ShardInbox.ownShard: with `buffer`, messages are held until `unbuffer` (the receiving side of a move). */
  ownShard(kind: string, shard: number, opts?: { buffer?: boolean }): void {
    this.inbox.ownShard(kind, shard, opts);
  }

  buffered(kind: string, shard: number): number {
    return this.inbox.buffered(kind, shard);
  }

  unbuffer(kind: string, shard: number): number {
    return this.inbox.unbuffer(kind, shard);
  }

  abandonShard(kind: string, shard: number): void {
    this.inbox.abandonShard(kind, shard);
  }

  dropShard(kind: string, shard: number): number {
    return this.inbox.dropShard(kind, shard);
  }

  ownedShards(): Array<{ kind: string; shard: number }> {
    return this.inbox.ownedShards();
  }

  /**
   * How many shards this node holds, without listing them: the heartbeat's node record reads it 4 times a second,
   * and listing parsed every shard key each time (~6 % of an idle worker's CPU at 64 shards × 10 kinds).
   */
  ownedShardCount(): number {
    return this.inbox.ownedCount;
  }

  suspendShard(kind: string, shard: number): void {
    this.inbox.suspendShard(kind, shard);
  }

  ownsShard(kind: string, shard: number): boolean {
    return this.inbox.ownsShard(kind, shard);
  }

  async releaseShard(kind: string, shard: number): Promise<Array<{ id: string; image: CellImage }>> {
    const images = await this.inbox.releaseShard(kind, shard);
    // The last turns' pushes leave before the hand-over does, so the new owner's pushes come after them.
    this.effects.flush();
    return images;
  }

  // ---- cells (the registry) ----------------------------------------------------------------------------------------

  /**
   * Takes over an actor from a hand-over image (the receiving side of a migration). With `lazy`, the actor stays
   * dormant until its first message: restoring costs tens of µs and most moved actors are idle.
   */
  adopt(kind: string, id: string, image: CellImage | (() => CellImage), opts?: { lazy?: boolean; seen?: Array<[string, number]> }): void {
    this.cells.adopt(kind, id, image, opts);
  }

  /** Creates a pinned actor (e.g. a connection) on this node. */
  spawnPinned(kind: string, id: string, input?: unknown): void {
    const k = this.cells.requireKind(kind);
    if (k.placement !== 'pinned') throw new GatehouseError(ErrorCode.UnknownKind, `${kind} is not a pinned kind`);
    this.cells.cellFor(kind, id).touch(input);
  }

  /** Passivates every actor idle for its passivation time. Returns how many were asked to leave. */
  sweep(): number {
    return this.cells.sweep();
  }

  activeCount(kind?: string): number {
    return this.cells.activeCount(kind);
  }

  stats() {
    return { node: this.nodeId, actors: this.activeCount(), perKind: this.cells.perKind(), shards: this.inbox.ownedCount, ...this.metrics };
  }

  /** While stopping: the actors not yet handed over (count, and a few described), for the stop's log. */
  stopProgress(): { left: number; waitingOn: string[] } | undefined {
    const left = this.stopLeft;
    if (!left) return undefined;
    const waitingOn: string[] = [];
    for (const c of left) {
      if (waitingOn.length === 5) break;
      waitingOn.push(c.describe());
    }
    return { left: left.size, waitingOn };
  }

  /** Stops taking messages, finishes turns, writes durable state, and leaves. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const all = this.cells.stop();
    this.inbox.stop();
    this.taps.stop();
    const snapshots = this.snapshots;
    const left = (this.stopLeft = new Set(all));
    await Promise.all(
      all.map(async (c) => {
        const image = await c.handOver();
        left.delete(c);
        if (image.dirty && image.record && snapshots) {
          await snapshots.save(c.kind.name, c.id, image.record, image.revision).catch((err) => {
            this.log.warn({ err, actor: `${c.kind.name}/${c.id}` }, 'final snapshot write failed');
          });
        }
        for (const q of image.queued) {
          if (q.msg.reply) this.effects.respond(q.msg, { ok: false, e: { code: ErrorCode.ActorStopped, message: 'node is stopping' } });
        }
      }),
    );
    // The last turns' pushes leave now, while the bus is still open (the node drains it after this), and no tick is left.
    this.effects.stop();
  }
}
