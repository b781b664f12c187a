/**
 * Friends, as pure handlers over the player record. Between two players everything is a `tell`, never an `ask`:
 * two players befriending each other at the same moment would otherwise each wait for the other's turn. Requests
 * to an offline player stay in its record (`pending`) and come with its next login.
 *
 *   A: request B ─▶ B.pending[A] (+ push if online) ─ B: accept ─▶ both friends  (B tells A `friendAdded`)
 *   a request crossing the other's request counts as an accept.
 *
 * Bounded (lobby.maxFriends, lobby.maxPendingFriendRequests), because every list here goes out whole in the login
 * answer and `lobby.friends`: 120 requests from throw-away ids once made the victim's login answer too large for a
 * frame. Incoming requests past the cap are declined (the requester hears `friendDeclined`, as for a refusal); the
 * ones already waiting stay for the player to answer. Keeping the newest instead would need arrival times: a record's
 * keys are Capcom IDs, and all-digit ones do not keep insertion order. A player's own requests past the cap, and
 * requests or accepts that would take friends plus unanswered requests past maxFriends, are refused.
 */
import type { Effect } from '../actors/runtime/effects.js';
import { ok, Push, refuse, LobbyCode } from './model.js';
import type { FriendEvent, Outcome, PlayerContext } from './player-context.js';
import { LOBBY_DEFAULTS } from './config.js';
import { K } from './tree.js';

const DEFAULT_CAPS = { friends: LOBBY_DEFAULTS.maxFriends, pending: LOBBY_DEFAULTS.maxPendingFriendRequests };

export const FRIEND_TYPES = new Set(['friendRequest', 'friendAccept', 'friendDecline', 'friendDelete', 'friends', 'friendAsk', 'friendAdded', 'friendDeclined', 'friendRemoved']);

const tellPlayer = (id: string, msg: Record<string, unknown>): Effect => ({ type: 'tell', to: { kind: K.player, id }, msg });
const drop = (r: Record<string, string>, id: string) => {
  const next = { ...r };
  delete next[id];
  return next;
};
const count = (r: Record<string, string>): number => Object.keys(r).length;
const listFull = (caps: { friends: number }): Effect =>
  refuse(LobbyCode.FriendListFull, `friend list full: at most ${caps.friends} friends, unanswered requests included`);

function pushMe(c: PlayerContext, route: string, body: unknown): Effect[] {
  return c.online ? [{ type: 'push', to: c.online.conn, route, body }] : [];
}

function befriend(c: PlayerContext, id: string, name: string, notifyPeer: boolean): Outcome {
  return {
    patch: { friends: { ...c.friends, [id]: name }, pending: drop(c.pending, id), sent: drop(c.sent, id) },
    effects: [...(notifyPeer ? [tellPlayer(id, { type: 'friendAdded', by: c.id, name: c.name })] : []), ...pushMe(c, Push.friendAdded, { id, name })],
  };
}

export function friendStep(c: PlayerContext, e: FriendEvent): Outcome {
  const caps = ('caps' in e && e.caps) || DEFAULT_CAPS;
  switch (e.type) {
    case 'friendRequest': {
      if (e.to === c.id) return { effects: [refuse(LobbyCode.BadRequest, 'you cannot befriend yourself')] };
      if (c.friends[e.to] !== undefined) return { effects: [ok({ already: true })] };
      if (c.pending[e.to] !== undefined) {
        if (count(c.friends) >= caps.friends) return { effects: [listFull(caps)] };
        const r = befriend(c, e.to, c.pending[e.to]!, true);
        return { patch: r.patch, effects: [...r.effects, ok({ accepted: true })] };
      }
      if (c.sent[e.to] === undefined) {
        const sent = count(c.sent);
        if (sent >= caps.pending) {
          return { effects: [refuse(LobbyCode.FriendRequestsFull, `${sent} of your friend requests are unanswered (at most ${caps.pending})`)] };
        }
        if (count(c.friends) + sent >= caps.friends) return { effects: [listFull(caps)] };
      }
      return { patch: { sent: { ...c.sent, [e.to]: '' } }, effects: [tellPlayer(e.to, { type: 'friendAsk', from: c.id, name: c.name }), ok({ sent: true })] };
    }
    case 'friendAccept': {
      const name = c.pending[e.from];
      if (name === undefined) return { effects: [refuse(LobbyCode.NotFound, `no friend request from ${e.from}`)] };
      if (count(c.friends) >= caps.friends) return { effects: [listFull(caps)] };
      const r = befriend(c, e.from, name, true);
      return { patch: r.patch, effects: [...r.effects, ok({ id: e.from, name })] };
    }
    case 'friendDecline':
      if (c.pending[e.from] === undefined) return { effects: [ok()] };
      return { patch: { pending: drop(c.pending, e.from) }, effects: [tellPlayer(e.from, { type: 'friendDeclined', by: c.id }), ok()] };
    case 'friendDelete':
      if (c.friends[e.id] === undefined) return { effects: [ok()] };
      return { patch: { friends: drop(c.friends, e.id) }, effects: [tellPlayer(e.id, { type: 'friendRemoved', by: c.id }), ok()] };
    case 'friends':
      return { effects: [ok(friendLists(c))] };
    case 'friendAsk':
      // A record that never logged in is no player: the asker's request is declined at once.
      if (!c.created) return { effects: [tellPlayer(e.from, { type: 'friendDeclined', by: c.id })] };
      if (c.friends[e.from] !== undefined || c.sent[e.from] !== undefined) return befriend(c, e.from, e.name, true);
      if (c.pending[e.from] !== undefined) return { effects: [] };
      if (count(c.pending) >= caps.pending || count(c.friends) >= caps.friends) {
        return { effects: [tellPlayer(e.from, { type: 'friendDeclined', by: c.id })] };
      }
      return { patch: { pending: { ...c.pending, [e.from]: e.name } }, effects: pushMe(c, Push.friendRequest, { from: e.from, name: e.name }) };
    case 'friendAdded':
      // Only an answer to our own request counts; an unsolicited "you are my friend now" is ignored.
      if (c.sent[e.by] === undefined && c.friends[e.by] === undefined) return { effects: [] };
      if (c.friends[e.by] === e.name && c.sent[e.by] === undefined) return { effects: [] };
      return befriend(c, e.by, e.name, false);
    case 'friendDeclined':
      return c.sent[e.by] === undefined ? { effects: [] } : { patch: { sent: drop(c.sent, e.by) }, effects: [] };
    case 'friendRemoved':
      if (c.friends[e.by] === undefined) return { effects: [] };
      return { patch: { friends: drop(c.friends, e.by) }, effects: pushMe(c, Push.friendRemoved, { id: e.by }) };
  }
}

export function friendLists(c: PlayerContext) {
  const list = (r: Record<string, string>) => Object.entries(r).map(([id, name]) => ({ id, name }));
  return { friends: list(c.friends), pending: list(c.pending), sent: Object.keys(c.sent) };
}
