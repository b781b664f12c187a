/** Body of a worker thread running one gatehouse worker node (see threads.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../../config/schema.js';
import { createLogger } from '../../common/logger.js';
import { startNode } from '../../server/node.js';
import { loadApps } from '../../server/apps.js';
import { nodeComponents } from '../../server/components.js';

const { config } = workerData as { config: Config };
const log = createLogger(config.log);

loadApps(config)
  .then((apps) => startNode({ config, apps, log, ...nodeComponents(config) }))
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
