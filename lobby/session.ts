/**
 * What the lobby keeps in a gateway session, and how routes reach actors. The player record is the authority on
 * where a player stands; the session keeps a copy (`loc`) so the hot routes (relays, chat) go straight to the layer
 * without asking the record first. The copy is written after every move, in order (moves of one session run one at
 * a time, see `serial`).
 */
import type { Address } from '../actors/runtime/effects.js';
import { ErrorCode, GatehouseError } from '../common/errors.js';
import type { RouteContext, SessionEndContext } from '../gateway/app-api.js';
import { LobbyCode } from './model.js';
import { K, kindOfLayer } from './tree.js';

export const SESSION_KEY = 'lobby';

export interface LobbySession {
  id: string;
  name: string;
  loc: string[];
}

export function lobbyError(code: LobbyCode, message: string): GatehouseError {
  return new GatehouseError(code, message);
}

export function sessionOf(ctx: Pick<RouteContext, 'get'>): LobbySession | undefined {
  return ctx.get<LobbySession | null>(SESSION_KEY) ?? undefined;
}

export function requirePlayer(ctx: Pick<RouteContext, 'get'>): LobbySession {
  const s = sessionOf(ctx);
  if (!s) throw lobbyError(LobbyCode.NotLoggedIn, 'log in first (lobby.login)');
  return s;
}

/** The layer the player stands in, as an actor address. */
export function requireLayer(ctx: Pick<RouteContext, 'get'>): { me: LobbySession; layer: Address } {
  const me = requirePlayer(ctx);
  const id = me.loc[me.loc.length - 1];
  if (!id) throw lobbyError(LobbyCode.NotInLayer, 'enter a server, gate or city first');
  return { me, layer: { kind: kindOfLayer(id), id } };
}

export const playerOf = (id: string): Address => ({ kind: K.player, id });

/**
 * Answers that prove the actor never saw the message (no owner for its shard at that instant, or the asked node had
 * just handed it over): sending again is always safe then, so we do, for about a second and a half.
 */
const NOT_DELIVERED: ReadonlySet<string> = new Set([ErrorCode.NoResponders, ErrorCode.NotOwner]);
const RETRY_DELAYS_MS = [50, 100, 200, 400, 800];

export async function askActor<T>(ctx: Pick<RouteContext, 'actors'>, to: Address, msg: unknown, timeoutMs?: number): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await ctx.actors.ask<T>(to, msg, timeoutMs ? { timeoutMs } : undefined);
    } catch (err) {
      if (!NOT_DELIVERED.has((err as GatehouseError).code) || attempt >= RETRY_DELAYS_MS.length) throw err;
      await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[attempt]));
    }
  }
}

/**
 * Requests of one session that change where it stands run one after another on this gateway, so the session's copy
 * of the location is written in the order the record changed.
 */
const chains = new Map<string, Promise<unknown>>();
export function serial<T>(session: string, fn: () => Promise<T>): Promise<T> {
  const prev = chains.get(session) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const tail = next.catch(() => undefined);
  chains.set(session, tail);
  void tail.then(() => {
    if (chains.get(session) === tail) chains.delete(session);
  });
  return next;
}

/** Logs the player out of the lobby when its session ends (idempotent: the gateway may run this twice). */
export async function endSession(ctx: SessionEndContext): Promise<void> {
  const s = sessionOf(ctx);
  const id = s?.id ?? ctx.session.identity;
  if (!id || !/^[0-9A-Z]{6}$/.test(id)) return;
  await askActor(ctx, playerOf(id), { type: 'logout', session: ctx.session.id });
}
