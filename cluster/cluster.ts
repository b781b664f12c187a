/**
 * The cluster layer of a node (a NodeComponent): liveness heartbeats and the fence (liveness.ts), the operators' node
 * record, leader choice, the balancer (leader only), live migration, and the reconcile loop that keeps this node's
 * shard subscriptions equal to the leases it holds.
 */
import { hostname } from 'node:os';
import type { TimerHandle } from '../common/clock.js';
import type { NodeComponent, NodeContext } from '../node-api/node.js';
import type { ShardUnit } from './allocation.js';
import { Balancer } from './balancer.js';
import { callNode, Control, inspectActor } from './control.js';
import { LeaderElection } from './leader.js';
import { LeaseTable } from './leases.js';
import { IsolationCheck } from './isolation.js';
import { Liveness } from './liveness.js';
import { Membership } from './membership.js';
import { ServerReach } from './reach.js';
import { retryUntil } from '../common/retry.js';
import { ConfigError } from '../common/errors.js';
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
  checkTimings(c);
  const deadline = clock.now() + c.startDeadlineMs;
  const startStep = <T>(what: string, step: () => Promise<T>) => retryUntil(what, step, { clock, log, deadline });
  const [nodesB, clusterB, leasesB, pinsB] = await startStep('cluster buckets', () =>
    Promise.all([
      store.bucket(BUCKETS.nodes, { ttlMs: c.deadAfterMs }),
      store.bucket(BUCKETS.cluster, { ttlMs: c.deadAfterMs }),
      store.bucket(BUCKETS.leases),
      store.bucket(BUCKETS.pins),
    ]),
  );
  const worker = config.node.roles.includes('worker');
  const startedAt = clock.now();
  let draining = false;
  let lastProcessed = host.metrics.processed;
  let lastAt = clock.now();
  let rate = 0;
  // Read once: the record is rebuilt for every heartbeat, and os.hostname() is a system call each time.
  const hostName = hostname();
  const self = (): NodeRecord => ({
    id,
    roles: config.node.roles,
    capacity: config.node.capacity,
    draining,
    startedAt,
    pid: process.pid,
    host: hostName,
    load: { actors: host.activeCount(), shards: host.ownedShardCount(), msgsPerSec: Math.round(rate) },
  });
  // Isolation (a node on a NATS server cut off from the others) needs several servers; with one, there is nowhere to move.
  const severalServers = config.bus.kind === 'nats' && config.nats.servers.length > 1;
  const liveness = new Liveness(controlBus, self, clock, log, { heartbeatMs: c.heartbeatMs, deadAfterMs: c.deadAfterMs, fenceAfterMs: c.fenceAfterMs, fenceWhenIsolated: severalServers });
  // Hearing only ourselves: our server is probably cut off from the others' (issue 14). Checked with pings first
  // (isolation.ts: a starved host and a dead server's reconnecting nodes look the same for a moment), then every
  // connection moves to the next server. At most once per 2 × deadAfterMs: a node's own move silences it for a moment,
  // and in a chaos run (load average 40) nodes moving at once kept making each other look isolated.
  const isolation = new IsolationCheck({
    clock,
    log,
    others: () => liveness.alive().map((n) => n.id).filter((n) => n !== id),
    ping: (node, timeoutMs) => callNode(controlBus, node, { type: 'ping' }, timeoutMs),
    moveAll: () => {
      for (const conn of ctx.connections ?? []) void conn.reconnect().catch((err) => log.warn({ err, connection: conn.role }, 'reconnect failed'));
    },
    heartbeatMs: c.heartbeatMs,
    cooldownMs: 2 * c.deadAfterMs,
  });
  liveness.onIsolated = () => {
    if (!severalServers || !ctx.connections?.length) return;
    void isolation.suspect();
  };
  // One connection on a cut-off server while the others are fine (each picks its own server): move just that one.
  const reach = new ServerReach(severalServers ? (ctx.connections ?? []) : [], id, clock, log, {
    checkEveryMs: c.heartbeatMs,
    suspectAfterMs: c.fenceAfterMs / 2,
    cooldownMs: c.deadAfterMs * 2,
    flushTimeoutMs: c.fenceAfterMs,
  });
  const membership = new Membership(nodesB, self, liveness, log);
  const leader = new LeaderElection(clusterB, id, liveness, log);
  const leases = new LeaseTable(leasesB, log);
  const control = new Control(controlBus, id, log);
  const migrator = new Migrator({ host, bus, control: controlBus, nodeId: id, log, clock, leases, membership }, c.migration);
  const balancer = new Balancer(
    {
      bus: controlBus,
      nodeId: id,
      log,
      clock,
      leases,
      pins: pinsB,
      kinds: () => host.shardedKinds(),
      shards: config.actors.shards,
      // Re-checked right before each take-over write: a node heard again since the round's view keeps its shards.
      heardRecently: (node) => clock.now() - (liveness.lastHeard(node) ?? -Infinity) < c.deadAfterMs,
    },
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
    if (draining && owned === 0 && host.ownedShardCount() === 0) {
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
  // A lapse: this node could not confirm it is heard (cut off from its server, a stall, SIGSTOP then SIGCONT, or it hears
  // nobody but itself), so others may be taking its shards. At once, before anyone may take over (deadAfterMs is at
  // least two heartbeats longer than the fence), every sharded actor instance here is closed, in-memory ones included
  // (their state is lost, as with a node that died): no instance stays live here while another node starts one, and the
  // lifecycle feed shows it. Its shards already refuse work (the serving check). It serves again only after
  // (1) it hears a heartbeat sent after the lapse (its server carries its traffic again), (2) a store timeout and two
  // heartbeats more have passed since that heartbeat was sent: a take-over decided before the others heard it has
  // landed or failed by then (a leader re-checks liveness right before each take-over write, and every store call
  // times out after storeTimeoutMs), and (3) it has re-read every lease from the stream leader and dropped the shards
  // that went elsewhere. After an isolation lapse, (4) a write to the replicated store must succeed first: a cut-off
  // server's stream leader may still answer reads for seconds, but it cannot commit a write without a quorum.
  let recovering = false;
  let fenceTimer: TimerHandle | undefined;
  const fence = () => {
    fenceTimer = undefined;
    if (!liveness.lapsed || stopped) return;
    const closed = host.fence(liveness.servedUntil);
    log.warn({ closed, cause: liveness.lapseCause }, 'fenced: every sharded actor instance closed before others may take the shards');
  };
  liveness.onLapse = () => {
    // The instances go at the end of the fast path's window (last confirmed send + fence + one heartbeat), a heartbeat
    // before anyone may declare this node dead (deadAfterMs ≥ fence + 2 heartbeats): an echo merely late (a loaded
    // relay, a busy server) then costs no instance. Noticed later than that (a stall, SIGSTOP) or isolated: at once.
    const closeAt = liveness.confirmedBeforeLapse + c.fenceAfterMs + c.heartbeatMs;
    if (liveness.lapseCause === 'isolated' || clock.now() >= closeAt) fence();
    else if (fenceTimer === undefined) fenceTimer = clock.setTimeout(fence, closeAt - clock.now());
    if (recovering) return;
    recovering = true;
    const noticedAt = clock.now();
    /** Send time of the first own heartbeat heard after the lapse was noticed. */
    let back: number | undefined;
    const step = async (): Promise<void> => {
      if (stopped) return;
      if (back === undefined && liveness.confirmedAt >= noticedAt) back = liveness.confirmedAt;
      // Fast path: heard back from a beat sent less than fenceAfterMs + one heartbeat after the last confirmed one.
      // Others declare us dead only deadAfterMs (= fence + 2 beats, or more) after hearing that one, so this beat
      // (delivered within a heartbeat) reached them first: nobody took anything over. A stall just past the fence
      // (a busy event loop) then costs no lease read and no wait.
      const isolation = liveness.lapseCause === 'isolated';
      if (!isolation && back !== undefined && back - liveness.confirmedBeforeLapse < c.fenceAfterMs + c.heartbeatMs && liveness.confirmed && !liveness.isolated) {
        recovering = false;
        if (fenceTimer !== undefined) clock.clearTimeout(fenceTimer);
        fenceTimer = undefined;
        liveness.recovered();
        host.resumeServing();
        return;
      }
      // Until a beat is heard back, look often: the fast path must be seen before the instances are closed.
      const wait = back !== undefined ? back + c.storeTimeoutMs + 2 * c.heartbeatMs - clock.now() : Math.min(c.heartbeatMs, 50);
      if (!liveness.confirmed || wait > 0 || liveness.isolated) {
        await new Promise<void>((r) => clock.setTimeout(r, Math.max(wait, 20)));
        return step();
      }
      try {
        if (isolation) await membership.proveQuorum();
        await leases.refresh({ full: true });
      } catch (err) {
        log.warn({ err }, isolation ? 'store write or lease re-read after an isolation lapse failed (not on the quorum side?); retrying' : 'lease re-read after a lapse failed; retrying');
        await new Promise<void>((r) => clock.setTimeout(r, c.heartbeatMs));
        return step();
      }
      if (!liveness.confirmed || liveness.isolated) return step();
      reconcile();
      recovering = false;
      liveness.recovered();
      host.resumeServing();
    };
    void step().catch((err) => log.error({ err }, 'lapse recovery failed'));
  };

  // Reachability check (onIsolated above): any answer will do.
  control.handle('ping', async () => ({}));
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
  control.handle('status', async () => ({
    ...ctx.host.stats(),
    leader: leader.leader,
    draining,
    msgsPerSec: Math.round(rate),
    balancer: leader.leader ? balancer.totals : undefined,
    ...livenessStatus(),
  }));
  const livenessStatus = () => ({ serving: !liveness.lapsed, lapses: liveness.lapses, liveNodes: liveness.alive().map((n) => n.id), connectionMoves: reach.moves });

  await startStep('shard leases (watch and first read)', async () => {
    leases.stop();
    await leases.start();
  });
  // Read-only (sys.info.<node>, open to the ops user): an actor's $inspect view, redacted, asked by this node.
  control.handle('inspect', (b) => inspectActor(host.client, b));
  control.start();
  // Heard ourselves: our server carries our traffic. Only then may this node hold shards.
  await startStep('own heartbeat heard', () => withTimeout(liveness.start(), c.startDeadlineMs, 'own heartbeat not heard'));
  host.setServingCheck(() => liveness.serving());
  reach.start();
  membership.tick();

  // Two loops: the heartbeat (membership, leadership) must never wait behind a slow balancer tick, or a busy
  // leader would be declared dead by its own bookkeeping.
  const timers: unknown[] = [undefined, undefined];
  /** Per loop: runs the next round now if the loop is waiting for its timer. */
  const kick: Array<(() => void) | undefined> = [undefined, undefined];
  let rounds = 0;
  const heartbeat = async () => {
    const now = clock.now();
    rate = ((host.metrics.processed - lastProcessed) * 1000) / Math.max(1, now - lastAt);
    lastProcessed = host.metrics.processed;
    lastAt = now;
    membership.tick();
    leader.tick();
  };
  const balance = async () => {
    if (rounds++ % 10 === 0) await leases.refresh().catch((err) => log.warn({ err }, 'lease refresh failed'));
    if (leader.tick()) await balancer.tick(await membership.view()).catch((err) => log.warn({ err }, 'balancer tick failed'));
    reconcile();
  };
  // A node appeared or was declared dead: the leader balances now rather than at its next round (a kill -9'd
  // worker's shards are reassigned deadAfterMs after its last heartbeat, not up to a rebalance interval later).
  // A change seen while a round runs (its view may predate it) gets a round of its own right after, not a whole
  // rebalance interval (2 s) later, which a kill -9 take-over could otherwise wait.
  const wake = (slot: number) => {
    if (kick[slot]) kick[slot]!();
    else pending[slot] = true;
  };
  const pending = [false, false];
  liveness.onChange = () => wake(1);
  // A round that never ends would stop its loop for good without a word; say so loudly while it lasts.
  const every = (slot: number, ms: number, fn: () => Promise<void>, name: string) => {
    const run = () => {
      if (stopped) return;
      const round = () => {
        kick[slot] = undefined;
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
      };
      const delay = pending[slot] ? 0 : ms;
      pending[slot] = false;
      timers[slot] = clock.setTimeout(round, delay);
      kick[slot] = () => {
        clock.clearTimeout(timers[slot]);
        round();
      };
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
      shards: host.ownedShardCount(),
      leases: leases.size,
      movesInFlight: balancer.movesInFlight,
      balancer: leader.leader ? balancer.totals : undefined,
      reconciles,
      ...livenessStatus(),
    }),
    async stop() {
      stopped = true;
      balancer.stop();
      leases.onChange = undefined;
      for (const t of timers) if (t !== undefined) clock.clearTimeout(t);
      control.stop();
      leases.stop();
      reach.stop();
      liveness.stop();
      await leader.resign();
      await membership.leave();
    },
  };
}

/**
 * The fence holds only if an owner stops before anyone may take over: deadAfterMs must leave two heartbeats of margin
 * after fenceAfterMs (scheduling, delivery), and fenceAfterMs must allow a lost heartbeat or two.
 */
function checkTimings(c: { heartbeatMs: number; deadAfterMs: number; fenceAfterMs: number }): void {
  const fields: string[] = [];
  if (c.fenceAfterMs < 3 * c.heartbeatMs) fields.push('cluster.fenceAfterMs');
  if (c.deadAfterMs < c.fenceAfterMs + 2 * c.heartbeatMs) fields.push('cluster.deadAfterMs');
  if (fields.length) {
    throw new ConfigError(
      `cluster timings: need fenceAfterMs ≥ 3 × heartbeatMs and deadAfterMs ≥ fenceAfterMs + 2 × heartbeatMs ` +
        `(heartbeatMs ${c.heartbeatMs}, fenceAfterMs ${c.fenceAfterMs}, deadAfterMs ${c.deadAfterMs})`,
      fields,
    );
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout>;
  return Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(what)), ms)))]).finally(() => clearTimeout(t));
}
