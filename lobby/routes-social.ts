/**
 * Lobby routes between players: chat, whisper, tell, relays, status and profile, friends, quest circles and search.
 * Chat and relays are tells to the layer (no answer awaited from it): the route returns as soon as the message is
 * on the bus, and the pushes prove delivery.
 */
import { appError } from '../node-api/app-error.js';
import { askActor } from '../node-api/ask-actor.js';
import type { RouteHandler } from '../node-api/gateway-app.js';
import { LobbyCode, Push } from './model.js';
import { optWeapon } from './equipment.js';
import { lookupPlayers, searchCities, searchPlayers } from './search.js';
import { layerAt, layerIdAt, playerOf, requireLayer, requirePlayer, type SessionLocs } from './player-link.js';
import { K, parseCircle, SERVER_TYPES, type LobbyTree, type ServerType } from './tree.js';
import { relayPayloadBytes } from './relay-payload.js';
import { bool, bytes, capcomId, check, int, LIMITS, optStr, str } from './validate.js';

export function socialRoutes(tree: LobbyTree, locs: SessionLocs): Record<string, RouteHandler> {
  const toPlayer = (ctx: Parameters<RouteHandler>[0], msg: Record<string, unknown>) => askActor(ctx, playerOf(requirePlayer(ctx).id), msg);
  return {
    'lobby.chat': async (ctx, raw) => {
      const text = check(raw, (m) => str(m, 'text', LIMITS.text, 1));
      const { me, layer } = await requireLayer(ctx, locs);
      ctx.actors.tell(layer, { type: 'chat', from: me.id, text });
      return null;
    },
    'lobby.relay': async (ctx, raw) => {
      const d = check(raw, (m) => {
        if (relayPayloadBytes(m.d, tree.relayMaxBytes) === undefined) {
          throw new Error(`d must encode to at most ${tree.relayMaxBytes} bytes (MessagePack), whatever its type`);
        }
        return m.d;
      });
      // The hot path: no await when this gateway has the session's location (it has, but after a resume or restart).
      const me = requirePlayer(ctx);
      const loc = locs.of(ctx, me);
      const at = Array.isArray(loc) ? loc : await loc;
      // Fanned out at the gateways (lobby.relayFanout): one publish on the layer's channel, no layer actor turn.
      if (locs.relays) locs.relays.relay(layerIdAt(at), Push.relay, me.id, d);
      else ctx.actors.tell(layerAt(at), { type: 'relay', from: me.id, d });
      return null;
    },
    'lobby.whisper': async (ctx, raw) => {
      const b = check(raw, (m) => ({ to: capcomId(m, 'to'), text: str(m, 'text', LIMITS.text, 1) }));
      const { me, layer } = await requireLayer(ctx, locs);
      return askActor(ctx, layer, { type: 'whisper', from: me.id, to: b.to, text: b.text });
    },
    'lobby.tell': async (ctx, raw) => {
      const b = check(raw, (m) => ({ to: capcomId(m, 'to'), text: str(m, 'text', LIMITS.text, 1) }));
      const me = requirePlayer(ctx);
      return askActor(ctx, playerOf(b.to), { type: 'tellMsg', from: me.id, name: me.name, text: b.text });
    },

    'lobby.status': async (ctx, raw) => {
      const b = check(raw, (m) => ({ status: m.status === undefined ? undefined : str(m, 'status', LIMITS.status), hr: m.hr === undefined ? undefined : int(m, 'hr', 1, 999), weapon: optWeapon(m, 'weapon') }));
      return toPlayer(ctx, { type: 'setStatus', ...b });
    },
    'lobby.profile.write': async (ctx, raw) => {
      const b = check(raw, (m) => ({ offset: int(m, 'offset', 0, 255), bytes: bytes(m, 'bytes', 256) }));
      return toPlayer(ctx, { type: 'profileWrite', ...b });
    },
    'lobby.profile.get': async (ctx, raw) => {
      const me = requirePlayer(ctx);
      const id = check(raw, (m) => (m.id === undefined ? me.id : capcomId(m, 'id')));
      return askActor(ctx, playerOf(id), { type: 'profileRead' });
    },

    'lobby.friends': async (ctx) => {
      const lists = await toPlayer(ctx, { type: 'friends' }) as { friends: Array<{ id: string; name: string }>; pending: unknown[]; sent: string[] };
      const online = await lookupPlayers(ctx, tree.searchShards, lists.friends.map((f) => f.id));
      return { ...lists, friends: lists.friends.map((f) => ({ ...f, online: online.has(f.id), loc: online.get(f.id)?.loc ?? null })) };
    },
    'lobby.friends.request': async (ctx, raw) => {
      const to = check(raw, (m) => capcomId(m, 'to'));
      requirePlayer(ctx);
      // Players are tells to each other: ask first whether `to` is one, so a request to nobody is NOT_FOUND and
      // leaves nothing behind (no record for `to`, nothing in our `sent`).
      await askActor(ctx, playerOf(to), { type: 'exists' });
      return toPlayer(ctx, { type: 'friendRequest', to });
    },
    'lobby.friends.accept': async (ctx, raw) => toPlayer(ctx, { type: 'friendAccept', from: check(raw, (m) => capcomId(m, 'from')) }),
    'lobby.friends.decline': async (ctx, raw) => toPlayer(ctx, { type: 'friendDecline', from: check(raw, (m) => capcomId(m, 'from')) }),
    'lobby.friends.delete': async (ctx, raw) => toPlayer(ctx, { type: 'friendDelete', id: check(raw, (m) => capcomId(m, 'id')) }),

    'lobby.circles': async (ctx) => {
      const { layer } = await requireLayer(ctx, locs);
      if (layer.kind !== K.city) throw appError(LobbyCode.NotInLayer, 'quest circles are in cities');
      return ((await askActor(ctx, layer, { type: 'info' })) as { circles: unknown }).circles;
    },
    'lobby.circle.create': async (ctx, raw) => {
      const b = check(raw, (m) => ({ password: optStr(m, 'password', LIMITS.password), goal: optStr(m, 'goal', LIMITS.goal) }));
      return toPlayer(ctx, { type: 'circleCreate', ...b });
    },
    'lobby.circle.join': async (ctx, raw) => {
      const b = check(raw, (m) => {
        if (!parseCircle(tree, m.circle)) throw new Error('circle must be a quest circle id (s03-g12-c07-q1)');
        return { circle: m.circle as string, password: optStr(m, 'password', LIMITS.password) };
      });
      return toPlayer(ctx, { type: 'circleJoin', ...b });
    },
    'lobby.circle.ready': async (ctx, raw) => toPlayer(ctx, { type: 'circleAct', op: 'ready', ready: check(raw, (m) => bool(m, 'ready', true)) }),
    'lobby.circle.depart': async (ctx) => toPlayer(ctx, { type: 'circleAct', op: 'depart', ready: true }),
    'lobby.circle.leave': async (ctx) => toPlayer(ctx, { type: 'circleLeave' }),

    'lobby.search.players': async (ctx, raw) => {
      const b = check(raw, (m) => ({ q: str(m, 'q', LIMITS.query, 1), limit: m.limit === undefined ? 20 : int(m, 'limit', 1, LIMITS.searchResults) }));
      requirePlayer(ctx);
      return searchPlayers(ctx, tree.searchShards, b.q, b.limit);
    },
    'lobby.search.cities': async (ctx, raw) => {
      const b = check(raw, (m) => {
        if (!SERVER_TYPES.includes(m.type as ServerType)) throw new Error(`type must be one of ${SERVER_TYPES.join(', ')}`);
        return {
          type: m.type as ServerType,
          goal: optStr(m, 'goal', LIMITS.goal),
          seeking: optStr(m, 'seeking', LIMITS.seeking),
          hr: m.hr === undefined ? 0 : int(m, 'hr', 0, 999),
          joinable: bool(m, 'joinable', false),
          limit: m.limit === undefined ? 20 : int(m, 'limit', 1, LIMITS.searchResults),
        };
      });
      requirePlayer(ctx);
      const { type, ...q } = b;
      return searchCities(ctx, type, q);
    },
  };
}
