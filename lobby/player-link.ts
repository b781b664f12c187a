/**
 * The player link: what the lobby keeps in a session's data once it logged in (which player record it speaks for),
 * and how routes find the player and the layer it stands in. The player record is the authority on where a player
 * stands; the hot routes (relays, chat) go straight to the layer from a copy of its location kept by this gateway
 * (`SessionLocs`), written after every move, in order (moves of one session run one at a time, see `serial`).
 *
 * The copy used to live in the session's data, rewritten after every move: a session actor turn and a store write
 * per move (issue 16: at 600 bots, ~19 of ~180 store writes a second) for a location the record already holds
 * durably. Now a gateway without a copy (the session resumed here, or the gateway restarted) asks the record once
 * (`where`), and a resume forgets this gateway's copy, since the session may have moved elsewhere meanwhile.
 */
import type { Address } from '../actors/runtime/effects.js';
import { appError } from '../node-api/app-error.js';
import { askActor } from '../node-api/ask-actor.js';
import type { RouteContext, SessionEndContext } from '../node-api/gateway-app.js';
import { sessionSerial } from '../node-api/session-serial.js';
import { LobbyCode } from './model.js';
import type { RelayChannels } from './relay-channels.js';
import { K, kindOfLayer } from './tree.js';

/** Session data key of the link (stored in durable sessions: never rename). */
export const LINK_KEY = 'lobby';

export interface PlayerLink {
  id: string;
  name: string;
  /** Where the player stood at login. Not kept current (SessionLocs is); links stored before kept it current. */
  loc?: string[];
}

export function linkOf(ctx: Pick<RouteContext, 'get'>): PlayerLink | undefined {
  return ctx.get<PlayerLink | null>(LINK_KEY) ?? undefined;
}

export function requirePlayer(ctx: Pick<RouteContext, 'get'>): PlayerLink {
  const s = linkOf(ctx);
  if (!s) throw appError(LobbyCode.NotLoggedIn, 'log in first (lobby.login)');
  return s;
}

/**
 * Where the sessions of this gateway stand: session id → location chain. Entries go with the session's end; one
 * left behind (the session resumed on another gateway and ended there) is only ever read again after a resume here,
 * which forgets it first. Bounded: past `cap` sessions it starts over (a missing entry costs one ask of the record).
 */
export class SessionLocs {
  private readonly locs = new Map<string, string[]>();

  /** `relays`: with relays fanned out at the gateways, each session's layer channel follows its location here. */
  constructor(
    private readonly cap = 200_000,
    readonly relays?: RelayChannels,
  ) {}

  get size(): number {
    return this.locs.size;
  }

  /** After a login or a move (the record's answer): where the session's player (`member`) stands now. */
  set(ctx: Pick<RouteContext, 'session'>, member: string, loc: string[]): void {
    const session = ctx.session.id;
    if (this.locs.size >= this.cap && !this.locs.has(session)) this.locs.clear();
    this.locs.set(session, loc);
    this.relays?.place(session, ctx.session.conn.id, member, loc);
  }

  forget(session: string): void {
    this.locs.delete(session);
    this.relays?.forget(session);
  }

  /** This gateway's copy, else the record's answer (kept unless a move set a newer one while it was asked). */
  of(ctx: RouteContext, me: PlayerLink): string[] | Promise<string[]> {
    return this.locs.get(ctx.session.id) ?? this.ask(ctx, me);
  }

  private async ask(ctx: RouteContext, me: PlayerLink): Promise<string[]> {
    const { loc } = await askActor<{ loc: string[] }>(ctx, playerOf(me.id), { type: 'where' });
    if (!this.locs.has(ctx.session.id)) this.set(ctx, me.id, loc);
    return this.locs.get(ctx.session.id)!;
  }
}

/** The id of the layer at the end of a location chain (the relay path needs no more: no parse of the id). */
export function layerIdAt(loc: readonly string[]): string {
  const id = loc[loc.length - 1];
  if (!id) throw appError(LobbyCode.NotInLayer, 'enter a server, gate or city first');
  return id;
}

/** The layer at the end of a location chain, as an actor address. */
export function layerAt(loc: readonly string[]): Address {
  const id = layerIdAt(loc);
  return { kind: kindOfLayer(id), id };
}

/** The player and the layer it stands in, as an actor address. */
export async function requireLayer(ctx: RouteContext, locs: SessionLocs): Promise<{ me: PlayerLink; layer: Address }> {
  const me = requirePlayer(ctx);
  return { me, layer: layerAt(await locs.of(ctx, me)) };
}

export const playerOf = (id: string): Address => ({ kind: K.player, id });

/**
 * Requests of one session that change where it stands run one after another on this gateway, so the copy of the
 * location is written in the order the record changed.
 */
export const serial = sessionSerial();

/** Logs the player out of the lobby when its session ends (idempotent: the gateway may run this twice). */
export async function logoutOnSessionEnd(ctx: SessionEndContext): Promise<void> {
  const s = linkOf(ctx);
  const id = s?.id ?? ctx.session.identity;
  if (!id || !/^[0-9A-Z]{6}$/.test(id)) return;
  await askActor(ctx, playerOf(id), { type: 'logout', session: ctx.session.id });
}
