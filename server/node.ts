import type { LifecycleHook } from '../actors/runtime/cell-context.js';
/**
 * A node: one runtime joined to a bus with a prefix, hosting a share of the actors (and, with the gateway role,
 * client sockets). `startNode` is what the CLI, worker threads and tests call; nothing in actor code knows whether
 * its node is embedded, a thread, a process or on another host.
 */
import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.js';
import type { Store } from '../bus/store.js';
import { MemoryBroker } from '../bus/memory-bus.js';
import { MemoryKvServer } from '../bus/memory-store.js';
import { createNatsBus } from '../bus/nats/nats-bus.js';
import { natsOptions } from '../config/nats-options.js';
import { createNatsStore } from '../bus/nats/nats-store.js';
import { openLmdbStore } from '../bus/lmdb-store.js';
import { systemClock, type Clock } from '../common/clock.js';
import { retryUntil } from '../common/retry.js';
import { createLogger, nodeLogger } from '../common/logger.js';
import type { Config } from '../config/schema.js';
import { ActorHost } from '../actors/runtime/host.js';
import type { App } from '../node-api/app.js';
import type { NodeComponent, NodeConnection, NodeContext } from '../node-api/node.js';
import { newNodeId } from './node-id.js';
import { publishLifecycle } from './lifecycle-events.js';
import { stopWatch } from './stop-watch.js';

/** An in-process bus + store shared by every embedded node of one process (the "server" side of embedded mode). */
export interface Embedded {
  broker: MemoryBroker;
  kv: MemoryKvServer;
}

/**
 * A worker thread's way to its process's embedded bus and store (bin/commands/thread-entry.ts): each bus and the
 * store travel over MessagePorts to the main thread (bus/thread/), which owns the broker and the store (a worker
 * thread cannot open the process's LMDB directory itself).
 */
export interface ThreadLink {
  connect(o: { prefix: string; name: string }): Bus;
  store(prefix: string): Store;
}

export function createEmbedded(clock: Clock = systemClock): Embedded {
  return { broker: new MemoryBroker(), kv: new MemoryKvServer(clock) };
}

export interface NodeOptions {
  config: Config;
  apps: App[];
  /** Required when config.bus.kind is 'memory' (unless `thread` is given). */
  embedded?: Embedded;
  /** In a worker thread of an embedded process: its bus and store over ports to the main thread. */
  thread?: ThreadLink;
  /** The store to use instead of opening config.store here (the main thread of an embedded process with threads
   * passes the one it serves them, so every node of the process sees one store). Closed by its owner, not the node. */
  store?: Store;
  clock?: Clock;
  log?: Logger;
  /** Cluster membership and shard ownership; when absent the node owns every shard (single-node mode). */
  cluster?: (ctx: NodeContext) => Promise<NodeComponent>;
  /** Observes actor instances starting and leaving (tests). */
  lifecycle?: LifecycleHook;
  /** Extra components (gateway, metrics...) started after the actor host, stopped before it. */
  components?: Array<(ctx: NodeContext) => Promise<NodeComponent>>;
}

export interface GatehouseNode extends NodeContext {
  readonly components: NodeComponent[];
  stop(): Promise<void>;
}

