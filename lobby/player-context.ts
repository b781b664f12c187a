/**
 * The player record's input, context and events, and the `Outcome` its pure handlers return: the types the player
 * machine (player.machine.ts) and its handlers (player-actions.ts, player-friends.ts, player-view.ts) share, kept
 * apart from the machine so the handlers need not import it.
 */
import type { ConnRef, Effect } from '../actors/runtime/effects.js';
import type { WireError } from '../common/errors.js';
import type { CitySettings } from './model.js';
import type { Nav } from './player-nav.js';
import type { WeaponType } from './equipment.js';

export interface PlayerInput {
  id: string;
  searchShards: number;
}

export interface PlayerContext extends PlayerInput {
  /**
   * The account owning this Capcom ID: set by its first login (the `claim` before it), after which only that account
   * logs in as it. Records written before ownership existed have none (undefined): the next login claims them.
   */
  owner?: string | null;
  /** Equipment: the weapon type (lobby/equipment.ts); absent until the player sets one. */
  weapon?: WeaponType;
  /** False until the first login: such a record is no player (friend requests to it are declined). */
  created: boolean;
  name: string;
  hr: number;
  status: string;
  profile: Uint8Array;
  /** Friend id → hunter name. */
  friends: Record<string, string>;
  /** Incoming friend requests not yet answered: id → name. Delivered with the next login. */
  pending: Record<string, string>;
  /** Outgoing requests not yet answered. */
  sent: Record<string, string>;
  online: { conn: ConnRef; session: string } | null;
  /** Where the player stands: server, gate, city ids (a prefix of that chain), empty when nowhere. */
  loc: string[];
  circle: string | null;
  reserved: string | null;
  /** Bumped on every move: search index updates carry it, so an older update never overwrites a newer one. */
  seq: number;
  /** A move in progress (only ever set within one turn). */
  nav: Nav | null;
}

/**
 * What a single ask of the record is for. The answer comes back as an event of its own type (`circleActAnswer`, …),
 * not as `answer` plus a field set in the context for the turn: such a field, set and cleared within one turn, made
 * every ask a new snapshot, hence a store write, even when nothing changed (a circle's ready or depart, a refused
 * join or reservation). Those answers are the runtime's, inside the turn that asked; toEvent refuses them from outside.
 */
export type AskPurpose = 'reserve' | 'circleCreate' | 'circleJoin' | 'circleLeave' | 'circleAct';
export const ANSWER_OF = {
  reserve: 'reserveAnswer',
  circleCreate: 'circleCreateAnswer',
  circleJoin: 'circleJoinAnswer',
  circleLeave: 'circleLeaveAnswer',
  circleAct: 'circleActAnswer',
} as const satisfies Record<AskPurpose, string>;
export type AnswerType = (typeof ANSWER_OF)[AskPurpose];

/** The runtime's answer to one of the record's own asks. */
export type Answer = { ok: boolean; body?: unknown; error?: WireError };

export type PlayerEvent =
  | { type: 'login'; conn: ConnRef; session: string; name: string; hr: number; force: boolean; weapon?: WeaponType }
  | { type: 'logout'; session: string }
  /** Before a login: the account claims the ID (refused NOT_YOUR_ID when another owns it, unless its token lists it). */
  | { type: 'claim'; account: string; listed: boolean }
  /** Whether this is a player (NOT_FOUND otherwise): asked before a friend request, so none goes to nobody. */
  | { type: 'exists' }
  | { type: 'conn'; conn: ConnRef; session: string }
  | { type: 'go'; to: string[] }
  | { type: 'reserve'; city: string }
  | { type: 'unreserve' }
  | { type: 'openCity'; settings: CitySettings }
  | { type: 'circleCreate'; password: string; goal: string }
  | { type: 'circleJoin'; circle: string; password: string }
  | { type: 'circleLeave' }
  | { type: 'circleAct'; op: 'ready' | 'depart'; ready: boolean }
  | { type: 'circleGone'; circle: string }
  | ({ type: 'navStep' } & Answer)
  | ({ type: AnswerType } & Answer)
  | { type: 'audit'; layer: string }
  | { type: 'tellMsg'; from: string; name: string; text: string }
  | { type: 'profileWrite'; offset: number; bytes: Uint8Array }
  | { type: 'profileRead' }
  | { type: 'setStatus'; status?: string; hr?: number; weapon?: WeaponType }
  | { type: 'whoami' }
  /** Where the player stands, for a gateway without a copy (player-link.ts SessionLocs). */
  | { type: 'where' }
  | FriendEvent;

/**
 * The friend bounds (lobby config), given with each event that could grow a list by the kind's message check, so a
 * config change applies to records stored before it; absent (a machine driven directly), the defaults apply.
 */
export interface FriendCaps {
  friends: number;
  pending: number;
}

export type FriendEvent =
  | { type: 'friendRequest'; to: string; caps?: FriendCaps }
  | { type: 'friendAccept'; from: string; caps?: FriendCaps }
  | { type: 'friendDecline'; from: string }
  | { type: 'friendDelete'; id: string }
  | { type: 'friends' }
  | { type: 'friendAsk'; from: string; name: string; caps?: FriendCaps }
  | { type: 'friendAdded'; by: string; name: string }
  | { type: 'friendDeclined'; by: string }
  | { type: 'friendRemoved'; by: string };

/** What a pure handler returns: the record patch and the effects (asks, tells, pushes, the reply). */
export interface Outcome {
  patch?: Partial<PlayerContext>;
  effects: Effect[];
}
