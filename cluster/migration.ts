/**
 * Live migration of shards between nodes: nothing lost, nothing applied twice, per-sender order kept, and never two
 * live instances of an actor. The protocol (docs/ARCHITECTURE.md, "Live migration"):
 *
 * 1. The new owner B subscribes to each moving shard in *buffer* mode (held, not processed) and flushes.
 * 2. Every live node publishes a probe on each shard's own subject. A probe from node N reaching B proves N's NATS
 *    server routes that shard's traffic to B (a flush only proves B's own server knows); the same probe reaching the
 *    old owner A proves every message N published before it has reached A (per-publisher order).
 * 3. A waits for all probes of a shard, unsubscribes, lets the turn in progress finish, and sends each actor's image
 *    (snapshot, timers, per-sender marks, unprocessed messages) to B, shard by shard. B acknowledges each adopted
 *    shard, and A keeps at most `handoverWindowActors` actors unacknowledged: a shard released before B can take it
 *    only pauses longer (B adopts more slowly than A releases, since shards adopted late replay longer buffers).
 * 4. B adopts the images, then replays its buffer: messages A already applied are dropped by (sender, seq), the rest
 *    apply in order. B then takes the lease with compare-and-set.
 *
 * A's messages are a prefix of each sender's stream and B's buffer a suffix that starts no later than the probe, so
 * together they cover everything; the sequence marks make the overlap harmless.
 */
import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.js';
import { decode, encode } from '../bus/codec.js';
import { subjects } from '../bus/subjects.js';
import type { Clock } from '../common/clock.js';
import type { ActorHost } from '../actors/runtime/host.js';
import type { CellImage } from '../actors/runtime/cell.js';
import type { Envelope } from '../actors/runtime/envelope.js';
import type { StoredActor } from '../actors/runtime/snapshots.js';
import { forEachBounded, withinMs } from '../common/bounded.js';
import { CountedSet } from '../common/counted-set.js';
import { AckWindow } from './ack-window.js';
import { unitKey, type ShardUnit } from './allocation.js';
import { callNode } from './control.js';
import type { LeaseTable } from './leases.js';
import type { Membership } from './membership.js';

export interface MoveUnit extends ShardUnit {
  /** Revision of the 'moving' lease the balancer wrote: the new owner's lease flip is compare-and-set on it. */
  rev: number;
}

/** An actor image as it crosses the bus. */
type WireImage = [record: StoredActor | null, revision: number, queued: Array<[Envelope, string | undefined]>, dirty: boolean];

/**
 * One actor in a hand-over: its id, whether it needs restoring at once (queued messages, pending timers, unsaved
 * changes), and its image encoded on its own, so the new owner decodes it only when the actor is next used.
 */
type WireActor = [id: string, needsWork: boolean, seen: Array<[string, number]>, image: Uint8Array];

/** One message of a hand-over. */
interface Chunk {
  u: string;
  c: WireActor[];
  last: boolean;
}

export interface MigrationOptions {
  probeTimeoutMs: number;
  handoverTimeoutMs: number;
  chunkBytes: number;
  /** Actors handed over but not yet adopted by the new owner, at most (a shard is never split: one bigger than the
   * window goes alone). */
  handoverWindowActors: number;
  /** How long the old owner waits for an acknowledgement before it goes on anyway (acks pace, they do not guard). */
  ackWaitMs: number;
}

export interface MigrationContext {
  host: ActorHost;
  /** The data connection: probes travel here, behind the actor messages they vouch for. */
  bus: Bus;
  /** The control connection: node requests, hand-over chunks and their acknowledgements, never behind actor traffic. */
  control: Bus;
  nodeId: string;
  log: Logger;
  clock: Clock;
  leases: LeaseTable;
  membership: Membership;
}

export interface MoveStats {
  units: number;
  actors: number;
  replayed: number;
  failed: string[];
  /** Where the time went (ms): subscribing in buffer mode, the probe round, the old owner's hand-over call, and the
   * new owner's own work adopting images and replaying buffers. */
  subscribeMs: number;
  probeMs: number;
  handoverMs: number;
  adoptMs: number;
  replayMs: number;
  /** Taking the leases of the adopted units, after the hand-over. */
  leaseMs: number;
}

export class Migrator {
  /** Unit keys with a move in progress on this node (either side, a claim per move): the reconcile loop leaves them
   * alone. */
  private readonly active = new CountedSet();

  constructor(
    private readonly ctx: MigrationContext,
    /** From config (`cluster.migration`, defaults in config/defaults.ts). */
    private readonly o: MigrationOptions,
  ) {}

  busy(key: string): boolean {
    return this.active.has(key);
  }

  /** Any node: publish a probe on each unit's subject, flushed before we answer. The probes arrive in the hosts'
   * shard inboxes (host.probes). */
  probe(units: ShardUnit[], mid: string): Promise<void> {
    return this.ctx.host.probes.publish(units, mid);
  }

