/**
 * `gatehouse start --threads N` without NATS: embedded mode on every core. The main thread owns the process's broker
 * and store (memory, or the LMDB directory, which one process opens) and serves them to N worker-thread nodes over
 * MessagePorts (bus/thread/: ThreadBroker, ThreadStoreServer). Every node of the process clusters on that bus and
 * store, so shards spread over the threads, and move when one stops, as between processes on NATS.
 */
import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import type { Store } from '../../bus/store.js';
import { openLmdbStore } from '../../bus/lmdb-store.js';
import { ThreadBroker, type ThreadBrokerStats } from '../../bus/thread/thread-broker.js';
import { ThreadStoreServer, type ThreadStoreStats } from '../../bus/thread/store-server.js';
import { createEmbedded, type Embedded } from '../../server/node.js';
import { startThreadNodes, type ThreadNodes } from './threads.js';

export interface EmbeddedThreads {
  readonly embedded: Embedded;
  /** The process's store: the main node uses this one (NodeOptions.store), the threads reach it over their ports. */
  readonly store: Store;
  /** The threads' nodes; their `stop()` stops only them. */
  readonly threads: ThreadNodes;
  /** The ports' counters (bounds, slow consumers): the main node's status shows them as `threads`, and its metrics. */
  stats(): { bus: ThreadBrokerStats; store: ThreadStoreStats };
  /** Closes what serves the threads, then the store: after the threads and the main node have stopped. */
  close(): Promise<void>;
}

export async function startEmbeddedThreads(config: Config, baseId: string, count: number, log: Logger): Promise<EmbeddedThreads> {
  const embedded = createEmbedded();
  const store = config.store.kind === 'lmdb' ? await openLmdbStore({ path: config.store.path, prefix: config.prefix, log }) : embedded.kv.store(config.prefix);
  // Bytes queued to one thread unread before it is a slow consumer (bus/thread/port-credit.ts).
  const maxQueuedBytes = config.node.threadQueueBytes;
  const broker = new ThreadBroker({ broker: embedded.broker, log, limits: { maxQueuedBytes } });
  const stores = new ThreadStoreServer(store, { log, limits: { maxQueuedBytes } });
  const closeServed = async () => {
    await broker.close();
    await stores.close();
    await store.close();
  };
  let threads: ThreadNodes;
  try {
    threads = await startThreadNodes(config, baseId, count, log, { bus: (p) => broker.serve(p), store: (p) => stores.serve(p) });
  } catch (err) {
    await closeServed().catch(() => undefined);
    throw err;
  }
  return { embedded, store, threads, stats: () => ({ bus: broker.stats(), store: stores.stats() }), close: closeServed };
}
