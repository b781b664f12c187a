/**
 * The chat app (docs/CHAT.md): Pomelo-style rooms spread over the workers, reachable from the native protocol (SDK,
 * web page) and from the Pomelo chat sample's client.
 */
import type { App } from '../node-api/app.js';
import type { GatewayApp, GatewayChannels } from '../node-api/gateway-app.js';
import type { ChatLimits } from './config.js';
import { POMELO_CHAT_DICTIONARY, pomeloChatRoutes } from './pomelo-routes.js';
import { createRoomKind, roomKind } from './room.js';
import { ChatLines } from './line-channels.js';
import { chatRoutes, chatSessionHooks, createChatRoutes, createChatSessionHooks } from './routes.js';

/** Every line through its room actor (chat.lineFanout off). */
export const chatGatewayViaRooms: GatewayApp = {
  routes: chatRoutes,
  // The Pomelo chat sample's routes; its pushes (onChat, onAdd, onLeave) are the native ones, sent as Pomelo pushes.
  pomelo: { routes: pomeloChatRoutes(), dictionary: POMELO_CHAT_DICTIONARY },
  ...chatSessionHooks,
};

/** One gateway's part with lines to everyone on room channels (chat/line-channels.ts): its own ChatLines. */
function chatGatewayWithLines(channels: GatewayChannels): GatewayApp {
  const lines = new ChatLines(channels);
  return {
    routes: createChatRoutes(lines),
    pomelo: { routes: pomeloChatRoutes({ lines }), dictionary: POMELO_CHAT_DICTIONARY },
    ...createChatSessionHooks(lines),
  };
}

/** The chat app's gateway part: with chat.lineFanout (the default) each gateway builds its own (forGateway). */
export const chatGateway: GatewayApp = { ...chatGatewayViaRooms, forGateway: (host) => chatGatewayWithLines(host.channels) };

export const chatApp: App = { name: 'chat', kinds: [roomKind], gateway: chatGateway };

/** The chat app with its config section (room size, members listed per answer, lines on room channels). */
export function createChatApp(limits: ChatLimits): App {
  return { name: 'chat', kinds: [createRoomKind(limits)], gateway: limits.lineFanout ? chatGateway : chatGatewayViaRooms };
}

export { roomKind, ROOM_KIND } from './room.js';
export { ChatPush } from './room.machine.js';
export { ChatErrorCode } from './errors.js';
export { chatConfig, CHAT_DEFAULTS, type ChatLimits } from './config.js';
