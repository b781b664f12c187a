/**
 * Typed views of a GatehouseClient: `request` and `on` checked against a route map (route → request and answer
 * bodies) and a push map (push route → body). The maps are plain types (chat-api.ts, lobby-api.ts, or an app's own),
 * so this costs nothing at run time: every call goes straight to the untyped client underneath.
 *
 *   const lobby = typed<LobbyRoutes, LobbyPushes>(gh);
 *   const me = await lobby.request('lobby.login', { capcomId: 'AB12CD', name: 'Ann', hr: 40 });   // me: LoginAnswer
 *   lobby.on('lobby.onChat', (m) => console.log(m.name, m.text));                     // m: LobbyPushes['lobby.onChat']
 */
import type { GatehouseClient, RequestOptions } from './client.js';

/** One route: what the client sends and what it gets back. `req: void` marks a route that takes no body. */
export interface RouteSpec {
  req: unknown;
  res: unknown;
}
/** A route map: an interface (or type) whose every key is a route and whose values are RouteSpecs. */
export type RouteMap<R> = { [K in keyof R]: RouteSpec };
/** A push map: push route → body. */
export type PushMap = object;

/** A body argument that may be left out when the route takes none (or only optional fields). */
type BodyArgs<B> = [B] extends [void] ? [body?: null, opts?: RequestOptions] : {} extends B ? [body?: B, opts?: RequestOptions] : [body: B, opts?: RequestOptions];

export interface TypedClient<R extends RouteMap<R>, P extends PushMap> {
  /** The untyped client: session, ticket, onEvent, close, drop, and routes outside the map. */
  readonly raw: GatehouseClient;
  request<K extends keyof R & string>(route: K, ...args: BodyArgs<R[K]['req']>): Promise<R[K]['res']>;
  on<K extends keyof P & string>(route: K, fn: (body: P[K], route: K) => void): () => void;
}

export function typed<R extends RouteMap<R>, P extends PushMap>(client: GatehouseClient): TypedClient<R, P> {
  return {
    raw: client,
    request: (route, ...[body, opts]) => client.request(route, body ?? null, opts),
    on: (route, fn) => client.on(route, fn as (body: unknown, route: string) => void),
  };
}
