/**
 * `--threads N`: N worker nodes in worker_threads of this process, each with its own bus connection (threads share
 * nothing; they meet on NATS like any other node). The main thread keeps the other roles (e.g. the gateway).
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import { metricsPortOf } from '../../config/ports.js';

export interface ThreadNodes {
  readonly ids: string[];
  stop(): Promise<void>;
}

export async function startThreadNodes(config: Config, baseId: string, count: number, log: Logger): Promise<ThreadNodes> {
  const workers: Worker[] = [];
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${baseId}-t${i}`;
    // Its own ops endpoint on the port after the main node's (config/ports.ts); the same port would leave it without.
    const threadConfig: Config = { ...config, node: { ...config.node, id, roles: ['worker'], threads: 0 }, metrics: { ...config.metrics, port: metricsPortOf(config, i) } };
    const w = new Worker(new URL('./thread-entry.js', import.meta.url), { workerData: { config: threadConfig } });
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
          (w) =>
            new Promise<void>((resolve) => {
              const t = setTimeout(() => void w.terminate().then(() => resolve()), 10_000);
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