export async function startNode(o: NodeOptions): Promise<GatehouseNode> {
  const { config } = o;
  const id = config.node.id ?? newNodeId();
  const clock = o.clock ?? systemClock;
  const root = o.log ?? createLogger(config.log);
  const log = nodeLogger(root, id);
  const startedAt = clock.now();
  let bus: Bus;
  let store: Store;
  let control: Bus;
  let extraClose: () => Promise<void> = async () => undefined;
  let connections: NodeConnection[] | undefined;
  let channelBus: Bus | undefined;
  if (config.bus.kind === 'memory') {
    const { embedded, thread } = o;
    if (!embedded && !thread) throw new Error('embedded mode needs a shared in-memory bus (createEmbedded())');
    // The store opens first: a directory held by another process (STORE_LOCKED) then leaves nothing to close. Nodes of
    // one process on the same directory share one LMDB environment (bus/lmdb/files.ts).
    store =
      thread?.store(config.prefix) ??
      o.store ??
      (config.store.kind === 'lmdb'
        ? await openLmdbStore({ path: config.store.path, prefix: config.prefix, clock, log })
        : embedded!.kv.store(config.prefix));
    const connect = (name: string) => (thread ? thread.connect({ prefix: config.prefix, name }) : embedded!.broker.connect({ prefix: config.prefix, log, name }));
    bus = connect(id);
    control = connect(`${id} control`);
    extraClose = () => control.close();
  } else {
    const connect = (role: string, noEcho = false) => createNatsBus({ ...natsOptions(config, `gatehouse ${id} ${role}`), log, noEcho });
    bus = await connect('data');
    // The store (membership heartbeats, leases, snapshots) and cluster control (node requests, migration hand-over)
    // get their own connections: on the data connection they would queue behind a busy node's actor traffic. An
    // overloaded node missed its heartbeats and was declared dead by its own backlog (bench migration at 20 k msg/s on
    // a loaded host), and a shard's hand-over waited behind the messages of shards already moved, pausing its actors
    // for that long (the same reason Akka's Artery keeps system messages on their own stream).
    const opened: Bus[] = [];
    const open = async (role: string, noEcho = false) => {
      const b = await connect(role, noEcho);
      opened.push(b);
      return b;
    };
    let storeBus: Awaited<ReturnType<typeof connect>>;
    try {
      storeBus = await open('store');
      control = await open('control');
      // Gateway channels (lobby relays) on a connection that does not echo: a gateway's own relays, pushed to its
      // own players at once, never come back to it over the bus (gateway/channels.ts).
      if (config.node.roles.includes('gateway')) channelBus = await open('channels', true);
    } catch (err) {
      await Promise.all([bus, ...opened].map((b) => b.close()));
      throw err;
    }
    extraClose = async () => {
      await Promise.all(opened.map((b) => b.close()));
    };
    const movable = (role: string, b: Awaited<ReturnType<typeof connect>>): NodeConnection => ({ role, bus: b, reconnect: () => b.connection.reconnect() });
    connections = [movable('data', bus as Awaited<ReturnType<typeof connect>>), movable('store', storeBus), movable('control', control as Awaited<ReturnType<typeof connect>>)];
    const { storeTimeoutMs, startDeadlineMs } = config.cluster;
    store = createNatsStore({ connection: storeBus.connection, prefix: config.prefix, replicas: config.nats.replicas, log, timeoutMs: storeTimeoutMs, openRetryMs: startDeadlineMs });
  }
  const worker = config.node.roles.includes('worker');
  const kinds = o.apps.flatMap((a) => a.kinds);
  const lifecycle = !o.lifecycle && config.actors.lifecycleEvents ? publishLifecycle(bus, id) : undefined;
  const host = new ActorHost({
    nodeId: id,
    bus,
    store,
    clock,
    log,
    // Every node hosts pinned kinds (connections); only workers take sharded actors.
    kinds,
    limits: { ...config.actors },
    ownAllShards: worker && !o.cluster,
    lifecycle: o.lifecycle ?? lifecycle?.hook,
    // Every store step of the start waits (with backoff, saying what for) until the start deadline (issue 14).
    startRetry: (what, step) => retryUntil(what, step, { clock, log, deadline: startedAt + config.cluster.startDeadlineMs }),
  });
  await host.start();
  const components: NodeComponent[] = [];
  const status = () => {
    const out: Record<string, unknown> = { node: id, roles: config.node.roles, capacity: config.node.capacity, prefix: config.prefix, actors: host.stats() };
    for (const c of components) if (c.status) out[c.name] = c.status();
    return out;
  };
  const ctx: NodeContext = { id, config, bus, control, ...(channelBus && { channelBus }), store, host, apps: o.apps, clock, log, status, connections };
  const stopAll = async () => {
    // A stop that hangs says on which step, every few seconds, with what is still active: whoever waits on it (an
    // operator's Ctrl-C, a parent thread's terminate bound) learns why from the log.
    const watch = stopWatch(clock, log, () => host.stopProgress());
    try {
      for (const c of [...components].reverse()) {
        watch.step(`component ${c.name}`);
        await c.stop().catch((err) => log.error({ err, component: c.name }, 'component stop failed'));
      }
      watch.step('actors: final turns and snapshots');
      await host.stop();
      lifecycle?.flush();
      watch.step('store close');
      if (!o.store) await store.close(); // a store given in NodeOptions is its owner's to close
      watch.step('bus drain');
      await bus.drain().catch(() => bus.close());
      watch.step('last connections');
      await extraClose().catch(() => undefined);
    } finally {
      watch.done();
    }
  };
  try {
    if (o.cluster) components.push(await o.cluster(ctx));
    for (const make of o.components ?? []) components.push(await make(ctx));
  } catch (err) {
    await stopAll();
    throw err;
  }
  log.info({ prefix: config.prefix, bus: bus.kind, roles: config.node.roles, kinds: kinds.map((k) => k.name) }, 'node started');
  let stopped: Promise<void> | undefined;
  return {
    ...ctx,
    components,
    stop() {
      stopped ??= stopAll().then(() => log.info('node stopped'));
      return stopped;
    },
  };
}
