/**
 * How a node's actor messages arrive: one wildcard subscription per owned shard (`<kind>.<shard>.*`) and one per
 * pinned kind, each message decoded and delivered to its actor's cell. This is also the side live migration works
 * with: a shard can be subscribed in *buffer* mode (held, in arrival order, until the old owner's hand-over is
 * adopted, then replayed), released (its live actors handed over as images), dropped or abandoned; probes arriving on
 * a shard's subject are recorded for the move waiting on them.
 */
import type { Logger } from 'pino';
import type { Bus, BusMsg, Subscription } from '../../bus/bus.js';
import { decodeId, PROBE_TOKEN, subjects } from '../../bus/subjects.js';
import { ErrorCode } from '../../common/errors.js';
import type { CellImage } from './cell.js';
import type { CellRegistry } from './cell-registry.js';
import type { EffectSink } from './effect-sink.js';
import { checkEnvelope, decodeEnvelope, type Envelope } from './envelope.js';
import { isDurable } from './kind.js';

const isInspect = (env: Envelope) => (env.m as { type?: unknown } | null)?.type === '$inspect';
import type { RuntimeMetrics } from './metrics.js';
import { parseShardKey, shardKey } from './shard-key.js';
import type { ShardProbes } from './shard-probes.js';

/** Messages held during a lapse, at most (about two seconds of a busy node's traffic); more are refused. */
const HELD_MAX = 20_000;

export interface InboxOptions {
  nodeId: string;
  bus: Bus;
  log: Logger;
  metrics: RuntimeMetrics;
  cells: CellRegistry;
  effects: EffectSink;
  /** Where probes seen on an owned or buffered shard go. */
  probes: ShardProbes;
}

export class ShardInbox {
  private readonly shardSubs = new Map<string, Subscription>();
  /** Shards being moved in: messages wait here (arrival order) until the old owner's hand-over is adopted. */
  private readonly buffers = new Map<string, BusMsg[]>();
  private readonly pinnedSubs = new Map<string, Subscription>();
  /** Messages that arrived while this node could not confirm its ownership (see `hold`). */
  private held: Array<{ kind: string; shard: number; key: string; msg: BusMsg }> = [];
  private stopped = false;
  // Fields of their own rather than reads through the options: the cells and probes are used on every message.
  private readonly cells: CellRegistry;
  private readonly probes: ShardProbes;
  private readonly effects: EffectSink;

  constructor(private readonly o: InboxOptions) {
    this.cells = o.cells;
    this.probes = o.probes;
    this.effects = o.effects;
  }

  /**
   * Starts receiving a shard's messages. With `buffer`, messages are held (not processed) until `unbuffer`: the
   * receiving side of a live migration subscribes before the old owner lets go.
   */
  ownShard(kind: string, shard: number, opts?: { buffer?: boolean }): void {
    const key = shardKey(kind, shard);
    if (this.shardSubs.has(key) || this.stopped) return;
    if (opts?.buffer) this.buffers.set(key, []);
    this.shardSubs.set(
      key,
      this.o.bus.subscribe(subjects.shard(kind, shard), (m) => this.onShardMessage(kind, shard, key, m)),
    );
  }

  /** Starts receiving a pinned kind's messages for this node. */
  ownPinned(kind: string): void {
    this.pinnedSubs.set(kind, this.o.bus.subscribe(subjects.pinnedAll(kind, this.o.nodeId), (m) => this.onPinnedMessage(kind, m)));
  }

  /** Buffered messages so far (for bounds and progress). */
  buffered(kind: string, shard: number): number {
    return this.buffers.get(shardKey(kind, shard))?.length ?? 0;
  }

  /** Ends buffering: replays held messages in arrival order (duplicates are dropped by the cells), then goes live. */
  unbuffer(kind: string, shard: number): number {
    const key = shardKey(kind, shard);
    const held = this.buffers.get(key);
    if (!held) return 0;
    this.buffers.delete(key);
    for (const m of held) this.onShardMessage(kind, shard, key, m);
    return held.length;
  }

  /** Gives up a buffered shard whose move was aborted: nothing was processed here, the old owner keeps it. */
  abandonShard(kind: string, shard: number): void {
    const key = shardKey(kind, shard);
    this.buffers.delete(key);
    this.unsubscribe(key);
  }

  /**
   * Stops owning a shard without a hand-over (its lease went elsewhere while this node was cut off, or a move was
   * reverted): live actors leave; durable ones are in the store, queued asks are told to retry.
   */
  dropShard(kind: string, shard: number): number {
    this.abandonShard(kind, shard);
    const cells = this.cells.ofShard(kind, shard);
    for (const c of cells) c.close({ code: ErrorCode.NotOwner, message: `${kind}/${c.id} moved; retry` });
    return cells.length;
  }

  ownedShards(): Array<{ kind: string; shard: number }> {
    return [...this.shardSubs.keys()].map(parseShardKey);
  }

  get ownedCount(): number {
    return this.shardSubs.size;
  }

  /**
   * Stops receiving a shard but keeps its actors in memory, as an owner cut off by a partition would. Their next
   * snapshot write is fenced if a newer owner wrote meanwhile. (Used by fencing tests and lease loss.)
   */
  suspendShard(kind: string, shard: number): void {
    this.unsubscribe(shardKey(kind, shard));
  }

  ownsShard(kind: string, shard: number): boolean {
    return this.shardSubs.has(shardKey(kind, shard));
  }

