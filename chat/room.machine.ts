/**
 * A chat room (a Pomelo "channel"): who is in it, under which name, and where to push to each of them. Pure: the room
 * reaches the world only through effects, and every event has already been validated by the kind's `toEvent`.
 *
 * Members are keyed by session id (stable across reconnects) and carry their current ConnRef, so one push effect
 * with every member's ConnRef lets the runtime send one bus message per gateway, whatever the room size.
 */
import { emit, enqueueActions, setup } from 'xstate';
import type { ConnRef, Effect } from '../actors/runtime/effects.js';
import { CHAT_DEFAULTS, type RoomLimits } from './config.js';
import { ChatErrorCode } from './errors.js';
import { EVERYONE } from './validate.js';

/** Push routes, named as in the Pomelo chat sample so its client works unchanged. */
export const ChatPush = { Chat: 'onChat', Add: 'onAdd', Leave: 'onLeave' } as const;

export interface Member {
  name: string;
  session: string;
  conn: ConnRef;
}

export interface RoomContext {
  room: string;
  /** In join order: the order `users` lists are given in. */
  members: Member[];
}

export type RoomEvent =
  /** Joins under `name`. Idempotent for the same session and name (a retried request re-binds and lists again). */
  | { type: 'enter'; session: string; name: string; conn: ConnRef }
  /** To everyone (`target: '*'`) or to the one member called `target`. */
  | { type: 'say'; session: string; content: string; target: string }
  | { type: 'leave'; session: string }
  /** The session reconnected: pushes go to its new connection. */
  | { type: 'rebind'; session: string; conn: ConnRef }
  | { type: 'members'; offset?: number; limit?: number };

export interface ChatMessage {
  msg: string;
  from: string;
  target: string;
}

/**
 * Lookups derived from a members array, cached by the array's identity. `assign` replaces the array on every
 * membership change, so a cached entry can never be stale, and the hot path (`say` in a big room) does no O(n) work
 * beyond the push itself. Deterministic, so the machine stays pure.
 */
interface Index {
  bySession: Map<string, Member>;
  byName: Map<string, Member>;
  conns: ConnRef[];
  users: string[];
}
const indexes = new WeakMap<Member[], Index>();

export function indexOf(members: Member[]): Index {
  let ix = indexes.get(members);
  if (!ix) {
    ix = { bySession: new Map(), byName: new Map(), conns: [], users: [] };
    for (const m of members) {
      ix.bySession.set(m.session, m);
      ix.byName.set(m.name, m);
      ix.conns.push(m.conn);
      ix.users.push(m.name);
    }
    indexes.set(members, ix);
  }
  return ix;
}

function without(members: Member[], session: string): Member[] {
  return members.filter((m) => m.session !== session);
}

/** A members list as answers carry it: at most `limit` names from `offset` in join order, and how many there are. */
export function userList(ix: Index, limit: number, offset = 0): { users: string[]; count: number } {
  const users = offset === 0 && ix.users.length <= limit ? ix.users : ix.users.slice(offset, offset + limit);
  return { users, count: ix.users.length };
}

export const roomMachine = createRoomMachine(CHAT_DEFAULTS);

