/**
 * Operator commands that act on a running cluster over NATS: status, drain, move. They read the cluster's store
 * buckets and send control requests to nodes; none of them needs to be a node.
 */
import type { Bus } from '../../bus/bus.js';
import type { Store } from '../../bus/store.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import { createNatsStore } from '../../bus/nats/nats-store.js';
import { GatehouseError } from '../../common/errors.js';
import type { Config } from '../../config/schema.js';
import { natsOptions } from '../../config/nats-options.js';
import { callNode } from '../../cluster/control.js';
import { BUCKETS, decodeRecord, type Lease, type NodeRecord } from '../../cluster/records.js';
import { shardOf, TOOL_INBOX } from '../../bus/subjects.js';
import type { SocketBus } from '../../bus/socket/socket-bus.js';
import type { EmbeddedStatus } from '../../server/control-socket.js';

export interface ToolConnection {
  bus: Bus;
  store: Store;
  close(): Promise<void>;
}

export async function connectCluster(config: Config): Promise<ToolConnection> {
  if (config.bus.kind !== 'nats') throw new GatehouseError('USAGE', 'this command needs the cluster\'s NATS: give --nats URL[,URL]');
  const bus = await createNatsBus({ ...natsOptions(config, 'gatehouse tool'), inbox: TOOL_INBOX });
  const store = createNatsStore({ connection: bus.connection, prefix: config.prefix, replicas: config.nats.replicas });
  return { bus, store, close: async () => void (await bus.close()) };
}

export interface ClusterStatus {
  nodes: Array<NodeRecord & { live?: Record<string, unknown>; error?: string }>;
  leader?: string;
  /** kind → node → shard count */
  shardMap: Record<string, Record<string, number>>;
  moving: number;
  unowned: number;
}

export async function readStatus(t: ToolConnection, config: Config): Promise<ClusterStatus> {
  const nodesB = await t.store.bucket(BUCKETS.nodes, { ttlMs: config.cluster.deadAfterMs });
  const clusterB = await t.store.bucket(BUCKETS.cluster, { ttlMs: config.cluster.deadAfterMs });
  const leasesB = await t.store.bucket(BUCKETS.leases);
  const nodes: ClusterStatus['nodes'] = [];
  for (const e of await nodesB.entries()) nodes.push(decodeRecord<NodeRecord>(e.value));
  await Promise.all(
    nodes.map(async (n) => {
      try {
        n.live = await callNode<Record<string, unknown>>(t.bus, n.id, { type: 'status' }, 2000);
      } catch (err) {
        n.error = (err as Error).message;
      }
    }),
  );
  const leader = await clusterB.get('leader');
  const shardMap: ClusterStatus['shardMap'] = {};
  let moving = 0;
  let unowned = 0;
  const alive = new Set(nodes.map((n) => n.id));
  for (const { key: k, value } of await leasesB.entries()) {
    const l = decodeRecord<Lease>(value);
    const kind = k.slice(0, k.lastIndexOf('.'));
    const row = (shardMap[kind] ??= {});
    row[l.o] = (row[l.o] ?? 0) + 1;
    if (l.st === 'moving') moving++;
    if (!alive.has(l.o)) unowned++;
  }
  return { nodes: nodes.sort((a, b) => (a.id < b.id ? -1 : 1)), leader: leader ? new TextDecoder().decode(leader.value) : undefined, shardMap, moving, unowned };
}

/**
 * An embedded node's status as a one-node cluster (it owns every shard of every sharded kind and leads itself), so
 * `gatehouse status` prints the same table either way.
 */