  /** Stops receiving a shard and hands over its live actors (for migration); they are closed here. */
  async releaseShard(kind: string, shard: number): Promise<Array<{ id: string; image: CellImage }>> {
    const key = shardKey(kind, shard);
    this.unsubscribe(key);
    this.buffers.delete(key);
    const out: Array<{ id: string; image: CellImage }> = [];
    const waiting: Array<Promise<unknown>> = [];
    for (const c of this.cells.ofShard(kind, shard)) {
      // Most cells are between turns and hand over at once; a promise each for 10 k actors showed in profiles.
      const image = c.handOverNow();
      if (image) out.push({ id: c.id, image });
      else waiting.push(c.handOver().then((img) => out.push({ id: c.id, image: img })));
    }
    if (waiting.length) await Promise.all(waiting);
    return out;
  }

  /** Unsubscribes everything; no shard can be owned afterwards. */
  stop(): void {
    this.stopped = true;
    for (const s of this.shardSubs.values()) s.unsubscribe();
    for (const s of this.pinnedSubs.values()) s.unsubscribe();
    this.shardSubs.clear();
    this.buffers.clear();
    for (const h of this.held) this.refuseUnconfirmed(h.msg);
    this.held = [];
    this.pinnedSubs.clear();
  }

  private unsubscribe(key: string): void {
    this.shardSubs.get(key)?.unsubscribe();
    this.shardSubs.delete(key);
  }

  private onShardMessage(kind: string, shard: number, key: string, msg: BusMsg): void {
    const token = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
    if (token === PROBE_TOKEN) {
      this.probes.seen(kind, shard, msg.data);
      return;
    }
    // Buffers exist only while a shard moves in: no lookup for the others' messages the rest of the time.
    const held = this.buffers.size === 0 ? undefined : this.buffers.get(key);
    if (held) {
      held.push(msg);
      return;
    }
    const serving = this.cells.context.serving;
    if (serving !== undefined && !serving()) return this.hold(kind, shard, key, msg);
    const env = this.decode(msg);
    if (!env) return;
    const id = decodeId(token);
    if (isInspect(env) && !this.cells.existing(kind, id)) return this.inspectAbsent(kind, id, env, msg);
    this.cells.cellFor(kind, id).deliver(env, msg);
  }

  /**
   * `$inspect` (gatehouse inspect) of an actor with no cell here must not create it: a durable actor is activated
   * only if the store holds its snapshot; otherwise (or for an in-memory kind) the asker hears NOT_FOUND.
   */
  private inspectAbsent(kind: string, id: string, env: Envelope, msg: BusMsg): void {
    const notFound = () => {
      if (msg.reply) this.effects.respond(msg, { ok: false, e: { code: ErrorCode.NotFound, message: `no actor ${kind}/${id}` } });
    };
    const k = this.cells.kind(kind);
    const snapshots = this.cells.context.snapshots;
    if (!k || !isDurable(k) || !snapshots) return notFound();
    snapshots.load(kind, id).then(
      (found) => (found || this.cells.existing(kind, id) ? this.cells.cellFor(kind, id).deliver(env, msg) : notFound()),
      (err: unknown) => {
        if (msg.reply) this.effects.respond(msg, { ok: false, e: { code: ErrorCode.StoreError, message: `inspect ${kind}/${id}: ${(err as Error).message}` } });
      },
    );
  }

  /**
   * This node cannot confirm it still owns its shards (cut off, or just woken from a stall): nothing is activated or
   * processed. Messages wait here, in arrival order and bounded, until the cluster has re-read the leases
   * (`replayHeld`); past the bound they are refused as below.
   */
  private hold(kind: string, shard: number, key: string, msg: BusMsg): void {
    this.o.metrics.unconfirmed++;
    if (this.held.length < HELD_MAX) this.held.push({ kind, shard, key, msg });
    else this.refuseUnconfirmed(msg);
  }

  /**
   * After a lapse: messages held meanwhile go to the shards still owned here; the others are refused. An asker hears
   * NOT_OWNER (nothing was applied; a retry finds the owner); a tell is dropped, as a tell to a node that died would be.
   */
  replayHeld(): number {
    const held = this.held;
    this.held = [];
    for (const h of held) {
      if (this.shardSubs.has(h.key)) this.onShardMessage(h.kind, h.shard, h.key, h.msg);
      else this.refuseUnconfirmed(h.msg);
    }
    return held.length;
  }

  private refuseUnconfirmed(msg: BusMsg): void {
    if (msg.reply) this.effects.respond(msg, { ok: false, e: { code: ErrorCode.NotOwner, message: 'owner not confirmed; retry' } });
  }

  private onPinnedMessage(kind: string, msg: BusMsg): void {
    const env = this.decode(msg);
    if (!env) return;
    const id = decodeId(msg.subject.slice(msg.subject.lastIndexOf('.') + 1));
    const cell = this.cells.existing(kind, id);
    if (cell) cell.deliver(env, msg);
    else if (msg.reply) {
      // Pinned actors are never activated by a message: a connection that is gone stays gone.
      this.effects.respond(msg, { ok: false, e: { code: ErrorCode.ActorStopped, message: `${kind}/${id} does not exist on ${this.o.nodeId}` } });
    }
  }

  private decode(msg: BusMsg): Envelope | undefined {
    try {
      // In process (the in-memory bus, ActorClient.tell): the envelope itself, a copy made on send.
      return msg.value !== undefined ? checkEnvelope(msg.value as Envelope) : decodeEnvelope(msg.data);
    } catch (err) {
      this.o.metrics.badMessages++;
      if (msg.reply) this.effects.respond(msg, { ok: false, e: { code: ErrorCode.BadMessage, message: (err as Error).message } });
      else this.o.log.debug({ err, subject: msg.subject }, 'undecodable actor message dropped');
      return undefined;
    }
  }
}