export function createRoomMachine(limits: RoomLimits) {
  const list = (ix: Index) => userList(ix, limits.memberListLimit);
  return setup({
    types: {} as {
      context: RoomContext;
      events: RoomEvent;
      input: { room: string };
      emitted: Effect;
    },
  }).createMachine({
    id: 'chat-room',
    context: ({ input }) => ({ room: input.room, members: [] }),
    on: {
      enter: {
        actions: enqueueActions(({ context, event, enqueue }) => {
          const ix = indexOf(context.members);
          const holder = ix.byName.get(event.name);
          if (holder && holder.session !== event.session) {
            enqueue.emit({
              type: 'reply',
              error: { code: ChatErrorCode.NameTaken, message: `the name "${event.name}" is already taken in room "${context.room}"` },
            });
            return;
          }
          const me: Member = { name: event.name, session: event.session, conn: event.conn };
          const previous = ix.bySession.get(event.session);
          if (previous && previous.name === event.name) {
            // Same session, same name: a retry or a re-entry after reconnecting. Nobody else needs to hear of it.
            enqueue.assign({ members: context.members.map((m) => (m === previous ? me : m)) });
            enqueue.emit({ type: 'reply', body: list(ix) });
            return;
          }
          if (!previous && context.members.length >= limits.maxMembers) {
            enqueue.emit({
              type: 'reply',
              error: { code: ChatErrorCode.RoomFull, message: `room "${context.room}" is full (${limits.maxMembers} members)` },
            });
            return;
          }
          const others = previous ? without(context.members, event.session) : context.members;
          const othersConns = indexOf(others).conns;
          // A session entering under a new name is seen by the others as the old name leaving and the new one coming.
          if (previous && othersConns.length) enqueue.emit({ type: 'push', to: othersConns, route: ChatPush.Leave, body: { user: previous.name } });
          if (othersConns.length) enqueue.emit({ type: 'push', to: othersConns, route: ChatPush.Add, body: { user: event.name } });
          const members = [...others, me];
          enqueue.assign({ members });
          enqueue.emit({ type: 'reply', body: list(indexOf(members)) });
        }),
      },
      say: {
        // Exactly one effect whatever happens, so a plain `emit` rather than enqueueActions: the hot path of a chat
        // line, and enqueueActions builds its enqueue helpers and an action list on every call.
        actions: emit(({ context, event }): Effect => {
          const ix = indexOf(context.members);
          const from = ix.bySession.get(event.session);
          if (!from) return { type: 'reply', error: { code: ChatErrorCode.NotInRoom, message: `not in room "${context.room}"` } };
          const body: ChatMessage = { msg: event.content, from: from.name, target: event.target };
          if (event.target === EVERYONE) return { type: 'push', to: ix.conns, route: ChatPush.Chat, body };
          const to = ix.byName.get(event.target);
          if (!to) return { type: 'reply', error: { code: ChatErrorCode.NoSuchUser, message: `nobody called "${event.target}" in room "${context.room}"` } };
          // Only the addressee, as in the Pomelo sample: the sender's client shows its own private line itself.
          return { type: 'push', to: to.conn, route: ChatPush.Chat, body };
        }),
      },
      leave: {
        actions: enqueueActions(({ context, event, enqueue }) => {
          const me = indexOf(context.members).bySession.get(event.session);
          if (!me) {
            enqueue.emit({ type: 'reply', body: { left: false } });
            return;
          }
          const members = without(context.members, event.session);
          enqueue.assign({ members });
          enqueue.emit({ type: 'reply', body: { left: true } });
          if (members.length) enqueue.emit({ type: 'push', to: indexOf(members).conns, route: ChatPush.Leave, body: { user: me.name } });
          // An empty room holds nothing worth keeping: leave memory now rather than after the idle time.
          else enqueue.emit({ type: 'passivate' });
        }),
      },
      rebind: {
        actions: enqueueActions(({ context, event, enqueue }) => {
          const me = indexOf(context.members).bySession.get(event.session);
          if (me) enqueue.assign({ members: context.members.map((m) => (m === me ? { ...me, conn: event.conn } : m)) });
          enqueue.emit({ type: 'reply', body: { rebound: me !== undefined } });
        }),
      },
      members: {
        actions: emit(({ context, event }) => ({
          type: 'reply' as const,
          body: userList(indexOf(context.members), Math.min(event.limit ?? limits.memberListLimit, limits.memberListLimit), event.offset),
        })),
      },
    },
  });
}

/** Whether a room snapshot holds anyone (the kind passivates only empty rooms). */
export function isEmptyRoom(context: RoomContext): boolean {
  return context.members.length === 0;
}
