/**
 * What the lobby keeps in a gateway session, and how routes reach actors. The player record is the authority on
 * where a player stands; the session keeps a copy (`loc`) so the hot routes (relays, chat) go straight to the layer
 * without asking the record first. The copy is written after every move, in order (moves of one session run one at
 * a time, see `serial`).
 */
import type { Address } from '../actors/runtime/effects.js';
import { GatehouseError } from '../common/errors.js';
import { KeyedChain } from '../common/keyed-chain.js';
import { askDelivered } from '../actors/runtime/redeliver.js';
import type { RouteContext, SessionEndContext } from '../node-api/gateway-app.js';
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

/** Asks again while the answer proves the actor never saw the message (see actors/runtime/redeliver.ts). */
export function askActor<T>(ctx: Pick<RouteContext, 'actors'>, to: Address, msg: unknown, timeoutMs?: number): Promise<T> {
  return askDelivered<T>(ctx.actors, to, msg, timeoutMs);
}

/**
 * Requests of one session that change where it stands run one after another on this gateway, so the session's copy
 * of the location is written in the order the record changed.
 */
const chain = new KeyedChain();
export const serial = <T>(session: string, fn: () => Promise<T>): Promise<T> => chain.run(session, fn);

/** Logs the player out of the lobby when its session ends (idempotent: the gateway may run this twice). */
export async function endSession(ctx: SessionEndContext): Promise<void> {
  const s = sessionOf(ctx);
  const id = s?.id ?? ctx.session.identity;
  if (!id || !/^[0-9A-Z]{6}$/.test(id)) return;
  await askActor(ctx, playerOf(id), { type: 'logout', session: ctx.session.id });
}
