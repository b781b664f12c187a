/**
 * An app is a workload gatehouse hosts (chat, lobby, a demo): its actor kinds, and what its clients may call.
 * Nodes are built from a list of apps; nothing in the runtime knows which apps exist.
 */
import type { ActorKind } from '../actors/runtime/kind.js';
import type { Authenticate } from './auth.js';
import type { GatewayApp } from './gateway-app.js';

export interface App {
  readonly name: string;
  readonly kinds: ActorKind[];
  /** Client-facing routes and session hooks, served by gateway nodes. */
  readonly gateway?: GatewayApp;
  /** Checks client credentials when `gateway.auth.mode` is `hook` (node-api/auth.ts). */
  readonly authenticate?: Authenticate;
}
