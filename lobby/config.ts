/**
 * The lobby's config section (`lobby`): the tree's shape, capacities and timings. The wiring hands it to loadConfig
 * (server/apps.ts), so a file's `"lobby": {…}`, GATEHOUSE_LOBBY_* variables and `--set lobby.refreshMs=2000` set it,
 * and a bad value fails at start naming the field and where it came from. Defaults model the MH3 community servers.
 */
import { z } from 'zod';
import type { ConfigSection } from '../config/sections.js';
import { SERVER_TYPES, type LobbyTree, type ServerType } from './tree.js';

const positiveMs = z.number().int().positive();
const count = (max: number) => z.number().int().min(1).max(max);
const hrRange = z
  .object({ min: z.number().int().min(1).max(999), max: z.number().int().min(1).max(999) })
  .strict()
  .refine((r) => r.min <= r.max, { message: 'hr range: min must be ≤ max' });

const serverTypeSchema = z.enum(SERVER_TYPES as [ServerType, ...ServerType[]]);

export const lobbyConfigSchema = z
  .object({
    /** One entry per server, in order (s01, s02, …): the server's type. */
    servers: z.array(serverTypeSchema).min(1).max(99),
    /** Hunter Rank range each server type admits. */
    hr: z.object({ Open: hrRange, Rookie: hrRange, Expert: hrRange, Recruiting: hrRange }).strict(),
    serverCapacity: count(100_000),
    gatesPerServer: count(99),
    gateCapacity: count(10_000),
    citiesPerGate: count(99),
    cityCapacity: count(64),
    circlesPerCity: count(9),
    circleCapacity: count(64),
    /** A reserved city not opened within this time is empty again. */
    reservationMs: positiveMs,
    /** Occupied layers re-report counts, re-index and audit members this often (self-healing after failures). */
    refreshMs: positiveMs,
    /** Player-search index shards (actors queried in parallel). */
    searchShards: count(1024),
    /** A relay payload's encoded size (any type: binary, string, object); more is BAD_REQUEST. */
    relayMaxBytes: count(16_384),
    /** Friends per player; a request or accept past it is refused with FRIEND_LIST_FULL. */
    maxFriends: count(1000),
    /** Incoming requests kept per player (the oldest is declined for a newer one); outgoing ones past it are refused. */
    maxPendingFriendRequests: count(1000),
    /** Auth mode none: player records one address may create per minute; more logins of new IDs: TOO_MANY_NEW_PLAYERS. */
    newPlayersPerAddressPerMinute: count(1_000_000),
    /** Addresses exempt from newPlayersPerAddressPerMinute. */
    newPlayersExempt: z.array(z.string().min(1)),
    /** Relays fanned out by the gateways on per-layer channels, not through the layer actors (every gateway alike). */
    relayFanout: z.boolean(),
  })
  .strict();

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** The MH3 tree: 12 servers of four types with 2000 places, 40 gates of 100, 40 cities of 4, 4 circles of 4. */
export const LOBBY_DEFAULTS: LobbyTree = deepFreeze({
  servers: ['Open', 'Open', 'Open', 'Rookie', 'Rookie', 'Rookie', 'Expert', 'Expert', 'Expert', 'Recruiting', 'Recruiting', 'Recruiting'],
  hr: { Open: { min: 1, max: 999 }, Rookie: { min: 1, max: 30 }, Expert: { min: 31, max: 999 }, Recruiting: { min: 1, max: 999 } },
  serverCapacity: 2000,
  gatesPerServer: 40,
  gateCapacity: 100,
  citiesPerGate: 40,
  cityCapacity: 4,
  circlesPerCity: 4,
  circleCapacity: 4,
  reservationMs: 40_000,
  refreshMs: 15_000,
  // One index shard: a search then waits for one node, like any one-actor request. bench lobby, 2 000 bots relaying
  // on 2 cores, search p99 against a one-actor request's in the same windows: 1 shard 0.61-1.32x over six runs
  // (median 1.1x); 8 shards 1.2-2.9x over five, 2 shards 1.8x: each further node a query waits for adds its own
  // scheduling tail. A shard scans ~30 us per 1 000 online: raise this past ~20 k online (docs/ARCHITECTURE.md,
  // "Search, and how it scales").
  searchShards: 1,
  // Game-state packets (positions, gestures): the size relays were designed for, now whatever the encoding.
  relayMaxBytes: 512,
  // With 50 pending, a login answer (record, friends, requests; ≤ 40 B an entry) stays under 8 KiB, far below
  // the 64 KiB frame: 120 requests from throw-away ids made the victim's login FRAME_TOO_LARGE at a 4 KiB frame.
  maxFriends: 100,
  maxPendingFriendRequests: 50,
  // Auth mode none: anyone may log in as any never-seen ID, and each such login writes a record that stays. One a
  // second per remote address is plenty for a person trying things, and keeps a script from filling the store;
  // loopback (bots, benchmarks, tests on the box itself) is exempt, as it is from gateway.connectionLimitExempt.
  newPlayersPerAddressPerMinute: 60,
  newPlayersExempt: ['127.0.0.1', '::1', '::ffff:127.0.0.1'],
  // On: a relay costs the gateways 50-65 µs of CPU instead of 200-270 µs through a worker (bench lobby, 600 bots).
  // Every gateway of a deployment must agree: a gateway with it off neither publishes on nor hears the channels.
  // Upgrading a running deployment from a version without it: set false until every gateway runs this one
  // (docs/OPERATIONS.md).
  relayFanout: true,
});

export const lobbyConfig: ConfigSection<LobbyTree> = { key: 'lobby', schema: lobbyConfigSchema, defaults: LOBBY_DEFAULTS };
