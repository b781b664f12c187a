/**
 * The balancer runs on the elected leader. Each tick it compares the shard leases with the target allocation
 * (weighted rendezvous over live worker nodes that are not draining, overridden by operator pins) and:
 * - assigns shards that have no live owner (fail-over: durable actors come back from their last snapshot);
 * - starts live moves for shards on the wrong node, at most `maxConcurrentMoves` in flight, one request per
 *   (from, to) pair so one probe round covers a whole batch;
 * - reverts moves that failed or got stuck (e.g. their leader died).
 * Every lease write is compare-and-set, so two leaders at once cannot both win a decision.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.js';
import type { KvBucket } from '../bus/store.js';
import type { Clock } from '../common/clock.js';
import { allocate, allUnits, parseUnitKey, plan, unitKey, type LeaseView, type NodeWeight } from './allocation.js';
import { callNode } from './control.js';
import { forEachBounded } from '../common/bounded.js';
import type { LeaseTable } from './leases.js';
import type { MoveStats, MoveUnit } from './migration.js';
import type { NodeRecord } from './records.js';

export interface BalancerContext {
  bus: Bus;
  nodeId: string;
  log: Logger;
  clock: Clock;
  leases: LeaseTable;
  pins: KvBucket;
  kinds: () => string[];
  shards: number;
  /** Whether a node was heard within deadAfterMs now (liveness); a take-over from a node heard again is skipped. */
  heardRecently?: (node: string) => boolean;
}

/** Assignment writes in flight at once: a whole dead worker's shards in one or two round trips, without a burst of
 * hundreds of requests on a first start (832 shards on a 2-node start). */
const ASSIGN_WRITES_IN_FLIGHT = 32;

export interface BalancerOptions {
  maxConcurrentMoves: number;
  moveTimeoutMs: number;
}

export class Balancer {
  private readonly inFlight = new Map<string, { from: string; to: string; keys: string[] }>();
  /** Totals since this node became leader, for status and tests. */
  readonly totals = { assigned: 0, moved: 0, movesFailed: 0, actorsMoved: 0 };

  constructor(
    private readonly ctx: BalancerContext,
    private readonly o: BalancerOptions,
  ) {}

  private stopped = false;

  /** This node is leaving: moves it started may still land, so it must not revert them on the way out. */
  stop(): void {
    this.stopped = true;
  }

  get movesInFlight(): number {
    return this.inFlight.size;
  }

  async tick(nodes: NodeRecord[]): Promise<void> {
    const { leases, clock, log } = this.ctx;
    const alive = new Set(nodes.map((n) => n.id));
    const workers: NodeWeight[] = nodes.filter((n) => n.roles.includes('worker') && !n.draining).map((n) => ({ id: n.id, capacity: n.capacity }));
    const draining = new Set(nodes.filter((n) => n.draining).map((n) => n.id));
    if (workers.length === 0) return;
    const target = allocate(allUnits(this.ctx.kinds(), this.ctx.shards), workers);
    for (const e of await this.ctx.pins.entries().catch(() => [])) {
      const node = new TextDecoder().decode(e.value);
      if (target.has(e.key) && workers.some((w) => w.id === node)) target.set(e.key, node);
    }
    const views = new Map<string, LeaseView>();
    const now = clock.now();
    for (const [key, c] of leases.entries()) {
      const l = c.lease;
      if (l.st === 'moving' && l.mid && !this.inFlight.has(l.mid) && now - l.t > this.o.moveTimeoutMs) {
        await this.revert(key, alive, target);
        continue;
      }
      views.set(key, { owner: l.o, moving: l.st === 'moving' });
    }
    const p = plan(target, views, alive, { maxMoves: this.o.maxConcurrentMoves, draining });
    // One line per round at info (a first round assigns every shard: 832 lines on a 2-node start), each shard at debug.
    const assignedTo: Record<string, number> = {};
    let failed = 0;
    let firstErr: unknown;
    // Take-overs in parallel (a bounded pool): one at a time, a dead worker's ~60 shards took 0.3-0.6 s of store round
    // trips at load average 17, every shard of it unreachable meanwhile. Each is still its own compare-and-set, with
    // the liveness re-check right before it; a failed write no longer stops the others (the next round retries it).
    await forEachBounded(p.assign, ASSIGN_WRITES_IN_FLIGHT, async (a) => {
      const cur = leases.get(a.key);
      // The view is from the start of this round and writes take time: never take a shard from a node heard since.
      if (cur && cur.lease.o !== a.to && this.ctx.heardRecently?.(cur.lease.o)) return;
      const rev = await leases.write(a.key, { o: a.to, st: 'owned', t: now }, cur?.revision ?? 0).catch((err: unknown) => {
        failed++;
        firstErr ??= err;
        return undefined;
      });
      if (rev !== undefined) {
        this.totals.assigned++;
        assignedTo[a.to] = (assignedTo[a.to] ?? 0) + 1;
        log.debug({ shard: a.key, to: a.to, from: cur?.lease.o ?? null }, 'shard assigned');
      }
    });
    const assigned = Object.values(assignedTo).reduce((a, b) => a + b, 0);
    if (assigned > 0) log.info({ assigned, to: assignedTo, ms: clock.now() - now }, `${assigned} shards assigned`);
    if (failed > 0) log.warn({ err: firstErr, failed }, 'shard assignment writes failed (retried next round)');
    // Not awaited (a move takes seconds), so it must never reject: an unhandled rejection ends the process.
    for (const m of p.moves) void this.startMove(m.from, m.to, m.keys, alive, target).catch((err) => log.error({ err, from: m.from, to: m.to }, 'move bookkeeping failed'));
  }

