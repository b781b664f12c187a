/**
 * The lobby's actor kinds, built from the tree config: each machine with its message checks, persistence and
 * input. Layers, circles and player records are durable (every change written before it is acknowledged; relays,
 * chat and audits change nothing, so they never write). The search indexes are memory-only: they are rebuilt from
 * the layers' periodic re-reports. Every durable kind here takes its input from the tree config and never changes it,
 * so each lays its current input over a stored context on start (`reapplyInput`): a changed setting reaches the
 * layers and records stored before it.
 */
import { badMessage, defineKind, reapplyInput, type ActorKind } from '../actors/runtime/kind.js';
import { cityIndexMachine, type CityIndexEvent } from './city-index.machine.js';
import type { CityEvent } from './city-context.js';
import { cityMachine } from './city.machine.js';
import { circleMachine, type CircleEvent } from './circle.machine.js';
import { gateMachine, type GateEvent } from './gate.machine.js';
import type { SocialEvent } from './layer.js';
import { playerIndexMachine, type PlayerIndexEvent } from './player-index.machine.js';
import { playerIfMissing, playerToEvent } from './player-events.js';
import { optWeapon } from './equipment.js';
import { relayPayloadBytes } from './relay-payload.js';
import { playerMachine } from './player.machine.js';
import { serverMachine, type ServerEvent } from './server.machine.js';
import { K, parseCircle, parseLayer, serverTypeOf, SERVER_TYPES, type LobbyTree } from './tree.js';
import { asMsg, bool, bytes, capcomId, conn, int, LIMITS, member, optStr, settings, str, type Msg } from './validate.js';

const CITY_STATES = new Set(['empty', 'reserved', 'open']);

/** Messages every layer understands; undefined for the others. */
function layerEvent(m: Msg & { type: string }, relayMax: number): SocialEvent | { type: 'enter' | 'leave' | 'info' | 'poke' | 'list'; [k: string]: unknown } | undefined {
  switch (m.type) {
    case 'enter':
      return { type: 'enter', p: member(m.p), here: bool(m, 'here', true), within: bool(m, 'within', false) };
    case 'leave':
      return { type: 'leave', id: capcomId(m, 'id') };
    case 'info':
      return { type: 'info', members: bool(m, 'members', true) };
    case 'poke':
      return { type: 'poke' };
    case 'list':
      return { type: 'list', offset: m.offset === undefined ? 0 : int(m, 'offset', 0, 10_000), limit: m.limit === undefined ? 50 : int(m, 'limit', 1, 100) };
    case 'chat':
      return { type: 'chat', from: capcomId(m, 'from'), text: str(m, 'text', LIMITS.text, 1) };
    case 'whisper':
      return { type: 'whisper', from: capcomId(m, 'from'), to: capcomId(m, 'to'), text: str(m, 'text', LIMITS.text, 1) };
    case 'relay':
      // The hot path: the sender, and the payload's size (the route checked it; binary, the usual case, is cheap).
      if (typeof m.from !== 'string') throw badMessage('relay.from must be a Capcom ID');
      if (relayPayloadBytes(m.d, relayMax) === undefined) throw badMessage(`relay.d must encode to at most ${relayMax} bytes`);
      return { type: 'relay', from: m.from, d: m.d };
    case 'profile':
      return { type: 'profile', from: capcomId(m, 'from'), offset: int(m, 'offset', 0, 255), bytes: bytes(m, 'bytes', 256) };
    case 'conn':
      return { type: 'conn', id: capcomId(m, 'id'), conn: conn(m.conn) };
    default:
      return undefined;
  }
}

function unknown(kind: string, type: string): never {
  throw badMessage(`${kind} does not understand "${type}"`);
}

function citySummary(m: Msg) {
  if (typeof m.state !== 'string' || !CITY_STATES.has(m.state)) throw badMessage('state must be empty, reserved or open');
  return {
    n: int(m, 'n', 0, 10_000),
    state: m.state as 'empty' | 'reserved' | 'open',
    leader: m.leader === undefined || m.leader === null ? undefined : str(m, 'leader', LIMITS.name),
    settings: m.settings === undefined || m.settings === null ? undefined : settings(m.settings),
    circles: int(m, 'circles', 0, 99),
  };
}

