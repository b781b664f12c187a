/**
 * The shape of the lobby tree and its ids. Every layer is an actor whose id spells its place in the tree:
 * `s03` (server 3), `s03-g12` (gate 12 of it), `s03-g12-c07` (city 7 of that gate), `s03-g12-c07-q2` (quest circle 2
 * of that city). Numbers are 1-based and two digits, as MH3 players know them. Because the id carries the path, any
 * actor finds its parent, and a player's location is just the chain of ids from server to where it stands.
 */
export type ServerType = 'Open' | 'Rookie' | 'Expert' | 'Recruiting';
export const SERVER_TYPES: readonly ServerType[] = ['Open', 'Rookie', 'Expert', 'Recruiting'];

export interface HrRange {
  min: number;
  max: number;
}

/** The `lobby` section of the config (its schema and defaults: config.ts). */
export interface LobbyTree {
  servers: readonly ServerType[];
  hr: Readonly<Record<ServerType, HrRange>>;
  serverCapacity: number;
  gatesPerServer: number;
  gateCapacity: number;
  citiesPerGate: number;
  cityCapacity: number;
  circlesPerCity: number;
  circleCapacity: number;
  reservationMs: number;
  refreshMs: number;
  searchShards: number;
  /** Encoded (MessagePack) size of a relay payload, any type; larger ones are BAD_REQUEST. */
  relayMaxBytes: number;
  /** Friends per player: a request or an accept past it is refused (FRIEND_LIST_FULL). */
  maxFriends: number;
  /** Pending friend requests per player, incoming and outgoing each (see player-friends.ts). */
  maxPendingFriendRequests: number;
  /**
   * Auth mode none only: new player records the clients of one remote address may create per minute, per gateway (a
   * token bucket holding a minute's worth); past it a login of a never-seen Capcom ID is refused TOO_MANY_NEW_PLAYERS.
   * With token/hook auth, ownership bounds creation instead (docs/SECURITY.md).
   */
  newPlayersPerAddressPerMinute: number;
  /** Addresses the budget above does not apply to (loopback by default: bots, benchmarks and tests on the box). */
  newPlayersExempt: readonly string[];
  /**
   * Relays fanned out by the gateways on per-layer channels (relay-channels.ts) instead of through the layer actors.
   * Every gateway of a deployment must run with the same value: a gateway with it off neither publishes on nor joins
   * the channels (its players would neither hear nor be heard by the others' players).
   */
  relayFanout?: boolean;
}

export type Level = 'server' | 'gate' | 'city';
export const LEVELS: readonly Level[] = ['server', 'gate', 'city'];

/** Actor kind names: one per layer, plus the player record and the search indexes. */
export const K = {
  server: 'lobby-server',
  gate: 'lobby-gate',
  city: 'lobby-city',
  circle: 'lobby-circle',
  player: 'lobby-player',
  playerIndex: 'lobby-pindex',
  cityIndex: 'lobby-cindex',
} as const;

const two = (n: number) => String(n).padStart(2, '0');
export const serverId = (s: number) => `s${two(s)}`;
export const gateId = (s: number, g: number) => `${serverId(s)}-g${two(g)}`;
export const cityId = (s: number, g: number, c: number) => `${gateId(s, g)}-c${two(c)}`;
export const circleId = (city: string, q: number) => `${city}-q${q}`;

const LAYER_RE = /^s(\d\d)(?:-g(\d\d)(?:-c(\d\d))?)?$/;
const CIRCLE_RE = /^(s\d\d-g\d\d-c\d\d)-q(\d)$/;

export interface LayerRef {
  id: string;
  level: Level;
  server: number;
  gate?: number;
  city?: number;
}

/** Parses a layer id and checks it exists in this tree; null otherwise. */
export function parseLayer(tree: LobbyTree, id: unknown): LayerRef | null {
  if (typeof id !== 'string') return null;
  const m = LAYER_RE.exec(id);
  if (!m) return null;
  const server = Number(m[1]);
  if (server < 1 || server > tree.servers.length) return null;
  if (m[2] === undefined) return { id, level: 'server', server };
  const gate = Number(m[2]);
  if (gate < 1 || gate > tree.gatesPerServer) return null;
  if (m[3] === undefined) return { id, level: 'gate', server, gate };
  const city = Number(m[3]);
  if (city < 1 || city > tree.citiesPerGate) return null;
  return { id, level: 'city', server, gate, city };
}

/** Parses a circle id: its city and slot (1-based); null when it is not one of this tree. */
export function parseCircle(tree: LobbyTree, id: unknown): { city: string; slot: number } | null {
  if (typeof id !== 'string') return null;
  const m = CIRCLE_RE.exec(id);
  if (!m || !parseLayer(tree, m[1])) return null;
  const slot = Number(m[2]);
  return slot >= 1 && slot <= tree.circlesPerCity ? { city: m[1]!, slot } : null;
}

export function levelOf(id: string): Level {
  const dashes = id.split('-').length - 1;
  return LEVELS[dashes]!;
}

export function kindOfLayer(id: string): string {
  return K[levelOf(id)];
}

/** `s03-g12-c07` → `['s03', 's03-g12', 's03-g12-c07']`: the location of a player standing in that layer. */
export function chainOf(id: string): string[] {
  const parts = id.split('-');
  return parts.map((_, i) => parts.slice(0, i + 1).join('-'));
}

/**
 * The layer a layer reports its counts to: the gate of a city, the server of a gate. Servers report to nobody: the
 * server list asks the (few) servers directly, so it is exact even right after a failure.
 */
export function parentOf(id: string): { kind: string; id: string } | null {
  const cut = id.lastIndexOf('-');
  return cut < 0 ? null : { kind: kindOfLayer(id.slice(0, cut)), id: id.slice(0, cut) };
}

/** The short child key a parent keeps counts under (`g12` for `s03-g12`). */
export function childKey(id: string): string {
  return id.slice(id.lastIndexOf('-') + 1);
}

export function serverTypeOf(tree: LobbyTree, id: string): ServerType {
  return tree.servers[Number(id.slice(1, 3)) - 1]!;
}

export type LayerStatus = 'EMPTY' | 'JOINABLE' | 'FULL';

export function statusOf(n: number, capacity: number): LayerStatus {
  return n <= 0 ? 'EMPTY' : n >= capacity ? 'FULL' : 'JOINABLE';
}

/** Index shard of a player for search (`p0`…): stable hash of the Capcom ID. */
export function indexShardOf(capcomId: string, shards: number): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < capcomId.length; i++) {
    h ^= capcomId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return `p${(h >>> 0) % shards}`;
}

export const CAPCOM_ID_RE = /^[0-9A-Z]{6}$/;
export const PROFILE_BYTES = 256;
