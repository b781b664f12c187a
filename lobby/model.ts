/**
 * Types shared by the lobby actors, the routes and the client: who a member is, the error codes a player can see,
 * and the push routes clients subscribe to.
 */
import type { ConnRef, Effect } from '../actors/runtime/effects.js';
import type { WireError } from '../common/errors.js';

/** What a layer needs to know about a player standing in it (sent with `enter`). */
export interface MemberInfo {
  id: string;
  name: string;
  hr: number;
  conn: ConnRef;
}

/** What other players see of a member (no connection details). */
export interface PublicMember {
  id: string;
  name: string;
  hr: number;
}

export function publicOf(m: MemberInfo): PublicMember {
  return { id: m.id, name: m.name, hr: m.hr };
}

/** Codes of refusals a player sees: stable strings, like the client error codes of protocol/error-codes.ts. */
export const LobbyCode = {
  Full: 'FULL',
  /** The friend list (with the requests still unanswered) is at lobby.maxFriends. */
  FriendListFull: 'FRIEND_LIST_FULL',
  /** lobby.maxPendingFriendRequests of this player's requests are still unanswered. */
  FriendRequestsFull: 'FRIEND_REQUESTS_FULL',
  HrLimit: 'HR_LIMIT',
  NotFound: 'NOT_FOUND',
  NotOpen: 'NOT_OPEN',
  NotEmpty: 'NOT_EMPTY',
  NotReserved: 'NOT_RESERVED',
  NotLeader: 'NOT_LEADER',
  NotMember: 'NOT_MEMBER',
  NotHere: 'NOT_HERE',
  NotInLayer: 'NOT_IN_LAYER',
  NoQuestSlot: 'NO_QUEST_SLOT',
  WrongPassword: 'WRONG_PASSWORD',
  Departed: 'DEPARTED',
  InCircle: 'IN_CIRCLE',
  NotOnline: 'NOT_ONLINE',
  NotLoggedIn: 'NOT_LOGGED_IN',
  /** The Capcom ID belongs to another account (claimed on its first login, or not listed in the login's token). */
  NotYourId: 'NOT_YOUR_ID',
  /** Auth mode none: this address created lobby.newPlayersPerAddressPerMinute records in the last minute (routes.ts). */
  TooManyNewPlayers: 'TOO_MANY_NEW_PLAYERS',
  /** Same string as ClientErrorCode.AlreadyLoggedIn: a duplicate login looks the same from the gateway and the record. */
  AlreadyOnline: 'ALREADY_LOGGED_IN',
  BadRequest: 'BAD_REQUEST',
  Unavailable: 'UNAVAILABLE',
} as const;
export type LobbyCode = (typeof LobbyCode)[keyof typeof LobbyCode];

export function refuse(code: LobbyCode, message: string): Extract<Effect, { type: 'reply' }> {
  return { type: 'reply', error: { code, message } satisfies WireError };
}

export function ok(body?: unknown): Extract<Effect, { type: 'reply' }> {
  return { type: 'reply', body: body ?? null };
}

/** Push routes (server → client). */
export const Push = {
  join: 'lobby.onJoin',
  leave: 'lobby.onLeave',
  chat: 'lobby.onChat',
  whisper: 'lobby.onWhisper',
  tell: 'lobby.onTell',
  relay: 'lobby.onRelay',
  profile: 'lobby.onProfile',
  leader: 'lobby.onLeader',
  citySettings: 'lobby.onCitySettings',
  reservationExpired: 'lobby.onReservationExpired',
  circles: 'lobby.onCircles',
  circle: 'lobby.onCircle',
  circleRemoved: 'lobby.onCircleRemoved',
  friendRequest: 'lobby.onFriendRequest',
  friendAdded: 'lobby.onFriendAdded',
  friendRemoved: 'lobby.onFriendRemoved',
} as const;

/** City settings a leader chooses (MH3: HR limit, quest goal, "seeking" text). */
export interface CitySettings {
  hrMin: number;
  hrMax: number;
  goal: string;
  seeking: string;
}

export const NO_SETTINGS: CitySettings = { hrMin: 1, hrMax: 999, goal: '', seeking: '' };

/** What a city tells its gate (list views) and its city index (city search). */
export interface CitySummary {
  n: number;
  state: 'empty' | 'reserved' | 'open';
  leader?: string;
  settings?: CitySettings;
  circles: number;
}

/** Search results: an online player and where they stand. */
export interface PlayerHit {
  id: string;
  name: string;
  loc: string[];
  /** Weapon type (lobby/equipment.ts); absent when the player has set none. */
  weapon?: string;
}
