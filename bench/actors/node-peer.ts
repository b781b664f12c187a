/**
 * The actor node under test for bench actors: `node-peer.js <nats url>`. A dedicated peer process that runs
 * `startNode` (the code `gatehouse node` runs) over NATS with the bench kind, owning every shard; a separate control
 * connection publishes its processed count for flow control (flow.ts). Commands: `window` (count processed turns for
 * ms), `quiet` (wait until nothing moves), built-in `cpu`.
 */
import { connect } from 'nats';
import { startNode } from '../../server/node.js';
import { silentLogger } from '../../common/logger.js';
import { sleep } from '../harness/measure.js';
import { cpuSeconds } from '../harness/measure.js';
import { servePeer } from '../harness/peer-protocol.js';
import { ackSubject, benchApp, nodeConfig } from './common.js';
import { startAcker } from './flow.js';

const [url] = process.argv.slice(2) as [string];
const node = await startNode({ config: nodeConfig({ kind: 'nats', url }), apps: [benchApp], log: silentLogger });
const ctl = await connect({ servers: url, name: 'bench-node-ctl' });
const processed = () => node.host.metrics.processed;
const stopAcker = startAcker(ctl, ackSubject('ours'), processed);

await servePeer({
  setup: () => ({ node: node.id }),
  commands: {
    async window(a) {
      const n0 = processed();
      const cpu0 = cpuSeconds();
      const t0 = performance.now();
      await sleep(Number(a.ms));
      return { count: processed() - n0, seconds: (performance.now() - t0) / 1000, cpu: cpuSeconds() - cpu0 };
    },
    async quiet() {
      for (;;) {
        const n = processed();
        await sleep(50);
        if (processed() === n) return { count: n, actors: node.host.activeCount() };
      }
    },
    stats: () => ({ stats: node.host.stats() }),
  },
  async close() {
    stopAcker();
    await ctl.close();
    await node.stop();
  },
});