export async function readEmbeddedStatus(bus: SocketBus): Promise<ClusterStatus> {
  const s = (await bus.status()) as unknown as EmbeddedStatus;
  const node: ClusterStatus['nodes'][number] = {
    id: s.node,
    roles: s.roles,
    capacity: s.capacity,
    draining: false,
    startedAt: s.startedAt,
    pid: s.pid,
    host: 'embedded',
    load: { actors: s.actors.actors, shards: s.actors.shards, msgsPerSec: s.msgsPerSec },
    live: { ...s, actors: s.actors.actors, shards: s.actors.shards },
  };
  if (s.cluster) {
    // Worker threads: every live node of the process, each asked for its own status over the socket (as on NATS).
    const others = s.cluster.liveNodes.filter((id) => id !== s.node);
    const rows = await Promise.all(
      others.map(async (id): Promise<ClusterStatus['nodes'][number]> => {
        // A thread's node is a worker (bin/commands/threads.ts); its `status` answer is its actor host's counts.
        const base = { ...node, id, roles: ['worker'], live: undefined, load: { actors: 0, shards: 0, msgsPerSec: 0 } };
        try {
          const live = await callNode<{ actors?: number; shards?: number }>(bus, id, { type: 'status' }, 2000);
          return { ...base, load: { actors: live.actors ?? 0, shards: live.shards ?? 0, msgsPerSec: 0 }, live: { ...live } };
        } catch (err) {
          return { ...base, error: (err as Error).message };
        }
      }),
    );
    const live = new Set(s.cluster.liveNodes);
    const unowned = Object.values(s.cluster.shardMap).reduce((n, row) => n + Object.entries(row).filter(([o]) => !live.has(o)).reduce((m, [, c]) => m + c, 0), 0);
    return { nodes: [node, ...rows].sort((a, b) => (a.id < b.id ? -1 : 1)), leader: s.cluster.leader, shardMap: s.cluster.shardMap, moving: 0, unowned };
  }
  const shardMap: ClusterStatus['shardMap'] = {};
  for (const k of s.kinds) shardMap[k] = { [s.node]: s.shardsPerKind };
  return { nodes: [node], leader: s.node, shardMap, moving: 0, unowned: 0 };
}

