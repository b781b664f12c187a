/**
 * The chat app's routes and pushes as types, for `typed()` (typed.ts). Written by hand from chat/routes.ts and
 * chat/room.machine.ts (the client may not import server code: layer rules); test/e2e/examples.test.ts checks the
 * route list against the server's, and the example clients exercise every shape. docs/CHAT.md describes them.
 */
import type { GatehouseClient } from './client.js';
import { typed, type TypedClient } from './typed.js';

/** A page of member names: the first `chat.memberListLimit` in join order, and how many there are. */
export interface ChatMembers {
  users: string[];
  count: number;
}

export interface ChatRoutes {
  /** Errors: NAME_TAKEN, ROOM_FULL, BAD_REQUEST. */
  'chat.enter': { req: { name: string; room: string }; res: ChatMembers };
  /** Errors: NAME_TAKEN, ROOM_FULL (you stay where you were), NOT_IN_ROOM. */
  'chat.switch': { req: { room: string }; res: ChatMembers };
  /** `target` is '*' (everyone, the default) or a member's name. Errors: NOT_IN_ROOM, NO_SUCH_USER. */
  'chat.send': { req: { content: string; target?: string }; res: null };
  'chat.leave': { req: void; res: { left: boolean } };
  /** Errors: NOT_IN_ROOM. */
  'chat.members': { req: { offset?: number; limit?: number }; res: ChatMembers & { room: string; name: string } };
}

export interface ChatPushes {
  /** A message: `target` is '*' for everyone (the sender gets it too) or the addressee's name. */
  onChat: { msg: string; from: string; target: string };
  onAdd: { user: string };
  onLeave: { user: string };
}

/** Every chat route name, for checks and tools. */
export const CHAT_ROUTES = ['chat.enter', 'chat.switch', 'chat.send', 'chat.leave', 'chat.members'] as const satisfies ReadonlyArray<keyof ChatRoutes>;

export type ChatClient = TypedClient<ChatRoutes, ChatPushes>;

/** The chat routes of a connected client, typed. */
export const chatClient = (gh: GatehouseClient): ChatClient => typed<ChatRoutes, ChatPushes>(gh);
