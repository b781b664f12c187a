/**
 * The actor kinds the gateway relies on, packaged as an app so every node registers them: `conn` (pinned, on
 * gateways), `session` and `identity` (sharded, durable, on workers). Every node of a deployment must include it,
 * worker-only nodes too, since sessions live on workers.
 */
import { connKind } from '../actors/connection/connection.js';
import { identityKind } from '../actors/session/identity.js';
import { sessionKind } from '../actors/session/session.js';
import type { App } from '../node-api/app.js';

export const gatewayKindsApp: App = { name: 'gateway', kinds: [connKind, sessionKind, identityKind] };

/** `apps` with gatewayKindsApp first, unless it is there already. */
export function withGatewayKinds(apps: readonly App[]): App[] {
  return apps.some((a) => a.name === gatewayKindsApp.name) ? [...apps] : [gatewayKindsApp, ...apps];
}
