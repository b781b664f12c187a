/**
 * The lobby's routes and pushes as types, for `typed()` (typed.ts). Written by hand from lobby/routes.ts,
 * lobby/routes-social.ts, lobby/model.ts and the answers of the lobby actors (the client may not import server code:
 * layer rules). test/e2e/examples.test.ts checks both lists against the server's, and the example lobby client and the
 * playground page exercise the shapes. docs/LOBBY.md describes every route, its errors and every push.
 *
 * Ids spell the place in the tree: `s03` server, `s03-g12` gate, `s03-g12-c07` city, `s03-g12-c07-q2` quest circle.
 */
import type { GatehouseClient } from './client.js';
import { typed, type TypedClient } from './typed.js';

export type ServerType = 'Open' | 'Rookie' | 'Expert' | 'Recruiting';
export type WeaponType =
  | 'great-sword'
  | 'long-sword'
  | 'sword-and-shield'
  | 'hammer'
  | 'lance'
  | 'switch-axe'
  | 'light-bowgun'
  | 'medium-bowgun'
  | 'heavy-bowgun';
/** A layer's fill: EMPTY (n = 0), FULL (n ≥ capacity, or a city being created), else JOINABLE. */
export type LayerStatus = 'EMPTY' | 'JOINABLE' | 'FULL';
export type CityState = 'empty' | 'reserved' | 'open';
export type CircleState = 'forming' | 'departed';

export interface Page<T> {
  total: number;
  offset: number;
  items: T[];
}
export interface PublicMember {
  id: string;
  name: string;
  hr: number;
}
export interface CitySettings {
  hrMin: number;
  hrMax: number;
  goal: string;
  seeking: string;
}
/** What other players see of a player record (lobby.status, lobby.profile.get). */
export interface PublicRecord {
  id: string;
  name: string;
  hr: number;
  weapon?: WeaponType;
  status: string;
  online: boolean;
  /** Where the player stands: [server, gate, city] ids, as far down as it went ([] = the top). */
  loc: string[];
  circle: string | null;
}
export interface FriendLists {
  friends: Array<{ id: string; name: string }>;
  /** Requests to you not answered yet. */
  pending: Array<{ id: string; name: string }>;
  /** Ids you asked. */
  sent: string[];
}
export type LoginAnswer = PublicRecord & FriendLists;
export type WhoAmI = LoginAnswer & { created: boolean; reserved: string | null };

export interface ServerItem {
  id: string;
  type: ServerType;
  n: number;
  capacity: number;
  status: LayerStatus;
}
export interface GateItem {
  id: string;
  n: number;
  capacity: number;
  status: LayerStatus;
}
export interface CityItem {
  id: string;
  n: number;
  capacity: number;
  status: LayerStatus;
  state: CityState;
  leader?: string;
  settings?: CitySettings;
  circles: number;
}
export interface CircleItem {
  id: string;
  slot: number;
  n: number;
  state: CircleState;
  /** The leader's name. */
  leader: string;
  goal: string;
  locked: boolean;
}

interface LayerBase {
  layer: string;
  n: number;
  capacity: number;
}
/** A layer's view (lobby.layer, lobby.enter): `members` lists the first 100 standing here; `n` counts everyone under it. */
export type LayerView =
  | (LayerBase & { level: 'server'; type: ServerType; status: LayerStatus; members: PublicMember[] })
  | (LayerBase & { level: 'gate'; status: LayerStatus; members: PublicMember[] })
  | (LayerBase & {
      level: 'city';
      state: CityState;
      /** The leader's name and id. */
      leader?: string;
      leaderId: string | null;
      settings: CitySettings;
      circles: CircleItem[];
      members: PublicMember[];
    });
export type ServerView = LayerBase & { level: 'server'; type: ServerType; status: LayerStatus; gates: Page<GateItem> };
export type GateView = LayerBase & { level: 'gate'; status: LayerStatus; cities: Page<CityItem> };
export interface Move {
  loc: string[];
  /** null at the top (loc []). */
  view: LayerView | null;
}
export interface CircleView {
  circle: string;
  city: string;
  state: CircleState;
  /** The leader's id. */
  leader: string;
  goal: string;
  locked: boolean;
  capacity: number;
  members: Array<PublicMember & { ready: boolean }>;
}
export interface PlayerHit {
  id: string;
  name: string;
  loc: string[];
  weapon?: WeaponType;
}
export interface CityHit {
  city: string;
  n: number;
  leader?: string;
  settings?: CitySettings;
  circles: number;
}

type Paging = { offset?: number; limit?: number };