export function formatStatus(s: ClusterStatus): string {
  const rows = [['node', 'roles', 'cap', 'shards', 'actors', 'msg/s', 'state']];
  for (const n of s.nodes) {
    const live = n.live as { actors?: number; shards?: number; msgsPerSec?: number } | undefined;
    rows.push([
      n.id + (n.id === s.leader ? ' *' : ''),
      n.roles.join(','),
      String(n.capacity),
      String(live?.shards ?? n.load.shards),
      String(live?.actors ?? n.load.actors),
      String(live?.msgsPerSec ?? n.load.msgsPerSec),
      n.error ? `unreachable (${n.error})` : n.draining ? 'draining' : 'up',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  lines.push('', `leader: ${s.leader ?? 'none'}   moving: ${s.moving}   shards without a live owner: ${s.unowned}`, 'shard map (kind: node=count):');
  for (const [kind, row] of Object.entries(s.shardMap)) {
    lines.push(`  ${kind}: ${Object.entries(row).map(([n, c]) => `${n}=${c}`).join(' ')}`);
  }
  return lines.join('\n');
}

/** Asks a node to drain, then reports progress until it has left the cluster. */
export async function drain(t: ToolConnection, config: Config, node: string, timeoutMs: number, progress: (line: string) => void): Promise<void> {
  await callNode(t.bus, node, { type: 'drain' }, 5000);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await readStatus(t, config);
    const n = s.nodes.find((x) => x.id === node);
    if (!n) {
      progress(`${node} drained and left the cluster`);
      return;
    }
    const left = Object.values(s.shardMap).reduce((sum, row) => sum + (row[node] ?? 0), 0);
    progress(`${node}: ${left} shards left to move`);
    if (Date.now() > deadline) throw new GatehouseError('TIMEOUT', `drain of ${node} not finished after ${timeoutMs} ms (${left} shards left)`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** What `move` names: a shard (`room:12`), or an actor (`room/lobby-1`), which moves with its shard. */
export function parseMoveTarget(arg: string, shards: number): { kind: string; shard: number; actor?: string } {
  const byShard = /^([a-z][a-z0-9-]*):(\d+)$/.exec(arg);
  if (byShard) {
    const shard = Number(byShard[2]);
    if (shard >= shards) throw new GatehouseError('USAGE', `shard ${shard} out of range: this deployment has ${shards} shards per kind`);
    return { kind: byShard[1]!, shard };
  }
  const slash = arg.indexOf('/');
  if (slash > 0 && slash < arg.length - 1 && /^[a-z][a-z0-9-]*$/.test(arg.slice(0, slash))) {
    const actor = arg.slice(slash + 1);
    return { kind: arg.slice(0, slash), shard: shardOf(actor, shards), actor };
  }
  throw new GatehouseError('USAGE', `expected <kind>:<shard> (e.g. room:12) or <kind>/<id> (e.g. room/lobby-1), got ${JSON.stringify(arg)}`);
}

/**
 * Pins a shard to a node; the balancer moves it there (live) and keeps it there while that node lives. An actor is
 * placed by its shard (docs/INVARIANTS.md), so `move <kind>/<id>` moves the actor's whole shard, and says so.
 */
export async function moveShard(t: ToolConnection, config: Config, arg: string, to: string, timeoutMs: number, progress: (line: string) => void): Promise<void> {
  const target = parseMoveTarget(arg, config.actors.shards);
  const key = `${target.kind}.${target.shard}`;
  const leases = await t.store.bucket(BUCKETS.leases);
  if (!(await leases.get(key))) {
    const kinds = [...new Set((await leases.keys()).map((k) => k.slice(0, k.lastIndexOf('.'))))].sort();
    throw new GatehouseError('USAGE', `no shard ${key} in this deployment (kinds with shards: ${kinds.join(', ') || 'none yet'})`);
  }
  const nodes = (await (await t.store.bucket(BUCKETS.nodes, { ttlMs: config.cluster.deadAfterMs })).entries()).map((e) => decodeRecord<NodeRecord>(e.value));
  const dest = nodes.find((n) => n.id === to);
  if (!dest || !dest.roles.includes('worker') || dest.draining) {
    const workers = nodes.filter((n) => n.roles.includes('worker') && !n.draining).map((n) => n.id);
    throw new GatehouseError('USAGE', `${to} ${dest ? 'takes no shards (not a worker, or draining)' : 'is not a live node'}; workers: ${workers.join(', ') || 'none'}`);
  }
  if (target.actor !== undefined) progress(`${target.kind}/${target.actor} is in shard ${target.kind}:${target.shard}; its shard's other actors move with it`);
  await (await t.store.bucket(BUCKETS.pins)).put(key, new TextEncoder().encode(to));
  // Watch the lease rather than poll it (the current value comes first): done when it names `to` as owner.
  let watcher: { stop(): void } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let last: Lease | undefined;
  let settled = false;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new GatehouseError('TIMEOUT', `${key} not on ${to} after ${timeoutMs} ms (now ${last ? `${last.st} on ${last.o}` : 'unassigned'})`)), timeoutMs);
      leases.watch(
        (c) => {
          if (c.op === 'delete') return;
          last = decodeRecord<Lease>(c.value);
          if (last.o === to && last.st === 'owned') resolve();
          else if (last.st === 'moving') progress(`${key}: moving ${last.o} → ${last.to}`);
        },
        { key, initial: true },
      ).then((w) => (settled ? w.stop() : (watcher = w)), reject);
    });
    progress(`${key} is on ${to}, pinned there while ${to} lives (\`gatehouse move ${target.kind}:${target.shard} --unpin\` lets the balancer place it again)`);
  } finally {
    settled = true;
    clearTimeout(timer);
    watcher?.stop();
  }
}

/**
 * Removes a shard's pin (`move --unpin`): the balancer places it again by capacity at its next round, which may or may
 * not move it. Says where it is now; unpinning a shard that has no pin says so and succeeds.
 */
export async function unpinShard(t: ToolConnection, config: Config, arg: string, progress: (line: string) => void): Promise<void> {
  const target = parseMoveTarget(arg, config.actors.shards);
  const key = `${target.kind}.${target.shard}`;
  const pins = await t.store.bucket(BUCKETS.pins);
  const pin = await pins.get(key);
  const lease = await (await t.store.bucket(BUCKETS.leases)).get(key);
  const where = lease ? ` (now ${decodeRecord<Lease>(lease.value).o})` : '';
  if (!pin) {
    progress(`${key} has no pin${where}: nothing to undo`);
    return;
  }
  await pins.delete(key);
  progress(`${key} unpinned from ${new TextDecoder().decode(pin.value)}${where}: the balancer places it by capacity again`);
}
