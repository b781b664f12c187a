/**
 * The lobby's client routes (native protocol, client SDK, bots) and session hooks. Bodies are checked here
 * (BAD_REQUEST) before any actor is asked; actors check again. Navigation goes through the player record; chat and
 * relays go straight to the layer the session stands in (the hot path: one bus message, one push per gateway).
 *
 *   lobby.login {capcomId, name, hr, weapon?} → record + friends + pending requests (only an ID the account owns;
 *     auth mode none: TOO_MANY_NEW_PLAYERS past lobby.newPlayersPerAddressPerMinute new IDs from one address)
 *   lobby.servers {type?, offset?, limit?} / lobby.gates {server, …} / lobby.cities {gate, …}   paged list views
 *   lobby.enter {layer} → {loc, view}     lobby.leave → up one level                lobby.layer {id?} → a layer's view
 *   lobby.city.reserve {city} · lobby.city.open {settings} · lobby.city.cancel · lobby.city.settings {settings}
 *   lobby.chat {text} · lobby.whisper {to, text} · lobby.tell {to, text} · lobby.relay {d}
 *   lobby.logout, lobby.whoami
 *   lobby.status {status?, hr?, weapon?} · lobby.profile.write {offset, bytes} · lobby.profile.get {id?} (NOT_FOUND for unknown ids)
 *   lobby.friends · lobby.friends.request {to} · .accept {from} · .decline {from} · .delete {id}
 *   lobby.circles · lobby.circle.create {password?, goal?} · .join {circle, password?} · .ready {ready?} · .depart · .leave
 *   lobby.search.players {q, limit?} · lobby.search.cities {type, goal?, seeking?, hr?, joinable?, limit?}
 *
 * Pushes: see Push in model.ts (lobby.onJoin, lobby.onChat, lobby.onRelay, …).
 */
import { appError } from '../node-api/app-error.js';
import { askActor } from '../node-api/ask-actor.js';
import type { GatewayApp, GatewayChannels, GatewayHost, RouteContext, RouteHandler } from '../node-api/gateway-app.js';
import { socialRoutes } from './routes-social.js';
import { page } from './layer.js';
import { RelayChannels } from './relay-channels.js';
import { LINK_KEY, linkOf, logoutOnSessionEnd, playerOf, requireLayer, requirePlayer, serial, SessionLocs, type PlayerLink } from './player-link.js';
import { K, parseLayer, serverId, type LobbyTree } from './tree.js';
import { LobbyCode } from './model.js';
import { optWeapon } from './equipment.js';
import { PlayerBudget } from './player-budget.js';
import { ClientErrorCode } from '../protocol/error-codes.js';
import { capcomId, check, int, LIMITS, optStr, settings, str, type Msg } from './validate.js';

const paging = (m: Msg) => ({ offset: m.offset === undefined ? 0 : int(m, 'offset', 0, 10_000), limit: m.limit === undefined ? 50 : int(m, 'limit', 1, 100) });

function layerOf(tree: LobbyTree, m: Msg, key: string, level?: 'server' | 'gate' | 'city'): string {
  const l = parseLayer(tree, m[key]);
  if (!l || (level && l.level !== level)) throw new Error(`${key} must be a ${level ?? 'layer'} id of this lobby (e.g. s03, s03-g12, s03-g12-c07)`);
  return l.id;
}

/** A move through the player record; this gateway's copy of the location follows (player-link.ts SessionLocs). */
async function move(ctx: RouteContext, locs: SessionLocs, me: PlayerLink, msg: Record<string, unknown>): Promise<{ loc: string[]; view: unknown }> {
  return serial(ctx.session.id, async () => {
    const r = await askActor<{ loc: string[]; view: unknown }>(ctx, playerOf(me.id), msg);
    locs.set(ctx, me.id, r.loc);
    return r;
  });
}

/**
 * A login may use only a Capcom ID its account owns: one its token lists, or one it claimed on its first login
 * (the record keeps the owner; one account, several hunters). Auth mode `none` checks nothing: anyone is anyone.
 */
