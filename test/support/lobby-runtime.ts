/**
 * A lobby on the actor runtime for integration tests, over either bus (test/support/impls.ts): lobby kinds on an
 * ActorHost, the lobby routes called as a gateway calls them, and pushes read where a gateway reads them
 * (`gw.<node>.push`). The gateway itself is stood in for by `session()`: a RouteContext with session data, and
 * cluster-wide identities held in one map (the gateway's identity actors do this for real in the e2e test).
 */
import type { ActorHost, GatewayPush } from '../../actors/runtime/host.js';
import { ActorClient } from '../../actors/runtime/client.js';
import type { ConnRef } from '../../actors/runtime/effects.js';
import type { Bus } from '../../bus/bus.js';
import { decode } from '../../bus/codec.js';
import { subjects } from '../../bus/subjects.js';
import type { Clock } from '../../common/clock.js';
import { GatehouseError } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { LOBBY_DEFAULTS } from '../../lobby/config.js';
import type { GatewayApp, RouteContext } from '../../node-api/gateway-app.js';
import type { Principal } from '../../node-api/auth.js';
import { lobbyKinds } from '../../lobby/kinds.js';
import { lobbyGateway } from '../../lobby/routes.js';
import type { LobbyTree } from '../../lobby/tree.js';
import type { Env } from './impls.js';
import { startHost, TEST_LIMITS } from './hosts.js';

/** A small tree: three servers (Open, Rookie, Expert) of 6, 3 gates of 4, 4 cities of 4, 2 circle slots of 3. */
export const SMALL_TREE: LobbyTree = {
  ...LOBBY_DEFAULTS,
  servers: ['Open', 'Rookie', 'Expert'],
  serverCapacity: 6,
  gatesPerServer: 3,
  gateCapacity: 4,
  citiesPerGate: 4,
  circlesPerCity: 2,
  circleCapacity: 3,
  searchShards: 4,
};

export const GW = 'gw-test';

export interface Seen {
  route: string;
  body: Record<string, unknown>;
}

export interface Session {
  readonly ctx: RouteContext;
  readonly conn: ConnRef;
  /** Every push this connection got, in order. */
  readonly seen: Seen[];
  of(route: string): Array<Record<string, unknown>>;
  call<T = Record<string, unknown>>(route: string, body?: unknown): Promise<T>;
  /** The session ends (logout, or a dropped client's grace period over): the gateway runs onSessionEnd. */
  end(): Promise<void>;
}

export interface LobbyRig {
  host: ActorHost;
  client: ActorClient;
  gateway: GatewayApp;
  /** A stand-in client; its principal defaults to auth mode `none`'s (anyone may be anyone). */
  session(n: number, principal?: Principal): Session;
  /** Bus messages that reached the stand-in gateway (one per push effect per gateway). */
  readonly pushMessages: () => number;
  /** Stops the host and starts another on the same bus and store; with `tree`, the lobby's config changed meanwhile. */
  restartHost(tree?: LobbyTree): Promise<ActorHost>;
}

export async function startLobby(env: Env, o: { prefix: string; clock: Clock; tree?: LobbyTree; hosts: ActorHost[] }): Promise<LobbyRig> {
  const tree = o.tree ?? SMALL_TREE;
  let kinds = lobbyKinds(tree);
  let host = await startHost(env, { kinds, clock: o.clock, prefix: o.prefix });
  o.hosts.push(host);
  const bus: Bus = await env.connect(o.prefix);
  const client = new ActorClient(bus, { shards: TEST_LIMITS.shards, askTimeoutMs: 5000 });
  let gateway = lobbyGateway(tree);
  const byConn = new Map<string, Seen[]>();
  let pushMessages = 0;
  bus.subscribe(subjects.gateway(GW, 'push'), (m) => {
    pushMessages++;
    const p = decode<GatewayPush>(m.data);
    for (const c of p.c) byConn.get(c)?.push({ route: p.r, body: p.b as Record<string, unknown> });
  });
  await bus.flush();
  const identities = new Map<string, string>();

  function session(n: number, principal: Principal = { account: 'anyone', unverified: true }): Session {
    const conn = { gw: GW, id: `conn${n}` };
    const seen: Seen[] = [];
    byConn.set(conn.id, seen);
    let data: Record<string, unknown> = {};
    let identity: string | undefined;
    const sessionId = `session${n}`;
    const ctx: RouteContext = {
      session: {
        id: sessionId,
        conn,
        get identity() {
          return identity;
        },
      },
      principal,
      actors: client,
      log: silentLogger,
      async login(id) {
        const holder = identities.get(id);
        if (holder !== undefined && holder !== sessionId) throw new GatehouseError('ALREADY_LOGGED_IN', `${id} is logged in elsewhere`);
        identities.set(id, sessionId);
        identity = id;
      },
      async logout() {
        await end();
      },
      get: <T>(key: string) => data[key] as T | undefined,
      async set(key, value) {
        data = { ...data, [key]: value };
      },
    };
    async function end() {
      await gateway.onSessionEnd?.({ session: ctx.session, actors: client, log: silentLogger, get: ctx.get });
      if (identity !== undefined) identities.delete(identity);
      identity = undefined;
      data = {};
    }
    return {
      ctx,
      conn,
      seen,
      of: (route) => seen.filter((s) => s.route === route).map((s) => s.body),
      async call<T>(route: string, body?: unknown) {
        const h = gateway.routes[route];
        if (!h) throw new Error(`no route ${route}`);
        return (await h(ctx, body)) as T;
      },
      end,
    };
  }

  return {
    get host() {
      return host;
    },
    client,
    get gateway() {
      return gateway;
    },
    session,
    pushMessages: () => pushMessages,
    async restartHost(next?: LobbyTree) {
      await host.stop();
      if (next) [kinds, gateway] = [lobbyKinds(next), lobbyGateway(next)];
      host = await startHost(env, { kinds, clock: o.clock, prefix: o.prefix, nodeId: `n${o.hosts.length + 1}` });
      o.hosts.push(host);
      return host;
    },
  };
}

/** Capcom IDs for tests: `HUNT01`, `HUNT02`, … */
export const cid = (n: number) => `HUNT${String(n).padStart(2, '0')}`;
