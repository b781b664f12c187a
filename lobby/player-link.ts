/**
 * The player link: what the lobby keeps in a session's data once it logged in (which player record it speaks for, and
 * a copy of where that player stands), and how routes find the player and its layer from it. The player record is
 * the authority on where a player stands; the link's copy (`loc`) lets the hot routes (relays, chat) go straight to
 * the layer without asking the record first. The copy is written after every move, in order (moves of one session
 * run one at a time, see `serial`).
 */
import type { Address } from '../actors/runtime/effects.js';
import { appError } from '../node-api/app-error.js';
import { askActor } from '../node-api/ask-actor.js';
import type { RouteContext, SessionEndContext } from '../node-api/gateway-app.js';
import { sessionSerial } from '../node-api/session-serial.js';
import { LobbyCode } from './model.js';
import { K, kindOfLayer } from './tree.js';

/** Session data key of the link (stored in durable sessions: never rename). */
export const LINK_KEY = 'lobby';

export interface PlayerLink {
  id: string;
  name: string;
  loc: string[];
}

export function linkOf(ctx: Pick<RouteContext, 'get'>): PlayerLink | undefined {
  return ctx.get<PlayerLink | null>(LINK_KEY) ?? undefined;
}

export function requirePlayer(ctx: Pick<RouteContext, 'get'>): PlayerLink {
  const s = linkOf(ctx);
  if (!s) throw appError(LobbyCode.NotLoggedIn, 'log in first (lobby.login)');
  return s;
}

/** The layer the player stands in, as an actor address. */
export function requireLayer(ctx: Pick<RouteContext, 'get'>): { me: PlayerLink; layer: Address } {
  const me = requirePlayer(ctx);
  const id = me.loc[me.loc.length - 1];
  if (!id) throw appError(LobbyCode.NotInLayer, 'enter a server, gate or city first');
  return { me, layer: { kind: kindOfLayer(id), id } };
}

export const playerOf = (id: string): Address => ({ kind: K.player, id });

/**
 * Requests of one session that change where it stands run one after another on this gateway, so the link's copy of
 * the location is written in the order the record changed.
 */
export const serial = sessionSerial();

/** Logs the player out of the lobby when its session ends (idempotent: the gateway may run this twice). */
export async function logoutOnSessionEnd(ctx: SessionEndContext): Promise<void> {
  const s = linkOf(ctx);
  const id = s?.id ?? ctx.session.identity;
  if (!id || !/^[0-9A-Z]{6}$/.test(id)) return;
  await askActor(ctx, playerOf(id), { type: 'logout', session: ctx.session.id });
}
