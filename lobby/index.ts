/**
 * The game lobby: an MH3-style tree of servers, city gates, cities and quest circles, durable player
 * records, chat and relays in every layer, and search across the cluster. Every layer is an actor; the tree's shape
 * comes from its config section (`lobby`, config.ts). docs/ARCHITECTURE.md ("Lobby") explains the design.
 */
import type { App } from '../node-api/app.js';
import { LOBBY_DEFAULTS } from './config.js';
import { lobbyKinds } from './kinds.js';
import { lobbyGateway } from './routes.js';
import type { LobbyTree } from './tree.js';

export function createLobbyApp(tree: LobbyTree): App {
  return { name: 'lobby', kinds: lobbyKinds(tree), gateway: lobbyGateway(tree) };
}

/** The lobby with the default (MH3) tree. Nodes built from config use createLobbyApp with its `lobby` section. */
export const lobbyApp: App = createLobbyApp(LOBBY_DEFAULTS);

export { K as LobbyKind, type LobbyTree } from './tree.js';
export { LOBBY_DEFAULTS, lobbyConfig } from './config.js';
export { LobbyCode, Push as LobbyPush } from './model.js';
