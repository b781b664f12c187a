/**
 * Chat's client routes for the native protocol (the SDK and the web page), and the session hooks that keep rooms in
 * step with sessions. Bodies are checked here (BAD_REQUEST) before any actor is asked; the room checks again.
 *
 *   chat.enter   {name, room}          → {users}      enter, or move to `room` under `name`
 *   chat.switch  {room}                → {users}      move to another room, same name, same connection
 *   chat.send    {content, target}     → null         target '*' = everyone in the room, else one member's name
 *   chat.leave   {}                    → {left}
 *   chat.members {offset?, limit?}     → {room, name, users, count}   the session's seat and who is there (paged)
 *
 * Pushes: onChat {msg, from, target}, onAdd {user}, onLeave {user} (the Pomelo chat sample's).
 */
import { isObject } from '../common/is-object.js';
import { badRequest } from '../node-api/app-error.js';
import type { GatewayApp, RouteContext, RouteHandler, SessionEndContext } from '../node-api/gateway-app.js';
import type { ChatLines } from './line-channels.js';
import { leaveSeat, members, rebind, requireSeat, say, serial, takeSeat } from './membership.js';
import { checkContent, checkName, checkRoom, checkTarget } from './validate.js';

function body(v: unknown): Record<string, unknown> {
  // A client that sends no body at all means "nothing": treat it as {}.
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw badRequest('body must be an object');
  return v;
}

function need(reason: string | undefined): void {
  if (reason !== undefined) throw badRequest(reason);
}

/** The routes; with `lines` (a gateway's, chat.lineFanout) lines to everyone go on the room's gateway channel. */
export function createChatRoutes(lines?: ChatLines): Record<string, RouteHandler> {
  return {
  'chat.enter': async (ctx, raw) => {
    const b = body(raw);
    need(checkName(b.name) ?? checkRoom(b.room));
    const seat = { name: b.name as string, room: b.room as string };
    return serial(ctx.session.id, () => takeSeat(ctx, seat, lines));
  },
  'chat.switch': async (ctx, raw) => {
    const b = body(raw);
    need(checkRoom(b.room));
    return serial(ctx.session.id, () => takeSeat(ctx, { name: requireSeat(ctx).name, room: b.room as string }, lines));
  },
  // The chat line: say's promise itself, no async wrapper of its own; a bad body is a rejection, as from the others.
  'chat.send': (ctx, raw) => {
    try {
      const b = body(raw);
      need(checkContent(b.content) ?? checkTarget(b.target ?? '*'));
      return say(ctx, b.content as string, (b.target as string | undefined) ?? '*', lines);
    } catch (err) {
      return Promise.reject(err);
    }
  },
  'chat.leave': async (ctx) => serial(ctx.session.id, () => leaveSeat(ctx, lines)),
  'chat.members': async (ctx, raw) => {
    const b = body(raw);
    const n = (v: unknown, what: string, max: number) => {
      if (v === undefined) return undefined;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw badRequest(`${what} must be an integer in 0–${max}`);
      return v;
    };
    return members(ctx, { offset: n(b.offset, 'offset', 100_000), limit: n(b.limit, 'limit', 1000) });
  },
  };
}

/** The routes without gateway channels: every line through its room. */
export const chatRoutes: Record<string, RouteHandler> = createChatRoutes();

/** Session hooks shared by every protocol: the seat follows the session, not the socket. */
export function createChatSessionHooks(lines?: ChatLines): Pick<GatewayApp, 'onSessionResume' | 'onSessionEnd'> {
  return {
    async onSessionResume(ctx: RouteContext) {
      await serial(ctx.session.id, () => rebind(ctx, lines));
    },
    async onSessionEnd(ctx: SessionEndContext) {
      await serial(ctx.session.id, () => leaveSeat(ctx, lines));
    },
  };
}

export const chatSessionHooks = createChatSessionHooks();
