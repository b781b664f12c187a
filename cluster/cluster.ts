/**
 * The cluster layer of a node (a NodeComponent): membership heartbeat, leader election, the balancer (leader only),
 * live migration, and the reconcile loop that keeps this node's shard subscriptions equal to the leases it holds.
 */
import { hostname } from 'node:os';
import type { TimerHandle } from '../common/clock.js';
import type { NodeComponent, NodeContext } from '../node-api/node.js';
import type { ShardUnit } from './allocation.js';
import { Balancer } from './balancer.js';
import { Control } from './control.js';
import { LeaderElection } from './leader.js';
import { LeaseTable } from './leases.js';
import { Membership } from './membership.js';
import { Migrator, type MoveUnit } from './migration.js';
import { BUCKETS, type NodeRecord } from './records.js';
import { parseUnitKey } from './allocation.js';

/** A cluster loop round taking longer than this is reported (every this long) until it ends. */
const STUCK_MS = 15_000;

export interface ClusterComponent extends NodeComponent {
  /** Resolves when a drain finished: this node owns no shard any more. */
  readonly drained: Promise<void>;
  readonly isLeader: boolean;
  drain(): void;
}

export interface ClusterOptions {
  /** Called once a drain completed (the CLI exits 0). */
  onDrained?: () => void;
}

