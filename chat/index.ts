/**
 * The chat app (PRODUCT.md F): Pomelo-style rooms spread over the workers, reachable from the native protocol (SDK,
 * web page) and from the Pomelo chat sample's client.
 */
import type { App } from '../server/app.js';
import type { GatewayApp } from '../gateway/app-api.js';
import { roomKind } from './room.js';
import { chatRoutes, chatSessionHooks } from './routes.js';

export const chatGateway: GatewayApp = {
  routes: chatRoutes,
  ...chatSessionHooks,
};

export const chatApp: App = { name: 'chat', kinds: [roomKind], gateway: chatGateway };

export { roomKind, ROOM_KIND } from './room.js';
export { ChatPush } from './room.machine.js';
export { ChatErrorCode } from './errors.js';
