/**
 * In-process gateway nodes for tests: embedded (in-memory bus, shared by every node of one `Embedded`) or on a real
 * nats-server. Ports are 0 (free ports), logs silent unless asked. Each node comes with its own teardown.
 */
import type { Logger } from 'pino';
import type { Clock } from '../common/clock.js';
import type { DeepPartial } from '../config/load.js';
import { testConfig } from './test-config.js';
import type { Config } from '../config/schema.js';
import { gatewayComponent, type Gateway } from '../gateway/gateway.js';
import { withGatewayKinds } from '../gateway/kinds.js';
import type { App } from '../node-api/app.js';
import { startNode, type Embedded, type GatehouseNode } from '../server/node.js';
import { silentLogger } from '../common/logger.js';

export interface GatewayNodeOptions {
  apps: App[];
  /** In-memory bus shared with other nodes of the same Embedded; or natsUrl. */
  embedded?: Embedded;
  natsUrl?: string;
  prefix?: string;
  id?: string;
  roles?: Array<'gateway' | 'worker'>;
  clock?: Clock;
  gateway?: DeepPartial<Config['gateway']>;
  actors?: DeepPartial<Config['actors']>;
  webRoot?: string;
  log?: Logger;
}

export interface GatewayNode {
  readonly node: GatehouseNode;
  /** Undefined for worker-only nodes. */
  readonly gateway: Gateway | undefined;
  readonly wsUrl: string;
  readonly tcpUrl: string;
  readonly pomeloWsUrl: string;
  readonly pomeloTcpUrl: string;
  readonly httpUrl: string;
  stop(): Promise<void>;
}

export async function startGatewayNode(o: GatewayNodeOptions): Promise<GatewayNode> {
  const roles = o.roles ?? ['gateway', 'worker'];
  const config = testConfig({
    prefix: o.prefix ?? 'gwt',
    node: { id: o.id, roles, capacity: 1, threads: 0 },
    bus: { kind: o.natsUrl ? 'nats' : 'memory' },
    ...(o.natsUrl ? { nats: { servers: [o.natsUrl] } } : {}),
    log: { level: 'silent', pretty: false },
    actors: { shards: 8, ...o.actors },
    gateway: { wsPort: 0, tcpPort: 0, pomeloWsPort: 0, pomeloTcpPort: 0, httpPort: 0, ...o.gateway },
  });
  const node = await startNode({
    config,
    apps: withGatewayKinds(o.apps),
    embedded: o.embedded,
    clock: o.clock,
    log: o.log ?? silentLogger,
    components: roles.includes('gateway') ? [gatewayComponent({ webRoot: o.webRoot })] : [],
  });
  const gateway = node.components.find((c) => c.name === 'gateway') as Gateway | undefined;
  const p = gateway?.ports;
  return {
    node,
    gateway,
    wsUrl: `ws://127.0.0.1:${p?.ws}`,
    tcpUrl: `tcp://127.0.0.1:${p?.tcp}`,
    pomeloWsUrl: `ws://127.0.0.1:${p?.pomeloWs}`,
    pomeloTcpUrl: `tcp://127.0.0.1:${p?.pomeloTcp}`,
    httpUrl: `http://127.0.0.1:${p?.http}`,
    stop: () => node.stop(),
  };
}