  private async startMove(from: string, to: string, keys: string[], alive: Set<string>, target: Map<string, string>): Promise<void> {
    const { leases, clock, log, bus } = this.ctx;
    const mid = randomBytes(6).toString('hex');
    const units: MoveUnit[] = [];
    for (const key of keys) {
      const cur = leases.get(key);
      if (!cur || cur.lease.st !== 'owned' || cur.lease.o !== from) continue;
      // A store error (a lease stream electing its leader: 503, or a timeout while a NATS server is cut off) skips this
      // shard until a later round. It used to reject this un-awaited call, and the unhandled rejection killed the leader.
      const rev = await leases.write(key, { o: from, st: 'moving', to, mid, t: clock.now() }, cur.revision).catch((err: unknown) => {
        log.warn({ err, key, from, to }, 'cannot mark a shard moving; left where it is this round');
        return undefined;
      });
      if (rev !== undefined) units.push({ ...parseUnitKey(key), rev });
    }
    if (units.length === 0) return;
    this.inFlight.set(mid, { from, to, keys });
    const started = clock.now();
    try {
      const stats = await callNode<MoveStats>(bus, to, { type: 'move-in', from, units, mid }, this.o.moveTimeoutMs);
      this.totals.moved += stats.units;
      this.totals.actorsMoved += stats.actors;
      log.info({ mid, from, to, shards: stats.units, actors: stats.actors, replayed: stats.replayed, ms: clock.now() - started }, 'shards moved');
    } catch (err) {
      this.totals.movesFailed++;
      log.warn({ err, mid, from, to, shards: units.length }, 'move failed; reverting what did not move');
    } finally {
      this.inFlight.delete(mid);
      // A stopping leader leaves unfinished moves to the next one (stale 'moving' leases are reverted after
      // moveTimeoutMs); reverting now could undo a move that is about to complete.
      for (const u of this.stopped ? [] : units) {
        const key = unitKey(u);
        const cur = leases.get(key);
        // A failed revert leaves a stale 'moving' lease, reverted by a later round after moveTimeoutMs.
        if (cur?.lease.st === 'moving' && cur.lease.mid === mid) await this.revert(key, alive, target).catch((err) => log.warn({ err, key, mid }, 'cannot revert a move; a later round will'));
      }
    }
  }

  /** Ends a move that did not complete: back to the old owner if it lives, else to the target. */
  private async revert(key: string, alive: Set<string>, target: Map<string, string>): Promise<void> {
    const cur = this.ctx.leases.get(key);
    if (!cur || cur.lease.st !== 'moving') return;
    const owner = alive.has(cur.lease.o) ? cur.lease.o : (target.get(key) ?? cur.lease.o);
    await this.ctx.leases.write(key, { o: owner, st: 'owned', t: this.ctx.clock.now() }, cur.revision);
  }
}