export interface LobbyRoutes {
  'lobby.login': { req: { capcomId: string; name: string; hr: number; weapon?: WeaponType }; res: LoginAnswer };
  'lobby.logout': { req: void; res: null };
  'lobby.whoami': { req: void; res: WhoAmI };
  'lobby.servers': { req: Paging & { type?: ServerType }; res: Page<ServerItem> };
  'lobby.gates': { req: Paging & { server: string }; res: ServerView };
  'lobby.cities': { req: Paging & { gate: string }; res: GateView };
  'lobby.layer': { req: { id?: string }; res: LayerView };
  'lobby.enter': { req: { layer: string }; res: Move };
  'lobby.leave': { req: void; res: Move };
  'lobby.city.reserve': { req: { city: string }; res: { city: string; expiresInMs: number } };
  'lobby.city.open': { req: { settings?: Partial<CitySettings> }; res: Move };
  'lobby.city.cancel': { req: void; res: null };
  'lobby.city.settings': { req: { settings: Partial<CitySettings> }; res: CitySettings };
  'lobby.chat': { req: { text: string }; res: null };
  'lobby.whisper': { req: { to: string; text: string }; res: null };
  'lobby.tell': { req: { to: string; text: string }; res: null };
  'lobby.relay': { req: { d: unknown }; res: null };
  'lobby.status': { req: { status?: string; hr?: number; weapon?: WeaponType }; res: PublicRecord };
  'lobby.profile.write': { req: { offset: number; bytes: Uint8Array }; res: null };
  'lobby.profile.get': { req: { id?: string }; res: PublicRecord & { profile: Uint8Array } };
  'lobby.friends': { req: void; res: Omit<FriendLists, 'friends'> & { friends: Array<{ id: string; name: string; online: boolean; loc: string[] | null }> } };
  'lobby.friends.request': { req: { to: string }; res: { sent: true } | { accepted: true } | { already: true } };
  'lobby.friends.accept': { req: { from: string }; res: { id: string; name: string } };
  'lobby.friends.decline': { req: { from: string }; res: null };
  'lobby.friends.delete': { req: { id: string }; res: null };
  'lobby.circles': { req: void; res: CircleItem[] };
  'lobby.circle.create': { req: { password?: string; goal?: string }; res: CircleView };
  'lobby.circle.join': { req: { circle: string; password?: string }; res: CircleView };
  'lobby.circle.ready': { req: { ready?: boolean }; res: CircleView };
  'lobby.circle.depart': { req: void; res: CircleView };
  'lobby.circle.leave': { req: void; res: null };
  'lobby.search.players': { req: { q: string; limit?: number }; res: { hits: PlayerHit[]; more: boolean; partial: boolean } };
  'lobby.search.cities': {
    req: { type: ServerType; goal?: string; seeking?: string; hr?: number; joinable?: boolean; limit?: number };
    res: { hits: CityHit[]; more: boolean };
  };
}

export interface LobbyPushes {
  /** Someone started standing in your layer. */
  'lobby.onJoin': { layer: string } & PublicMember;
  'lobby.onLeave': { layer: string; id: string };
  'lobby.onChat': { layer: string; from: string; name: string; text: string };
  'lobby.onWhisper': { from: string; name: string; text: string };
  'lobby.onTell': { from: string; name: string; text: string };
  /** A relay from player `f` in your layer (not echoed to the sender). */
  'lobby.onRelay': { f: string; d: unknown };
  'lobby.onProfile': { id: string; offset: number; bytes: Uint8Array };
  /** The city's leader left; this player leads now. */
  'lobby.onLeader': { layer: string; leader: string; name: string };
  'lobby.onCitySettings': { layer: string; settings: CitySettings };
  'lobby.onReservationExpired': { city: string };
  /** The quest circles of the city you stand in, whenever one changes. */
  'lobby.onCircles': { layer: string; circles: CircleItem[] };
  /** Your circle changed (a member joined, left, got ready; it departed). */
  'lobby.onCircle': CircleView;
  /** You are out of your circle: `reason` is 'not ready' (it departed without you) or 'leader left'. */
  'lobby.onCircleRemoved': { circle: string; reason: string };
  'lobby.onFriendRequest': { from: string; name: string };
  'lobby.onFriendAdded': { id: string; name: string };
  'lobby.onFriendRemoved': { id: string };
}

/** Every lobby route and push name, for checks and tools. */
export const LOBBY_ROUTES = [
  'lobby.login', 'lobby.logout', 'lobby.whoami', 'lobby.servers', 'lobby.gates', 'lobby.cities', 'lobby.layer', 'lobby.enter', 'lobby.leave',
  'lobby.city.reserve', 'lobby.city.open', 'lobby.city.cancel', 'lobby.city.settings',
  'lobby.chat', 'lobby.whisper', 'lobby.tell', 'lobby.relay', 'lobby.status', 'lobby.profile.write', 'lobby.profile.get',
  'lobby.friends', 'lobby.friends.request', 'lobby.friends.accept', 'lobby.friends.decline', 'lobby.friends.delete',
  'lobby.circles', 'lobby.circle.create', 'lobby.circle.join', 'lobby.circle.ready', 'lobby.circle.depart', 'lobby.circle.leave',
  'lobby.search.players', 'lobby.search.cities',
] as const satisfies ReadonlyArray<keyof LobbyRoutes>;
export const LOBBY_PUSHES = [
  'lobby.onJoin', 'lobby.onLeave', 'lobby.onChat', 'lobby.onWhisper', 'lobby.onTell', 'lobby.onRelay', 'lobby.onProfile', 'lobby.onLeader',
  'lobby.onCitySettings', 'lobby.onReservationExpired', 'lobby.onCircles', 'lobby.onCircle', 'lobby.onCircleRemoved',
  'lobby.onFriendRequest', 'lobby.onFriendAdded', 'lobby.onFriendRemoved',
] as const satisfies ReadonlyArray<keyof LobbyPushes>;

export type LobbyClient = TypedClient<LobbyRoutes, LobbyPushes>;

/** The lobby routes of a connected client, typed. */
export const lobbyClient = (gh: GatehouseClient): LobbyClient => typed<LobbyRoutes, LobbyPushes>(gh);
