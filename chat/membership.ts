/**
 * What a session does to rooms, shared by the native routes and the Pomelo chat-sample routes: enter, switch, say,
 * leave, re-bind. The session remembers its room and name (session data survives a reconnect with the ticket); the
 * room actor is the authority on who is in it.
 */
import type { ActorClient } from '../actors/runtime/client.js';
import type { ConnRef } from '../actors/runtime/effects.js';
import type { GatehouseError } from '../common/errors.js';
import { appError } from '../node-api/app-error.js';
import { askActor } from '../node-api/ask-actor.js';
import { sessionSerial } from '../node-api/session-serial.js';
import type { Logger } from 'pino';
import { ChatErrorCode } from './errors.js';
import type { ChatLines } from './line-channels.js';
import { ROOM_KIND } from './room.js';
import { EVERYONE } from './validate.js';

/** Session data key; the value is a `Seat` or null. */
export const SEAT_KEY = 'chat';

export interface Seat {
  room: string;
  name: string;
}

/** The part of a route context membership needs (RouteContext and SessionEndContext both fit, minus `set`). */
export interface SeatContext {
  readonly session: { readonly id: string; readonly conn: ConnRef };
  readonly actors: ActorClient;
  readonly log: Logger;
  get<T = unknown>(key: string): T | undefined;
  set?(key: string, value: unknown): Promise<void>;
}

export function seatOf(ctx: SeatContext): Seat | undefined {
  const s = ctx.get<Seat | null>(SEAT_KEY);
  return s ?? undefined;
}

async function remember(ctx: SeatContext, seat: Seat | null): Promise<void> {
  await ctx.set?.(SEAT_KEY, seat);
}

function askRoom<T>(ctx: SeatContext, name: string, msg: unknown): Promise<T> {
  return askActor<T>(ctx, { kind: ROOM_KIND, id: name }, msg);
}

/** Membership changes of one session run one after another, so a double click on "switch" cannot seat it in two rooms. */
export const serial = sessionSerial();

/**
 * Seats the session in `target` under `name`. Enters the new room first and leaves the old one only once that
 * succeeded: a refused name (or a room that cannot be reached) leaves the session where it was, still chatting.
 */
export async function takeSeat(ctx: SeatContext, target: Seat, lines?: ChatLines): Promise<{ users: string[]; count: number }> {
  const before = seatOf(ctx);
  const res = await askRoom<{ users: string[]; count: number }>(ctx, target.room, {
    type: 'enter',
    session: ctx.session.id,
    name: target.name,
    conn: ctx.session.conn,
  });
  await remember(ctx, target);
  // Onto the new room's channel (off the old one's) as soon as the new room seated us: lines to both rooms meanwhile
  // reach this session from the new one only, as its pushes do.
  lines?.seat(ctx.session.id, ctx.session.conn.id, target.room);
  if (before && before.room !== target.room) await leaveRoom(ctx, before.room);
  return res;
}

async function leaveRoom(ctx: SeatContext, name: string): Promise<boolean> {
  try {
    const r = await askRoom<{ left: boolean }>(ctx, name, { type: 'leave', session: ctx.session.id });
    return r.left;
  } catch (err) {
    // The session has moved on either way. Retries above cover a room with no owner; if its worker is gone the room
    // restarted empty anyway. What is left is a leave that timed out on a live but swamped room: it was most likely
    // applied late. Should it not have been, that room keeps the name taken and pushes to this connection; nothing
    // retries it (a late retry could remove the session after it came back). Known limit, see docs/CHAT.md.
    ctx.log.warn({ err, room: name }, 'chat: leaving the previous room failed');
    return false;
  }
}

export function requireSeat(ctx: SeatContext): Seat {
  const seat = seatOf(ctx);
  if (!seat) throw appError(ChatErrorCode.NotInRoom, 'enter a room first');
  return seat;
}

/**
 * Says something in the session's room. When the room answers NOT_IN_ROOM although the session holds a seat there,
 * the room lost its members (its worker crashed: rooms are not persisted); the session takes its seat again and
 * says it once more.
 */
export function say(ctx: SeatContext, content: string, target: string, lines?: ChatLines): Promise<null> {
  // Not an async function: a chat line's one promise is the ask's own, chained once (what the route answers is null).
  let seat: Seat;
  try {
    seat = requireSeat(ctx);
  } catch (err) {
    return Promise.reject(err);
  }
  const session = ctx.session.id;
  // To everyone: on the room's gateway channel (chat/line-channels.ts), unless this line must confirm the seat.
  if (lines && target === EVERYONE && lines.say(session, ctx.session.conn.id, seat.room, seat.name, content)) return SAID;
  const msg = { type: 'say', session, content, target };
  const line = askRoom(ctx, seat.room, msg).then(said, async (err: unknown) => {
    if ((err as GatehouseError).code !== ChatErrorCode.NotInRoom) throw err;
    await rejoin(ctx, seat);
    await askRoom(ctx, seat.room, msg);
    return null;
  });
  if (!lines || target !== EVERYONE) return line;
  const room = seat.room;
  // The room answered: it has the session's seat now (on the channel from here, for another check interval), unless
  // the session moved to another room meanwhile (its enter put it on that room's channel).
  return line.then(
    () => {
      if (seatOf(ctx)?.room === room) lines.seat(session, ctx.session.conn.id, room);
      return null;
    },
    (err: unknown) => {
      // A room that lost the session and gave its name away meanwhile: the seat is gone (rejoin forgot it).
      if (!seatOf(ctx)) lines.unseat(session);
      throw err;
    },
  );
}

const said = (): null => null;
const SAID: Promise<null> = Promise.resolve(null);

async function rejoin(ctx: SeatContext, seat: Seat): Promise<void> {
  try {
    await askRoom(ctx, seat.room, { type: 'enter', session: ctx.session.id, name: seat.name, conn: ctx.session.conn });
    ctx.log.info({ room: seat.room }, 'chat: seat taken again in a room that had lost its members');
  } catch (err) {
    if ((err as GatehouseError).code === ChatErrorCode.NameTaken) await remember(ctx, null);
    throw err;
  }
}

export async function leaveSeat(ctx: SeatContext, lines?: ChatLines): Promise<{ left: boolean }> {
  const seat = seatOf(ctx);
  lines?.unseat(ctx.session.id);
  if (!seat) return { left: false };
  const left = await leaveRoom(ctx, seat.room);
  await remember(ctx, null);
  return { left };
}

/**
 * The session's seat and who else is there (a page reloaded with its ticket rebuilds its view from this): a page of
 * at most chat.memberListLimit names from `offset`, and the room's `count`.
 */
export async function members(ctx: SeatContext, page: { offset?: number; limit?: number } = {}): Promise<{ room: string; name: string; users: string[]; count: number }> {
  const seat = requireSeat(ctx);
  const r = await askRoom<{ users: string[]; count: number }>(ctx, seat.room, { type: 'members', ...page });
  return { room: seat.room, name: seat.name, users: r.users, count: r.count };
}

/** After a reconnect: pushes for this session go to its new connection (and a room that lost it seats it again). */
export async function rebind(ctx: SeatContext, lines?: ChatLines): Promise<void> {
  const seat = seatOf(ctx);
  if (!seat) return;
  const r = await askRoom<{ rebound: boolean }>(ctx, seat.room, { type: 'rebind', session: ctx.session.id, conn: ctx.session.conn });
  if (!r.rebound) await rejoin(ctx, seat);
  lines?.seat(ctx.session.id, ctx.session.conn.id, seat.room);
}