  private waitProbes(mid: string, keys: string[], nodes: string[]): Promise<void> {
    return this.ctx.host.probes.wait(mid, keys, nodes, this.o.probeTimeoutMs);
  }

  /** New owner: runs the whole move of `units` from `from` to this node. */
  async moveIn(from: string, units: MoveUnit[], mid: string): Promise<MoveStats> {
    const { host, bus, control, nodeId, log } = this.ctx;
    const keys = units.map(unitKey);
    const byKey = new Map(units.map((u) => [unitKey(u), u]));
    const images = new Map<string, WireActor[]>();
    /** Units adopted here; their leases are flipped at the end (see flipLeases). */
    const finished = new Set<string>();
    const stats: MoveStats = { units: 0, actors: 0, replayed: 0, failed: [], subscribeMs: 0, probeMs: 0, handoverMs: 0, adoptMs: 0, replayMs: 0, leaseMs: 0 };
    const clockMs = () => performance.now();
    let t = clockMs();
    const lap = (k: 'subscribeMs' | 'probeMs' | 'handoverMs') => {
      const now = clockMs();
      stats[k] = Math.round(now - t);
      t = now;
    };
    for (const k of keys) {
      this.active.add(k);
      host.moving.add(k);
    }
    let allDone: () => void = () => undefined;
    const done = new Promise<void>((r) => (allDone = r));
    const sub = control.subscribe(subjects.handover(nodeId, mid), (m) => {
      let chunk: Chunk;
      try {
        chunk = decode<Chunk>(m.data);
      } catch (err) {
        log.error({ err, mid }, 'unreadable hand-over chunk');
        return;
      }
      const u = byKey.get(chunk.u);
      if (!u || finished.has(chunk.u)) return;
      const list = images.get(chunk.u) ?? [];
      list.push(...chunk.c);
      images.set(chunk.u, list);
      if (!chunk.last) return;
      this.adopt(u, list, stats);
      finished.add(chunk.u);
      control.publish(subjects.handoverAck(from, mid), encode(chunk.u));
      images.delete(chunk.u);
      if (finished.size === keys.length) allDone();
    });
    try {
      for (const u of units) host.ownShard(u.kind, u.shard, { buffer: true });
      // A flush waits for the server's answer; a connection stuck reconnecting must abort the move, not hold it.
      await withinMs(this.ctx.clock, this.o.probeTimeoutMs, 'move-in: flushing the new subscriptions', Promise.all([bus.flush(), control.flush()]));
      lap('subscribeMs');
      const nodes = (await this.ctx.membership.view()).map((r) => r.id);
      if (!nodes.includes(nodeId)) nodes.push(nodeId);
      const plain = units.map(({ kind, shard }) => ({ kind, shard }));
      await Promise.all(
        nodes.map((n) => (n === nodeId ? this.probe(plain, mid) : callNode(control, n, { type: 'probe', units: plain, mid }, this.o.probeTimeoutMs))),
      );
      await this.waitProbes(mid, keys, nodes);
      lap('probeMs');
      await callNode(control, from, { type: 'handover', units: plain, mid, probers: nodes, to: nodeId }, this.o.handoverTimeoutMs);
      // Chunks were published before the reply by the same connection; the bound only guards against a lost chunk.
      let timer: unknown;
      await Promise.race([done, new Promise<void>((r) => (timer = this.ctx.clock.setTimeout(r, this.o.probeTimeoutMs)))]);
      this.ctx.clock.clearTimeout(timer);
      lap('handoverMs');
      stats.failed = keys.filter((k) => !finished.has(k));
      return stats;
    } catch (err) {
      log.warn({ err, mid, from, units: keys.length }, 'move aborted');
      stats.failed = keys.filter((k) => !finished.has(k));
      throw err;
    } finally {
      sub.unsubscribe();
      // Whatever was adopted is this node's now (the old owner let it go), also when the move failed part-way.
      const t0 = clockMs();
      await this.flipLeases(units.filter((u) => finished.has(unitKey(u))));
      stats.leaseMs = Math.round(clockMs() - t0);
      log.info({ mid, from, ...stats, failed: stats.failed.length }, 'move-in ended');
      for (const k of keys) {
        if (!finished.has(k)) {
          const u = byKey.get(k)!;
          host.abandonShard(u.kind, u.shard);
        }
        this.active.delete(k);
        host.moving.delete(k);
      }
      host.probes.forget(mid);
    }
  }

