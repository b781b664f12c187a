/**
 * Body of a worker thread running one gatehouse worker node (see threads.ts). On NATS it connects like any node. In
 * an embedded process (no NATS) its bus connections and its store travel over MessagePorts it sends to the main
 * thread, which serves them on the process's broker and store (bus/thread/); the nodes of the process cluster.
 */
import { MessageChannel, parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../../config/schema.js';
import { createLogger } from '../../common/logger.js';
import { createThreadBus } from '../../bus/thread/thread-bus.js';
import { createThreadStore } from '../../bus/thread/thread-store.js';
import { startNode, type ThreadLink } from '../../server/node.js';
import { loadApps } from '../../server/apps.js';
import { nodeComponents } from '../../server/components.js';

const { config } = workerData as { config: Config };
const log = createLogger(config.log);

/** A new port pair: one end to the main thread (`type` says what to serve on it), the other kept here. */
function portTo(type: 'bus-port' | 'store-port') {
  const { port1, port2 } = new MessageChannel();
  parentPort!.postMessage({ type, port: port1 }, [port1]);
  return port2;
}

const embedded = config.bus.kind === 'memory';
// The same bound as the main thread's toward this thread (node.threadQueueBytes): what this thread sends unread.
const maxQueuedBytes = config.node.threadQueueBytes;
const thread: ThreadLink | undefined = embedded
  ? {
      connect: ({ prefix }) => createThreadBus(portTo('bus-port'), { prefix, log, maxQueuedBytes }),
      store: () => createThreadStore(portTo('store-port'), { kind: config.store.kind === 'lmdb' ? 'lmdb' : 'memory', log, maxQueuedBytes }),
    }
  : undefined;

loadApps(config)
  .then((apps) =>
    startNode({ config, apps, log, ...(thread && { thread }), ...nodeComponents(config, embedded ? { forceCluster: true, controlSocket: false } : {}) }),
  )
  .then(
    (node) => {
      parentPort!.on('message', (m: { type?: string }) => {
        if (m?.type === 'stop') void node.stop().finally(() => process.exit(0));
      });
      parentPort!.postMessage({ type: 'ready', id: node.id });
    },
    (err: Error) => {
      parentPort!.postMessage({ type: 'failed', error: err.message });
      process.exit(1);
    },
  );
