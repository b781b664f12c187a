/**
 * The chat app (docs/CHAT.md): Pomelo-style rooms spread over the workers, reachable from the native protocol (SDK,
 * web page) and from the Pomelo chat sample's client.
 */
import type { App } from '../node-api/app.js';
import type { GatewayApp } from '../node-api/gateway-app.js';
import type { ChatLimits } from './config.js';
import { POMELO_CHAT_DICTIONARY, pomeloChatRoutes } from './pomelo-routes.js';
import { createRoomKind, roomKind } from './room.js';
import { chatRoutes, chatSessionHooks } from './routes.js';

export const chatGateway: GatewayApp = {
  routes: chatRoutes,
  // The Pomelo chat sample's routes; its pushes (onChat, onAdd, onLeave) are the native ones, sent as Pomelo pushes.
  pomelo: { routes: pomeloChatRoutes(), dictionary: POMELO_CHAT_DICTIONARY },
  ...chatSessionHooks,
};

export const chatApp: App = { name: 'chat', kinds: [roomKind], gateway: chatGateway };

/** The chat app with its config section's bounds (room size, members listed per answer). */
export function createChatApp(limits: ChatLimits): App {
  return { name: 'chat', kinds: [createRoomKind(limits)], gateway: chatGateway };
}

export { roomKind, ROOM_KIND } from './room.js';
export { ChatPush } from './room.machine.js';
export { ChatErrorCode } from './errors.js';
export { chatConfig, CHAT_DEFAULTS, type ChatLimits } from './config.js';