async function claimId(ctx: RouteContext, id: string, budget: PlayerBudget): Promise<void> {
  const p = ctx.principal;
  if (!p) throw appError(ClientErrorCode.Unauthorized, 'the lobby needs an authenticated client');
  if (p.unverified) return spendOnNew(ctx, id, p.address, budget);
  if (p.capcomIds && !p.capcomIds.includes(id)) throw appError(LobbyCode.NotYourId, `account ${p.account} may not use Capcom ID ${id}`);
  await askActor(ctx, playerOf(id), { type: 'claim', account: p.account, listed: p.capcomIds !== undefined });
}

/**
 * Auth mode none: a login that would create a record spends one of its address's lobby.newPlayersPerAddressPerMinute
 * (player-budget.ts). Whether it would is asked first (`exists`: a missing record answers NOT_FOUND and nothing is
 * created), so logging in again as an existing ID never spends the budget.
 */
async function spendOnNew(ctx: RouteContext, id: string, address: string | undefined, budget: PlayerBudget): Promise<void> {
  if (!budget.applies(address)) return;
  try {
    await askActor(ctx, playerOf(id), { type: 'exists' });
    return;
  } catch (err) {
    if ((err as { code?: unknown }).code !== LobbyCode.NotFound) throw err;
  }
  if (!budget.take(address)) {
    throw appError(LobbyCode.TooManyNewPlayers, 'too many new Capcom IDs from this address; log in with an existing one or retry in a minute');
  }
}

/**
 * `now`: the clock the budget of new records refills on (player-budget.ts); `locs`: where this gateway's sessions
 * stand (shared with the session hooks, see lobbyGateway).
 */