  /** Takes a unit's actors from their images and replays what was buffered for it; synchronous. */
  private adopt(u: MoveUnit, list: WireActor[], stats: MoveStats): void {
    const { host, log } = this.ctx;
    const t0 = performance.now();
    if (!host.ownsShard(u.kind, u.shard)) {
      // Something dropped the buffering subscription mid-move (it must not: moves claim their shards). Messages sent
      // meanwhile had no subscriber; take the shard live now so the handed-over actors are not lost as well.
      log.error({ shard: unitKey(u) }, 'shard subscription lost during a move-in: adopting into a new subscription');
      host.ownShard(u.kind, u.shard);
    }
    for (const [id, needsWork, seen, blob] of list) host.adopt(u.kind, id, () => fromWire(blob), { lazy: !needsWork, seen });
    stats.actors += list.length;
    const t1 = performance.now();
    stats.replayed += host.unbuffer(u.kind, u.shard);
    stats.adoptMs += t1 - t0;
    stats.replayMs += performance.now() - t1;
    stats.units++;
  }

  /**
   * Takes the leases of adopted units (compare-and-set on the balancer's 'moving' revision), after the hand-over
   * rather than during it: a store write costs the event loop ~0.3 ms, and 192 of them in the middle of the move kept
   * the next shard's adoption waiting. Until then the lease still reads 'moving', which no node acts on.
   */
  private async flipLeases(units: MoveUnit[]): Promise<void> {
    const { host, leases, nodeId, log, clock } = this.ctx;
    const flip = async (u: MoveUnit) => {
      const key = unitKey(u);
      const rev = await leases.write(key, { o: nodeId, st: 'owned', t: clock.now() }, u.rev).catch((err) => {
        log.error({ err, key }, 'lease flip failed');
        return undefined;
      });
      if (rev === undefined) {
        // The balancer reverted this move meanwhile: the shard is someone else's again.
        log.warn({ key }, 'lease changed during the move: dropping the shard');
        host.dropShard(u.kind, u.shard);
      }
    };
    await forEachBounded(units, LEASE_WRITES_IN_FLIGHT, flip);
  }

  /** Old owner: hands over each unit once every prober's probe has arrived here. */
  async handover(units: ShardUnit[], mid: string, probers: string[], to: string): Promise<{ actors: number }> {
    const { host, control, nodeId } = this.ctx;
    let actors = 0;
    const keys = units.map(unitKey);
    for (const k of keys) {
      this.active.add(k);
      host.moving.add(k);
    }
    const window = new AckWindow(this.ctx.clock, this.o.handoverWindowActors, this.o.ackWaitMs);
    const acks = control.subscribe(subjects.handoverAck(nodeId, mid), (m) => {
      try {
        window.acked(decode(m.data));
      } catch {
        /* not an ack of ours */
      }
    });
    try {
      for (const u of units) {
        await window.open();
        const key = unitKey(u);
        await this.waitProbes(mid, [key], probers);
        const cells = await host.releaseShard(u.kind, u.shard);
        actors += cells.length;
        window.sent(key, cells.length);
        this.sendChunks(control, to, mid, key, cells);
        // Let the socket write this shard's chunks now: without a turn of the event loop nats.js would send every
        // shard's chunks together at the end, and every actor would pause for the whole hand-over.
        if (cells.length) await new Promise((r) => setImmediate(r));
      }
      await withinMs(this.ctx.clock, this.o.handoverTimeoutMs, 'hand-over: flushing the chunks', control.flush());
      return { actors };
    } finally {
      acks.unsubscribe();
      for (const k of keys) {
        this.active.delete(k);
        host.moving.delete(k);
      }
      host.probes.forget(mid);
    }
  }

  private sendChunks(bus: Bus, to: string, mid: string, key: string, cells: Array<{ id: string; image: CellImage }>): void {
    const subject = subjects.handover(to, mid);
    let batch: WireActor[] = [];
    let bytes = 0;
    for (const { id, image } of cells) {
      const w: WireImage = [image.record, image.revision, image.queued.map((q) => [q.env, q.msg.reply]), image.dirty === true];
      const blob = encode(w);
      const needsWork = image.queued.length > 0 || image.dirty === true || (image.record?.t.length ?? 0) > 0;
      batch.push([id, needsWork, image.record?.d ?? [], blob]);
      bytes += blob.length + id.length + 8;
      if (bytes >= this.o.chunkBytes) {
        bus.publish(subject, encode({ u: key, c: batch, last: false } satisfies Chunk));
        batch = [];
        bytes = 0;
      }
    }
    bus.publish(subject, encode({ u: key, c: batch, last: true } satisfies Chunk));
  }
}

const EMPTY = new Uint8Array(0);
const LEASE_WRITES_IN_FLIGHT = 32;

function fromWire(blob: Uint8Array): CellImage {
  const [record, revision, queued, dirty] = decode<WireImage>(blob);
  return { record, revision, dirty, queued: queued.map(([env, reply]) => ({ env, msg: { subject: '', data: EMPTY, reply } })) };
}
