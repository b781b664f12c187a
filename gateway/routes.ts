/**
 * The route table a gateway serves, built once from its node's apps. A route name maps to exactly one handler; two
 * apps claiming the same name is a start-up error naming both, not a silent override.
 */
import { GatehouseError, ErrorCode } from '../common/errors.js';
import { createRouteDict, type RouteDict } from '../protocol/pomelo/index.js';
import type { App } from '../node-api/app.js';
import type { GatewayApp, RouteHandler } from '../node-api/gateway-app.js';

export interface RouteTable {
  native(route: string): RouteHandler | undefined;
  /** Pomelo routes first, then the native ones by the same name. */
  pomelo(route: string): RouteHandler | undefined;
  /** Announced in the Pomelo handshake; undefined when no app lists one. */
  readonly dictionary: RouteDict | undefined;
  readonly apps: ReadonlyArray<{ name: string; gateway: GatewayApp }>;
}

/** Routes the gateway answers itself unless an app defines them. */
export type Builtins = Record<string, RouteHandler>;

export function gatewayAppOf(app: App): GatewayApp | undefined {
  // Typed, but apps loaded from modules (`--app`) are not checked by the compiler.
  const g = app.gateway;
  if (g === undefined) return undefined;
  if (!g || typeof g !== 'object' || !g.routes || typeof g.routes !== 'object') {
    throw new GatehouseError(ErrorCode.Config, `app ${app.name}: gateway must be {routes: {...}, ...}`);
  }
  return g;
}

/**
 * `guard` wraps each app's handlers (the authenticator's per-app admission, gateway/auth/authenticator.ts); the
 * gateway's builtins are not wrapped.
 */
export function buildRouteTable(
  apps: readonly App[],
  builtins: { native?: Builtins; pomelo?: Builtins } = {},
  guard: (app: string, h: RouteHandler) => RouteHandler = (_app, h) => h,
): RouteTable {
  const native = new Map<string, RouteHandler>();
  const pomelo = new Map<string, RouteHandler>();
  const owner = new Map<string, string>();
  const dictionary: string[] = [];
  const withGateway: Array<{ name: string; gateway: GatewayApp }> = [];
  const add = (table: Map<string, RouteHandler>, app: string, route: string, h: RouteHandler, kind: string) => {
    if (typeof h !== 'function') throw new GatehouseError(ErrorCode.Config, `app ${app}: ${kind} route ${route} is not a function`);
    const key = `${kind}:${route}`;
    const other = owner.get(key);
    if (other !== undefined) {
      throw new GatehouseError(ErrorCode.Config, `${kind} route ${JSON.stringify(route)} is defined by both ${other} and ${app}`);
    }
    owner.set(key, app);
    table.set(route, guard(app, h));
  };
  for (const app of apps) {
    const g = gatewayAppOf(app);
    if (!g) continue;
    withGateway.push({ name: app.name, gateway: g });
    for (const [r, h] of Object.entries(g.routes)) add(native, app.name, r, h, 'native');
    for (const [r, h] of Object.entries(g.pomelo?.routes ?? {})) add(pomelo, app.name, r, h, 'pomelo');
    dictionary.push(...(g.pomelo?.dictionary ?? []));
  }
  for (const [r, h] of Object.entries(builtins.native ?? {})) if (!native.has(r)) native.set(r, h);
  for (const [r, h] of Object.entries(builtins.pomelo ?? {})) if (!pomelo.has(r)) pomelo.set(r, h);
  return {
    native: (r) => native.get(r),
    pomelo: (r) => pomelo.get(r) ?? native.get(r),
    dictionary: dictionary.length > 0 ? createRouteDict(dictionary) : undefined,
    apps: withGateway,
  };
}
