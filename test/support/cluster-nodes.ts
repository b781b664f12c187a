import type { LifecycleHook } from '../../actors/runtime/cell-context.js';
/** In-process cluster nodes for tests: several gatehouse nodes in one process on a shared bus (memory or NATS). */
import type { DeepPartial } from '../../config/load.js';
import { testConfig } from '../../dev/test-config.js';
import type { Config } from '../../config/schema.js';
import { startNode, type Embedded, type GatehouseNode } from '../../server/node.js';
import { nodeComponents } from '../../server/components.js';
import type { App } from '../../node-api/app.js';
import type { ClusterComponent } from '../../cluster/cluster.js';
import { silentLogger } from '../../common/logger.js';
import type { Logger } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import type { Env, Impl } from './impls.js';

export const FAST_CLUSTER: DeepPartial<Config> = {
  cluster: { heartbeatMs: 100, deadAfterMs: 1500, maxConcurrentMoves: 256, rebalanceIntervalMs: 200 },
  actors: { shards: 16, askTimeoutMs: 5000 },
  log: { level: 'silent' },
  metrics: { enabled: true, port: 0 },
};

export interface TestNodeOptions {
  prefix: string;
  apps: App[];
  embedded?: Embedded;
  natsUrl?: string;
  id: string;
  capacity?: number;
  roles?: Array<'gateway' | 'worker'>;
  overrides?: DeepPartial<Config>;
  log?: Logger;
  lifecycle?: LifecycleHook;
}

export async function startTestNode(o: TestNodeOptions): Promise<GatehouseNode> {
  const overrides: DeepPartial<Config> = {
    ...FAST_CLUSTER,
    ...o.overrides,
    prefix: o.prefix,
    node: { id: o.id, roles: o.roles ?? ['worker'], capacity: o.capacity ?? 1, threads: 0 },
    bus: { kind: o.natsUrl ? 'nats' : 'memory' },
    ...(o.natsUrl ? { nats: { servers: [o.natsUrl] } as DeepPartial<Config['nats']> } : {}),
  };
  const config = testConfig(overrides);
  return startNode({
    config,
    apps: o.apps,
    embedded: o.embedded,
    log: o.log ?? silentLogger,
    lifecycle: o.lifecycle,
    ...nodeComponents(config, { forceCluster: true }),
  });
}

export function clusterOf(node: GatehouseNode): ClusterComponent {
  return node.components.find((c) => c.name === 'cluster') as ClusterComponent;
}

/**
 * A test cluster in one process over one implementation (memory or a real nats-server), for a describe block:
 * sets the environment up before the tests and stops every node it started, then the environment, after them.
 */
export function useTestCluster(impl: Impl) {
  let env: Env | undefined;
  const nodes: GatehouseNode[] = [];
  beforeAll(async () => {
    env = await impl.setup();
  });
  afterAll(async () => {
    for (const n of nodes) await n.stop().catch(() => undefined);
    await env?.teardown();
  });
  const ready = (): Env => {
    if (!env) throw new Error('useTestCluster: the environment is not set up yet');
    return env;
  };
  return {
    get env(): Env {
      return ready();
    },
    /** Starts a node on this cluster's bus (`embedded` for memory; the NATS server otherwise) and tracks it. */
    async start(o: Omit<TestNodeOptions, 'natsUrl'>): Promise<GatehouseNode> {
      const n = await startTestNode({ ...o, natsUrl: ready().url });
      nodes.push(n);
      return n;
    },
    /** Stops a node now and forgets it (it will not be stopped again at teardown). */
    async stop(n: GatehouseNode): Promise<void> {
      nodes.splice(nodes.indexOf(n), 1);
      await n.stop();
    },
  };
}