export function lobbyRoutes(tree: LobbyTree, now: () => number = Date.now, locs = new SessionLocs()): Record<string, RouteHandler> {
  const budget = new PlayerBudget(tree, now);
  const routes: Record<string, RouteHandler> = {
    'lobby.login': async (ctx, raw) => {
      const b = check(raw, (m) => ({ id: capcomId(m, 'capcomId'), name: str(m, 'name', LIMITS.name, 1), hr: int(m, 'hr', 1, 999), weapon: optWeapon(m, 'weapon') }));
      return serial(ctx.session.id, async () => {
        // Ownership before the identity claim: an account that does not own the ID never holds it, even briefly.
        await claimId(ctx, b.id, budget);
        // Cluster-wide: a Capcom ID held by another live session is refused here (ALREADY_LOGGED_IN).
        await ctx.login(b.id);
        const r = await askActor<{ loc: string[] }>(ctx, playerOf(b.id), { type: 'login', conn: ctx.session.conn, session: ctx.session.id, name: b.name, hr: b.hr, force: true, ...(b.weapon && { weapon: b.weapon }) });
        await ctx.set(LINK_KEY, { id: b.id, name: b.name } satisfies PlayerLink);
        locs.set(ctx, b.id, r.loc);
        return r;
      });
    },
    'lobby.logout': async (ctx) =>
      serial(ctx.session.id, async () => {
        if (!linkOf(ctx)) return null;
        // Ending the session runs onSessionEnd, which logs the record out; the connection stays open.
        await ctx.logout();
        return null;
      }),
    'lobby.whoami': async (ctx) => askActor(ctx, playerOf(requirePlayer(ctx).id), { type: 'whoami' }),

    'lobby.servers': async (ctx, raw) => {
      // A dozen servers, asked at once: their counts are exact (durable rosters) even right after a failure.
      const b = check(raw, (m) => ({ ...paging(m), type: optStr(m, 'type', 16) }));
      const ids = tree.servers.map((_, i) => serverId(i + 1)).filter((_, i) => !b.type || tree.servers[i] === b.type);
      const views = await Promise.all(ids.map((id) => askActor<Record<string, unknown>>(ctx, { kind: K.server, id }, { type: 'info', members: false })));
      const items = views.map(({ layer, type, n, capacity, status }) => ({ id: layer, type, n, capacity, status }));
      return page(items, b.offset, b.limit);
    },
    'lobby.gates': async (ctx, raw) => {
      const b = check(raw, (m) => ({ server: layerOf(tree, m, 'server', 'server'), ...paging(m) }));
      return askActor(ctx, { kind: K.server, id: b.server }, { type: 'list', offset: b.offset, limit: b.limit });
    },
    'lobby.cities': async (ctx, raw) => {
      const b = check(raw, (m) => ({ gate: layerOf(tree, m, 'gate', 'gate'), ...paging(m) }));
      return askActor(ctx, { kind: K.gate, id: b.gate }, { type: 'list', offset: b.offset, limit: b.limit });
    },
    'lobby.layer': async (ctx, raw) => {
      const id = check(raw, (m) => (m.id === undefined ? undefined : layerOf(tree, m, 'id')));
      const target = id ? { kind: K[parseLayer(tree, id)!.level], id } : (await requireLayer(ctx, locs)).layer;
      return askActor(ctx, target, { type: 'info' });
    },

    'lobby.enter': async (ctx, raw) => {
      const layer = check(raw, (m) => layerOf(tree, m, 'layer'));
      return move(ctx, locs, requirePlayer(ctx), { type: 'go', to: layer });
    },
    'lobby.leave': async (ctx) => {
      const me = requirePlayer(ctx);
      const loc = await locs.of(ctx, me);
      if (loc.length === 0) throw appError(LobbyCode.NotInLayer, 'you are not in any layer');
      return move(ctx, locs, me, { type: 'go', to: loc.length > 1 ? loc[loc.length - 2]! : '' });
    },

    'lobby.city.reserve': async (ctx, raw) => {
      const city = check(raw, (m) => layerOf(tree, m, 'city', 'city'));
      return askActor(ctx, playerOf(requirePlayer(ctx).id), { type: 'reserve', city });
    },
    'lobby.city.open': async (ctx, raw) => {
      const s = check(raw, (m) => settings(m.settings));
      return move(ctx, locs, requirePlayer(ctx), { type: 'openCity', settings: s });
    },
    'lobby.city.cancel': async (ctx) => askActor(ctx, playerOf(requirePlayer(ctx).id), { type: 'unreserve' }),
    'lobby.city.settings': async (ctx, raw) => {
      const s = check(raw, (m) => settings(m.settings));
      const { me, layer } = await requireLayer(ctx, locs);
      if (layer.kind !== K.city) throw appError(LobbyCode.NotInLayer, 'enter your city first');
      return askActor(ctx, layer, { type: 'settings', from: me.id, settings: s });
    },

    ...socialRoutes(tree, locs),
  };
  return routes;
}

/**
 * The lobby's gateway part. `channels` (a gateway's, through forGateway when `lobby.relayFanout` is on): relays go
 * out on the layers' gateway channels instead of through the layer actors (relay-channels.ts).
 */
export function lobbyGateway(tree: LobbyTree, now?: () => number, channels?: GatewayChannels): GatewayApp {
  const locs = new SessionLocs(undefined, channels ? new RelayChannels(channels) : undefined);
  return {
    routes: lobbyRoutes(tree, now, locs),
    async onSessionResume(ctx) {
      // The session may have moved on another gateway since it was last here: the record says where it stands.
      locs.forget(ctx.session.id);
      const me = linkOf(ctx);
      if (!me) return;
      await askActor(ctx, playerOf(me.id), { type: 'conn', conn: ctx.session.conn, session: ctx.session.id });
      // Relays fanned out at the gateways reach a session only through its layer's channel: join it now, with the
      // new connection, rather than at the session's next request.
      if (locs.relays) await locs.of(ctx, me);
    },
    async onSessionEnd(ctx) {
      locs.forget(ctx.session.id);
      await logoutOnSessionEnd(ctx);
    },
    ...(tree.relayFanout && !channels && { forGateway: (host: GatewayHost) => lobbyGateway(tree, now, host.channels) }),
  };
}


