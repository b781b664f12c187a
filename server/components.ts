/**
 * The components a node runs besides its actor host, chosen from config: the cluster layer (membership, shard
 * leases, balancer, migration) whenever the node joins a shared bus, and the gateway for the gateway role.
 */
import type { Config } from '../config/schema.js';
import { startCluster, type ClusterOptions } from '../cluster/cluster.js';
import { gatewayComponent, type GatewayOptions } from '../gateway/gateway.js';
import type { NodeOptions } from './node.js';
import { startOpsHttp } from './ops-http.js';
import { controlSocketComponent } from './control-socket.js';

export interface ComponentOptions {
  cluster?: ClusterOptions;
  /** Cluster even on the in-memory bus (several embedded nodes in one process). */
  forceCluster?: boolean;
  gateway?: GatewayOptions;
  /** Serve the embedded control socket (default: on for an embedded node with an on-disk store); off in a process's
   * worker threads, whose main thread serves it. */
  controlSocket?: boolean;
}

export function nodeComponents(config: Config, o: ComponentOptions = {}): Pick<NodeOptions, 'cluster' | 'components'> {
  const clustered = config.bus.kind === 'nats' || o.forceCluster === true;
  return {
    cluster: clustered ? (ctx) => startCluster(ctx, o.cluster) : undefined,
    components: [
      ...(config.node.roles.includes('gateway') ? [gatewayComponent(o.gateway)] : []),
      (ctx) => startOpsHttp(ctx, ctx.status),
      // The CLI's tools reach an embedded node through its data directory (server/control-socket.ts).
      ...(config.bus.kind === 'memory' && config.store.kind === 'lmdb' && o.controlSocket !== false ? [controlSocketComponent()] : []),
    ],
  };
}