export async function startCluster(ctx: NodeContext, opts: ClusterOptions = {}): Promise<ClusterComponent> {
  const { config, store, bus, control: controlBus, host, clock, log, id } = ctx;
  const c = config.cluster;
  const [nodesB, clusterB, leasesB, pinsB] = await Promise.all([
    store.bucket(BUCKETS.nodes, { ttlMs: c.deadAfterMs }),
    store.bucket(BUCKETS.cluster, { ttlMs: c.deadAfterMs }),
    store.bucket(BUCKETS.leases),
    store.bucket(BUCKETS.pins),
  ]);
  const worker = config.node.roles.includes('worker');
  const startedAt = clock.now();
  let draining = false;
  let lastProcessed = host.metrics.processed;
  let lastAt = clock.now();
  let rate = 0;
  const self = (): NodeRecord => ({
    id,
    roles: config.node.roles,
    capacity: config.node.capacity,
    draining,
    startedAt,
    pid: process.pid,
    host: hostname(),
    load: { actors: host.activeCount(), shards: host.ownedShards().length, msgsPerSec: Math.round(rate) },
  });
  const membership = new Membership(nodesB, self, clock, log, { heartbeatMs: c.heartbeatMs, deadAfterMs: c.deadAfterMs });
  const leader = new LeaderElection(clusterB, id, log);
  const leases = new LeaseTable(leasesB, log);
  const control = new Control(controlBus, id, log);
  const migrator = new Migrator({ host, bus, control: controlBus, nodeId: id, log, clock, leases, membership }, c.migration);
  const balancer = new Balancer(
    { bus: controlBus, nodeId: id, log, clock, leases, pins: pinsB, kinds: () => host.shardedKinds(), shards: config.actors.shards },
    { maxConcurrentMoves: c.maxConcurrentMoves, moveTimeoutMs: Math.max(30_000, c.deadAfterMs * 4) },
  );

  let stopped = false;
  let resolveDrained!: () => void;
  const drained = new Promise<void>((r) => (resolveDrained = r));

  /** Ownership rounds run so far (status: a test, or an operator, can see the loop is alive). */
  let reconciles = 0;
  const reconcile = () => {
    if (stopped) return;
    reconciles++;
    let owned = 0;
    for (const [key, { lease }] of leases.entries()) {
      // A lease naming this node counts even while its shard is being moved: a drain is complete only when the
      // new owner has taken every lease, not when this node has merely sent everything (stopping then would make
      // the leader revert moves still landing, and the new owner would drop shards it had just adopted).
      if (lease.o === id) owned++;
      if (migrator.busy(key)) continue;
      const { kind, shard } = parseUnitKey(key);
      if (!host.kind(kind)) continue;
      const owns = host.ownsShard(kind, shard);
      if (lease.o === id) {
        if (lease.st === 'owned' && !owns && worker) host.ownShard(kind, shard);
      } else if (owns) {
        log.warn({ shard: key, owner: lease.o }, 'lease is elsewhere: dropping shard');
        host.dropShard(kind, shard);
      }
    }
    if (draining && owned === 0 && host.ownedShards().length === 0) {
      draining = false;
      log.info('drain complete: no shards left');
      resolveDrained();
      opts.onDrained?.();
    }
  };
  let reconcileQueued = false;
  const reconcileSoon = () => {
    if (reconcileQueued) return;
    reconcileQueued = true;
    queueMicrotask(() => {
      reconcileQueued = false;
      reconcile();
    });
  };
  leases.onChange = reconcileSoon;
  membership.onLostMembership = (why) => {
    if (why === 'store unreachable') {
      // Cut off from the store: others will declare us dead and take our shards; stop before they start.
      for (const u of host.ownedShards()) host.dropShard(u.kind, u.shard);
      log.warn({ why }, 'dropped all shards');
      return;
    }
    // Our record expired (a stall longer than deadAfterMs) but we can reach the store: keep what is still ours and
    // drop only shards whose leases went elsewhere meanwhile. Dropping everything would lose every in-memory actor
    // on a busy node for nothing.
    log.warn({ why }, 'membership lapsed: re-reading leases');
    leases.refresh().then(reconcile, (err) => log.error({ err }, 'lease refresh after lapse failed'));
  };

  control.handle('probe', async (b) => migrator.probe(b.units as ShardUnit[], String(b.mid)));
  control.handle('move-in', async (b) => migrator.moveIn(String(b.from), b.units as MoveUnit[], String(b.mid)));
  control.handle('handover', async (b) => migrator.handover(b.units as ShardUnit[], String(b.mid), b.probers as string[], String(b.to)));
  control.handle('drain', async () => {
    draining = true;
    await membership.tick();
    reconcileSoon();
    log.info('draining: waiting for the balancer to move every shard away');
    return { draining: true };
  });
  control.handle('status', async () => ({ ...ctx.host.stats(), leader: leader.leader, draining, msgsPerSec: Math.round(rate), balancer: leader.leader ? balancer.totals : undefined }));

  await leases.start();
  control.start();
  await membership.join();

  // Two loops: the heartbeat (membership, leadership) must never wait behind a slow balancer tick, or a busy
  // leader would be declared dead by its own bookkeeping.
  const timers: unknown[] = [undefined, undefined];
  let rounds = 0;
  const heartbeat = async () => {
    const now = clock.now();
    rate = ((host.metrics.processed - lastProcessed) * 1000) / Math.max(1, now - lastAt);
    lastProcessed = host.metrics.processed;
    lastAt = now;
    await membership.tick();
    await leader.tick();
  };
  const balance = async () => {
    if (rounds++ % 10 === 0) await leases.refresh().catch((err) => log.warn({ err }, 'lease refresh failed'));
    if (leader.leader) await balancer.tick(await membership.view()).catch((err) => log.warn({ err }, 'balancer tick failed'));
    reconcile();
  };
  // A round that never ends would stop its loop for good without a word; say so loudly while it lasts.
  const every = (slot: number, ms: number, fn: () => Promise<void>, name: string) => {
    const run = () => {
      if (stopped) return;
      timers[slot] = clock.setTimeout(() => {
        const started = clock.now();
        let watchdog: TimerHandle;
        const bark = () => {
          log.error({ loop: name, stuckForMs: clock.now() - started }, 'cluster loop round is not finishing');
          watchdog = clock.setTimeout(bark, STUCK_MS);
        };
        watchdog = clock.setTimeout(bark, STUCK_MS);
        fn()
          .catch((err) => log.error({ err, loop: name }, 'cluster loop failed'))
          .finally(() => {
            clock.clearTimeout(watchdog);
            run();
          });
      }, ms);
    };
    run();
  };
  // First round at once: a lone first node leads and assigns every shard to itself without waiting a tick.
  await heartbeat().catch((err) => log.error({ err }, 'cluster heartbeat failed'));
  await balance().catch((err) => log.error({ err }, 'cluster balance failed'));
  every(0, c.heartbeatMs, heartbeat, 'heartbeat');
  every(1, c.rebalanceIntervalMs, balance, 'balance');

  return {
    name: 'cluster',
    drained,
    get isLeader() {
      return leader.leader;
    },
    drain() {
      draining = true;
    },
    status: () => ({
      leader: leader.leader,
      currentLeader: leader.current,
      draining,
      shards: host.ownedShards().length,
      leases: leases.size,
      movesInFlight: balancer.movesInFlight,
      balancer: leader.leader ? balancer.totals : undefined,
      reconciles,
    }),
    async stop() {
      stopped = true;
      balancer.stop();
      leases.onChange = undefined;
      for (const t of timers) if (t !== undefined) clock.clearTimeout(t);
      control.stop();
      leases.stop();
      await leader.resign();
      await membership.leave();
    },
  };
}
