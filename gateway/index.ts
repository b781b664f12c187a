/** The gateway: client sockets, protocols, sessions, entry endpoint. See docs/ARCHITECTURE.md (Gateway). */
export { gatewayComponent, startGateway, type Gateway, type GatewayOptions } from './gateway.js';
export { gatewayKindsApp, withGatewayKinds } from './kinds.js';
export type * from '../node-api/gateway-app.js';
