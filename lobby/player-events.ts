/**
 * Checks every message a player record accepts and builds its event. `navStep` and the `…Answer` events
 * (player-context.ts ANSWER_OF) are the runtime's answers to the record's own asks and are refused from outside.
 */
import { badMessage } from '../actors/runtime/kind.js';
import { optWeapon } from './equipment.js';
import type { FriendEvent, PlayerEvent } from './player-context.js';
import { chainOf, parseCircle, parseLayer, PROFILE_BYTES, type LobbyTree } from './tree.js';
import { asMsg, bool, bytes, capcomId, conn, int, LIMITS, optStr, settings, str } from './validate.js';

const FRIEND_OPS: Record<string, 'to' | 'from' | 'id' | 'by' | null> = {
  friendRequest: 'to',
  friendAccept: 'from',
  friendDecline: 'from',
  friendDelete: 'id',
  friends: null,
  friendAsk: 'from',
  friendAdded: 'by',
  friendDeclined: 'by',
  friendRemoved: 'by',
};

export function playerToEvent(tree: LobbyTree, msg: unknown): PlayerEvent {
  const m = asMsg(msg);
  switch (m.type) {
    case 'login':
      return { type: 'login', conn: conn(m.conn), session: str(m, 'session', 128, 1), name: optStr(m, 'name', LIMITS.name), hr: int(m, 'hr', 1, 999), force: bool(m, 'force', false), weapon: optWeapon(m, 'weapon') };
    case 'logout':
      return { type: 'logout', session: optStr(m, 'session', 128) };
    case 'claim':
      return { type: 'claim', account: str(m, 'account', 128, 1), listed: bool(m, 'listed', false) };
    case 'exists':
      return { type: 'exists' };
    case 'conn':
      return { type: 'conn', conn: conn(m.conn), session: str(m, 'session', 128, 1) };
    case 'go': {
      // `to: ''` is "nowhere": leave the lobby tree (the server list screen).
      if (m.to === '') return { type: 'go', to: [] };
      if (!parseLayer(tree, m.to)) throw badMessage('to must be a layer id (s03, s03-g12, s03-g12-c07) or ""');
      return { type: 'go', to: chainOf(m.to as string) };
    }
    case 'reserve':
      if (parseLayer(tree, m.city)?.level !== 'city') throw badMessage('city must be a city id');
      return { type: 'reserve', city: m.city as string };
    case 'unreserve':
    case 'circleLeave':
    case 'profileRead':
    case 'whoami':
    case 'where':
      return { type: m.type };
    case 'openCity':
      return { type: 'openCity', settings: settings(m.settings) };
    case 'circleCreate':
      return { type: 'circleCreate', password: optStr(m, 'password', LIMITS.password), goal: optStr(m, 'goal', LIMITS.goal) };
    case 'circleJoin':
      if (!parseCircle(tree, m.circle)) throw badMessage('circle must be a quest circle id (s03-g12-c07-q1)');
      return { type: 'circleJoin', circle: m.circle as string, password: optStr(m, 'password', LIMITS.password) };
    case 'circleAct':
      if (m.op !== 'ready' && m.op !== 'depart') throw badMessage('op must be ready or depart');
      return { type: 'circleAct', op: m.op, ready: bool(m, 'ready', true) };
    case 'circleGone':
      if (!parseCircle(tree, m.circle)) throw badMessage('circle must be a quest circle id');
      return { type: 'circleGone', circle: m.circle as string };
    case 'audit':
      if (!parseLayer(tree, m.layer)) throw badMessage('layer must be a layer id');
      return { type: 'audit', layer: m.layer as string };
    case 'tellMsg':
      return { type: 'tellMsg', from: capcomId(m, 'from'), name: str(m, 'name', LIMITS.name), text: str(m, 'text', LIMITS.text, 1) };
    case 'profileWrite':
      return { type: 'profileWrite', offset: int(m, 'offset', 0, PROFILE_BYTES - 1), bytes: bytes(m, 'bytes', PROFILE_BYTES) };
    case 'setStatus':
      return {
        type: 'setStatus',
        status: m.status === undefined ? undefined : str(m, 'status', LIMITS.status),
        hr: m.hr === undefined ? undefined : int(m, 'hr', 1, 999),
        weapon: optWeapon(m, 'weapon'),
      };
  }
  if (m.type in FRIEND_OPS) {
    const field = FRIEND_OPS[m.type];
    if (field === null) return { type: 'friends' };
    const ev = { type: m.type, [field]: capcomId(m, field) } as Record<string, unknown>;
    if (m.type === 'friendAsk' || m.type === 'friendAdded') ev.name = str(m, 'name', LIMITS.name);
    if (m.type === 'friendRequest' || m.type === 'friendAccept' || m.type === 'friendAsk') {
      ev.caps = { friends: tree.maxFriends, pending: tree.maxPendingFriendRequests };
    }
    return ev as FriendEvent;
  }
  throw badMessage(`lobby-player does not understand "${m.type}"`);
}

/** Messages that may create a player record: its owner's login (the claim, then the login itself). */
const CREATING: ReadonlySet<unknown> = new Set(['claim', 'login']);

/**
 * What any other message to a Capcom ID with no record gets (the kind's `ifMissing`): NOT_FOUND, with no actor
 * started and no record written, so reading never-seen ids costs nothing that stays.
 */
export function playerIfMissing(msg: unknown): { code: string; message: string } | undefined {
  const type = (msg as { type?: unknown } | null)?.type;
  return CREATING.has(type) ? undefined : { code: 'NOT_FOUND', message: 'no such player' };
}
