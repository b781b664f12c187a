/**
 * The chat room kind: `chat-room/<room name>`, sharded over the workers like any actor.
 *
 * Persistence 'none', on purpose. A room's state is its list of live connections; written to the store it would
 * outlive them. After a worker crash a stored room would come back with members whose sessions may have left or moved
 * on meanwhile (ghosts that hold names and receive pushes for a room they left), which is worse than coming back
 * empty. Planned moves (rebalancing, drain) lose nothing: the runtime hands the in-memory state over with the queued
 * messages. After a crash the room restarts empty and members rejoin as they speak (see routes.ts), so it
 * heals itself without a store write per join and leave.
 */
import { badMessage, defineKind } from '../actors/runtime/kind.js';
import { isObject } from '../common/is-object.js';
import { CHAT_DEFAULTS, type RoomLimits } from './config.js';
import { createRoomMachine, isEmptyRoom, type RoomEvent } from './room.machine.js';
import { checkConn, checkContent, checkId, checkName, checkTarget } from './validate.js';

export const ROOM_KIND = 'chat-room';

function need(reason: string | undefined): void {
  if (reason !== undefined) throw badMessage(reason);
}

/** Every bus message is checked before the machine sees it: a bad one gets BAD_MESSAGE and changes nothing. */
export function roomToEvent(msg: unknown): RoomEvent {
  if (!isObject(msg)) throw badMessage('chat-room message must be an object with a string "type"');
  switch (msg.type) {
    case 'enter':
      need(checkId(msg.session, 'session') ?? checkName(msg.name) ?? checkConn(msg.conn));
      return { type: 'enter', session: msg.session as string, name: msg.name as string, conn: pickConn(msg.conn) };
    case 'say':
      need(checkId(msg.session, 'session') ?? checkContent(msg.content) ?? checkTarget(msg.target));
      return { type: 'say', session: msg.session as string, content: msg.content as string, target: msg.target as string };
    case 'leave':
      need(checkId(msg.session, 'session'));
      return { type: 'leave', session: msg.session as string };
    case 'rebind':
      need(checkId(msg.session, 'session') ?? checkConn(msg.conn));
      return { type: 'rebind', session: msg.session as string, conn: pickConn(msg.conn) };
    case 'members': {
      const n = (v: unknown, what: string, max: number) => {
        if (v === undefined) return undefined;
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw badMessage(`${what} must be an integer in 0–${max}`);
        return v;
      };
      return { type: 'members', offset: n(msg.offset, 'offset', 100_000), limit: n(msg.limit, 'limit', 1000) };
    }
    default:
      throw badMessage(`chat-room accepts enter, say, leave, rebind, members; got ${JSON.stringify(String(msg.type)).slice(0, 40)}`);
  }
}

// Only the two fields: extra keys in a message must not end up stored in the room and copied into every push.
function pickConn(v: unknown): { gw: string; id: string } {
  const c = v as { gw: string; id: string };
  return { gw: c.gw, id: c.id };
}

export const roomKind = createRoomKind(CHAT_DEFAULTS);

export function createRoomKind(limits: RoomLimits) {
  return defineKind({
    name: ROOM_KIND,
    machine: createRoomMachine(limits),
    persistence: 'none',
    input: (id) => ({ room: id }),
    toEvent: roomToEvent,
    // The last member leaving passivates at once (a `passivate` effect); this covers rooms only ever looked at.
    canPassivate: (snapshot) => isEmptyRoom(snapshot.context),
    passivateAfterMs: 30_000,
  });
}
