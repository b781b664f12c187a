/**
 * What an app written outside this repository needs, from one module (docs/APPS.md; `gatehouse init` makes an app that
 * imports it): defining actor kinds (xstate machines, effects), refusing bad input, and starting a node with the app
 * for its tests. xstate is re-exported so that an app's machines use the same xstate as the runtime that runs them.
 */
import { loadConfig } from '../config/load.js';
import { silentLogger } from '../common/logger.js';
import type { App } from '../node-api/app.js';
import { defaultApps } from './apps.js';
import { nodeComponents } from './components.js';
import { createEmbedded, startNode, type GatehouseNode } from './node.js';

export { setup, assign, emit, enqueueActions } from 'xstate';
export { defineKind, badMessage } from '../actors/runtime/kind.js';
export type { ActorKind, Persistence } from '../actors/runtime/kind.js';
export type { Effect } from '../actors/runtime/effects.js';
export { badRequest } from '../node-api/app-error.js';
export type { App } from '../node-api/app.js';
export type { GatewayApp, RouteContext, RouteHandler } from '../node-api/gateway-app.js';
export { GatehouseError, ErrorCode } from '../common/errors.js';
export { connect, type GatehouseClient } from '../client/node.js';

export interface AppNode {
  readonly node: GatehouseNode;
  /** The native WebSocket endpoint of the node's gateway (`connect({url})`). */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * One embedded node (in-memory bus and store, free loopback ports, no logs) hosting `apps` beside the gateway's own
 * kinds: what an app's tests start, one per test file, stopped in teardown.
 */
export async function startAppNode(apps: App[]): Promise<AppNode> {
  const config = loadConfig({
    overrides: {
      prefix: 'app-test',
      node: { builtinApps: ['gateway'] },
      store: { kind: 'memory' },
      log: { level: 'silent' },
      metrics: { enabled: false },
      gateway: { wsPort: 0, tcpPort: 0, pomeloWsPort: 0, pomeloTcpPort: 0, httpPort: 0, auth: { anonymousApps: apps.map((a) => a.name) } },
    },
  });
  const node = await startNode({ config, apps: [...defaultApps(config), ...apps], log: silentLogger, embedded: createEmbedded(), ...nodeComponents(config) });
  const gw = node.status().gateway as { urls?: Record<string, string> } | undefined;
  const url = gw?.urls?.['native ws'];
  if (!url) {
    await node.stop();
    throw new Error('the app node started without a gateway');
  }
  return { node, url, stop: () => node.stop() };
}
