/**
 * A gateway's services with the echo app and nothing behind it (no bus, no actors, no entry endpoint, auth none):
 * what a connection core needs to run a request end to end in one process, without sockets. For tests of the
 * request path on an injected clock and for bench/gateway/request-micro.ts.
 */
import type { ActorClient } from '../actors/runtime/client.js';
import type { Clock } from '../common/clock.js';
import { silentLogger } from '../common/logger.js';
import { Admission } from '../gateway/admission.js';
import { createAttachments } from '../gateway/attachments.js';
import type { GatewayServices } from '../gateway/connection.js';
import { newGatewayMetrics } from '../gateway/metrics.js';
import { buildRouteTable } from '../gateway/routes.js';
import type { GatewaySettings } from '../gateway/settings.js';
import { createEchoApp } from './echo-app.js';

export function echoGatewayServices(o: { nodeId: string; clock: Clock; settings: GatewaySettings }): GatewayServices {
  const actors = { tell: () => undefined, ask: async () => undefined } as unknown as ActorClient;
  return {
    nodeId: o.nodeId,
    clock: o.clock,
    log: silentLogger,
    actors,
    routes: buildRouteTable([createEchoApp()]),
    attachments: createAttachments(actors, o.settings, silentLogger, async () => undefined),
    settings: o.settings,
    metrics: newGatewayMetrics(),
    admission: new Admission(o.settings, o.clock),
    auth: { mode: 'none', admitsAnonymous: true, authenticate: async () => undefined, guard: (_a, h) => h },
    entry: async () => {
      throw new Error('no entry here');
    },
    forget: () => undefined,
  };
}
