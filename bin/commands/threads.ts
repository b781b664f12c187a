/**
 * `--threads N`: N worker nodes in worker_threads of this process, each with its own bus connection. On NATS they meet
 * like any other node. In embedded mode (no NATS) each thread sends the main thread MessagePorts for its bus
 * connections and its store, served here on the process's broker and store (`serve`, bus/thread/). The main thread
 * keeps the other roles (e.g. the gateway).
 */
import { Worker, type MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import { metricsPortOf } from '../../config/ports.js';

export interface ThreadNodes {
  readonly ids: string[];
  stop(): Promise<void>;
}

/** How the main thread serves an embedded process's threads: each port a thread sends, by what it is for. */
export interface ThreadServe {
  bus(port: MessagePort): void;
  store(port: MessagePort): void;
}

export async function startThreadNodes(config: Config, baseId: string, count: number, log: Logger, serve?: ThreadServe): Promise<ThreadNodes> {
  const workers: Worker[] = [];
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${baseId}-t${i}`;
    // Its own ops endpoint on the port after the main node's (config/ports.ts); the same port would leave it without.
    const threadConfig: Config = { ...config, node: { ...config.node, id, roles: ['worker'], threads: 0 }, metrics: { ...config.metrics, port: metricsPortOf(config, i) } };
    const w = new Worker(new URL('./thread-entry.js', import.meta.url), { workerData: { config: threadConfig } });
    if (serve) {
      // Ports come before 'ready' (the node opens its bus and store while it starts) and never after.
      w.on('message', (m: { type?: string; port?: MessagePort }) => {
        if (!m?.port) return;
        if (m.type === 'bus-port') serve.bus(m.port);
        else if (m.type === 'store-port') serve.store(m.port);
      });
    }
    await new Promise<void>((resolve, reject) => {
      const onMsg = (m: { type?: string; error?: string }) => {
        if (m?.type === 'ready') {
          w.off('message', onMsg);
          resolve();
        } else if (m?.type === 'failed') reject(new Error(`thread node ${id} failed to start: ${m.error}`));
      };
      w.on('message', onMsg);
      w.once('error', reject);
    });
    w.on('error', (err) => log.error({ err, thread: id }, 'thread node crashed'));
    workers.push(w);
    ids.push(id);
    log.info({ thread: id, metricsPort: threadConfig.metrics.port }, 'thread node started');
  }
  return {
    ids,
    async stop() {
      await Promise.all(
        workers.map(
          (w, i) =>
            new Promise<void>((resolve) => {
              const t = setTimeout(() => {
                // Its own log said which step it was on (server/stop-watch.ts); what it had not written is lost.
                log.warn({ thread: ids[i] }, 'thread node did not stop within 10 s: terminated');
                void w.terminate().then(() => resolve());
              }, 10_000);
              w.once('exit', () => {
                clearTimeout(t);
                resolve();
              });
              w.postMessage({ type: 'stop' });
            }),
        ),
      );
    },
  };
}