export function lobbyKinds(tree: LobbyTree): ActorKind[] {
  const sweepMs = tree.refreshMs;
  const server = defineKind({
    name: K.server,
    machine: serverMachine,
    persistence: 'snapshot',
    input(id) {
      const l = parseLayer(tree, id);
      if (l?.level !== 'server') throw badMessage(`${id} is not a server of this lobby`);
      const type = serverTypeOf(tree, id);
      return { id, type, capacity: tree.serverCapacity, hr: tree.hr[type], gates: tree.gatesPerServer, gateCapacity: tree.gateCapacity, refreshMs: tree.refreshMs };
    },
    restore: reapplyInput,
    toEvent(msg): ServerEvent {
      const m = asMsg(msg);
      if (m.type === 'report') return { type: 'report', child: str(m, 'child', 20, 1), n: int(m, 'n', 0, 1_000_000) };
      return (layerEvent(m, tree.relayMaxBytes) as ServerEvent | undefined) ?? unknown(K.server, m.type);
    },
  });
  const gate = defineKind({
    name: K.gate,
    machine: gateMachine,
    persistence: 'snapshot',
    input(id) {
      if (parseLayer(tree, id)?.level !== 'gate') throw badMessage(`${id} is not a gate of this lobby`);
      return { id, capacity: tree.gateCapacity, hr: tree.hr[serverTypeOf(tree, id)], cities: tree.citiesPerGate, cityCapacity: tree.cityCapacity, refreshMs: tree.refreshMs };
    },
    restore: reapplyInput,
    toEvent(msg): GateEvent {
      const m = asMsg(msg);
      if (m.type === 'report') return { type: 'report', child: str(m, 'child', 20, 1), ...citySummary(m) };
      return (layerEvent(m, tree.relayMaxBytes) as GateEvent | undefined) ?? unknown(K.gate, m.type);
    },
  });
  const city = defineKind({
    name: K.city,
    machine: cityMachine,
    persistence: 'snapshot',
    input(id) {
      if (parseLayer(tree, id)?.level !== 'city') throw badMessage(`${id} is not a city of this lobby`);
      return { id, serverType: serverTypeOf(tree, id), capacity: tree.cityCapacity, circleSlots: tree.circlesPerCity, reservationMs: tree.reservationMs, refreshMs: tree.refreshMs };
    },
    restore: reapplyInput,
    toEvent(msg): CityEvent {
      const m = asMsg(msg);
      switch (m.type) {
        case 'reserve':
          return { type: 'reserve', p: member(m.p) };
        case 'unreserve':
          return { type: 'unreserve', id: capcomId(m, 'id') };
        case 'open':
          return { type: 'open', p: member(m.p), settings: settings(m.settings) };
        case 'settings':
          return { type: 'settings', from: capcomId(m, 'from'), settings: settings(m.settings) };
        case 'circleOpen':
          return { type: 'circleOpen', p: member(m.p), password: optStr(m, 'password', LIMITS.password), goal: optStr(m, 'goal', LIMITS.goal) };
        case 'circleReport': {
          const state = m.state === 'departed' ? 'departed' : 'forming';
          return { type: 'circleReport', slot: int(m, 'slot', 1, 9), n: int(m, 'n', 0, 64), state, leader: optStr(m, 'leader', LIMITS.name), closed: bool(m, 'closed', false) };
        }
        case 'circleCreated':
          throw badMessage('circleCreated is internal');
      }
      return (layerEvent(m, tree.relayMaxBytes) as CityEvent | undefined) ?? unknown(K.city, m.type);
    },
  });
  const circle = defineKind({
    name: K.circle,
    machine: circleMachine,
    persistence: 'snapshot',
    input(id) {
      const c = parseCircle(tree, id);
      if (!c) throw badMessage(`${id} is not a quest circle of this lobby`);
      return { id, city: c.city, slot: c.slot, capacity: tree.circleCapacity };
    },
    restore: reapplyInput,
    toEvent(msg): CircleEvent {
      const m = asMsg(msg);
      switch (m.type) {
        case 'create':
          return { type: 'create', p: member(m.p), password: optStr(m, 'password', LIMITS.password), goal: optStr(m, 'goal', LIMITS.goal) };
        case 'join':
          return { type: 'join', p: member(m.p), password: optStr(m, 'password', LIMITS.password) };
        case 'ready':
          return { type: 'ready', id: capcomId(m, 'id'), ready: bool(m, 'ready', true) };
        case 'depart':
        case 'leave':
          return { type: m.type, id: capcomId(m, 'id') };
        case 'conn':
          return { type: 'conn', id: capcomId(m, 'id'), conn: conn(m.conn) };
        case 'info':
          return { type: 'info' };
      }
      return unknown(K.circle, m.type);
    },
  });
  const player = defineKind({
    name: K.player,
    machine: playerMachine,
    persistence: 'snapshot',
    input(id) {
      if (!/^[0-9A-Z]{6}$/.test(id)) throw badMessage(`${id} is not a Capcom ID`);
      return { id, searchShards: tree.searchShards };
    },
    // The shard count is the node's configuration, not the record's: a stored record would otherwise keep feeding
    // the shard it was created under, and a changed lobby.searchShards would hide it from every search.
    restore: reapplyInput,
    toEvent: (msg) => playerToEvent(tree, msg),
    ifMissing: playerIfMissing,
  });
  const playerIndex = defineKind({
    name: K.playerIndex,
    machine: playerIndexMachine,
    persistence: 'none',
    input: (id) => ({ id, sweepMs }),
    canPassivate: (s) => s.context.entries.size === 0 && s.context.gone.size === 0,
    toEvent(msg): PlayerIndexEvent {
      const m = asMsg(msg);
      switch (m.type) {
        case 'put': {
          if (!Array.isArray(m.loc) || m.loc.length > 3 || !m.loc.every((l) => parseLayer(tree, l))) throw badMessage('loc must be a chain of layer ids');
          return { type: 'put', id: capcomId(m, 'id'), name: str(m, 'name', LIMITS.name), loc: m.loc as string[], seq: int(m, 'seq', 0, Number.MAX_SAFE_INTEGER), weapon: optWeapon(m, 'weapon') };
        }
        case 'del':
          return { type: 'del', id: capcomId(m, 'id'), seq: int(m, 'seq', 0, Number.MAX_SAFE_INTEGER) };
        case 'query':
          return { type: 'query', q: str(m, 'q', LIMITS.query, 1), limit: m.limit === undefined ? LIMITS.searchResults : int(m, 'limit', 1, LIMITS.searchResults) };
        case 'lookup':
          if (!Array.isArray(m.ids) || m.ids.length > 500 || !m.ids.every((i) => typeof i === 'string')) throw badMessage('ids must be at most 500 Capcom IDs');
          return { type: 'lookup', ids: m.ids as string[] };
        case 'count':
          return { type: 'count' };
      }
      return unknown(K.playerIndex, m.type);
    },
  });
  const cityIndex = defineKind({
    name: K.cityIndex,
    machine: cityIndexMachine,
    persistence: 'none',
    input(id) {
      if (!SERVER_TYPES.includes(id as never)) throw badMessage(`city indexes are per server type: ${SERVER_TYPES.join(', ')}`);
      return { id, cityCapacity: tree.cityCapacity, sweepMs };
    },
    canPassivate: (s) => s.context.entries.size === 0,
    toEvent(msg): CityIndexEvent {
      const m = asMsg(msg);
      switch (m.type) {
        case 'put':
          return { type: 'put', city: cityOf(tree, m), ...citySummary(m) };
        case 'del':
          return { type: 'del', city: cityOf(tree, m) };
        case 'query':
          return {
            type: 'query',
            goal: optStr(m, 'goal', LIMITS.goal),
            seeking: optStr(m, 'seeking', LIMITS.seeking),
            hr: m.hr === undefined ? 0 : int(m, 'hr', 0, 999),
            joinable: bool(m, 'joinable', false),
            limit: m.limit === undefined ? LIMITS.searchResults : int(m, 'limit', 1, LIMITS.searchResults),
          };
      }
      return unknown(K.cityIndex, m.type);
    },
  });
  return [server, gate, city, circle, player, playerIndex, cityIndex] as ActorKind[];
}

function cityOf(tree: LobbyTree, m: Msg): string {
  if (parseLayer(tree, m.city)?.level !== 'city') throw badMessage('city must be a city id');
  return m.city as string;
}
