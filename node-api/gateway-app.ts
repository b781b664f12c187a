/**
 * What an app (chat, lobby...) gives the gateway: the routes its clients may call and its session hooks. Clients name
 * routes, never subjects; a route handler validates the body and talks to actors through the ActorClient.
 *
 * Sessions outlive connections: a client that reconnects with its ticket within the grace period gets the same
 * session (identity, app data) back on any gateway; `onSessionResume` lets the app re-point pushes to the new
 * connection. When a session ends for good (logout, or grace period over), `onSessionEnd` cleans up memberships.
 */
import type { Logger } from 'pino';
import type { ActorClient } from '../actors/runtime/client.js';
import type { ConnRef } from '../actors/runtime/effects.js';
import type { Principal } from './auth.js';

export interface SessionView {
  /** Stable across reconnects. */
  readonly id: string;
  /** The connection currently attached to the session. */
  readonly conn: ConnRef;
  /** Set by `login`; undefined before. */
  readonly identity?: string;
}

export interface RouteContext {
  readonly session: SessionView;
  /**
   * Who the gateway authenticated the client as (gateway.auth); undefined for an anonymous client of an app the
   * operator lets admit them (`gateway.auth.anonymousApps`). Apps that need one never see it undefined.
   */
  readonly principal?: Principal;
  readonly actors: ActorClient;
  readonly log: Logger;
  /**
   * Binds an identity (user name, Capcom ID...) to this session, cluster-wide. Rejects with ALREADY_LOGGED_IN when
   * another live session holds it (or kicks that session, per `gateway.duplicateLogin`).
   */
  login(identity: string): Promise<void>;
  /** Ends the session now (runs onSessionEnd) but keeps the connection open. */
  logout(): Promise<void>;
  /** App data kept with the session (survives a resume). Values must be MessagePack-encodable. */
  get<T = unknown>(key: string): T | undefined;
  set(key: string, value: unknown): Promise<void>;
  /**
   * The least-loaded gateway's public address (what `GET /entry` answers), e.g. for Pomelo's
   * `gate.gateHandler.queryEntry`. Always provided by the gateway; optional only so hand-made contexts in tests
   * still type-check.
   */
  entry?(protocol?: 'native' | 'pomelo'): Promise<GatewayEntry>;
}

/** A gateway's public address, as the entry endpoint hands it out. */
export interface GatewayEntry {
  /** Node id of the gateway. */
  node: string;
  host: string;
  /** The port for the protocol asked for (WebSocket port). */
  port: number;
  /** Every listener of that gateway, as URLs: `ws`, `tcp`, `pomeloWs`, `pomeloTcp`, `http`. */
  urls: Record<string, string>;
  /** Connections it holds now. */
  load: number;
}

export interface SessionEndContext {
  readonly session: SessionView;
  readonly actors: ActorClient;
  readonly log: Logger;
  get<T = unknown>(key: string): T | undefined;
}

export type RouteHandler = (ctx: RouteContext, body: unknown) => Promise<unknown>;

export interface GatewayApp {
  /** Route name (e.g. `chat.enter`) → handler. A thrown GatehouseError's code and message reach the client. */
  readonly routes: Readonly<Record<string, RouteHandler>>;
  /**
   * Routes for Pomelo-protocol clients (e.g. `connector.entryHandler.enter`), with JSON bodies; a Pomelo client may
   * also call `routes` by name. `dictionary` lists route names (handler routes and push routes such as `onChat`)
   * to compress with Pomelo's route dictionary. Pushes reach Pomelo clients on the push route as-is.
   */
  readonly pomelo?: {
    readonly routes: Readonly<Record<string, RouteHandler>>;
    readonly dictionary?: readonly string[];
  };
  onSessionResume?(ctx: RouteContext, previous: ConnRef): Promise<void>;
  onSessionEnd?(ctx: SessionEndContext): Promise<void>;
  /**
   * A gateway starting with this app calls it once and serves the GatewayApp it returns (this app's part for that
   * gateway, built with what the gateway offers), so state kept per gateway is not shared by several gateways of
   * one process. Optional: without it the gateway serves this object as it is.
   */
  forGateway?(host: GatewayHost): GatewayApp;
}

/** What a gateway offers an app's gateway part (GatewayApp.forGateway). */
export interface GatewayHost {
  /** The gateway's node id. */
  readonly node: string;
  readonly channels: GatewayChannels;
}

/**
 * Channels among gateways (gateway/channels.ts): `publish` sends one bus message that every gateway with a connection
 * joined to the channel (this one included) pushes to its joined connections, except the one joined as `except`.
 * At most once, like pushes; for traffic whose audience the gateways know themselves (the lobby's relays).
 */
export interface GatewayChannels {
  /** This gateway's connection `conn` joins `channel` as `member` (joining again updates the member name). */
  join(channel: string, conn: string, member: string): void;
  leave(channel: string, conn: string): void;
  publish(channel: string, route: string, body: unknown, except?: string): void;
  /** Whether connection `conn` is joined to `channel` here (false once it closed: a closing connection leaves all). */
  has(channel: string, conn: string): boolean;
}
