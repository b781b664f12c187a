/**
 * Route dictionary: both ends agree on a small number per route so a message carries 2 bytes instead of, say,
 * the 21 of `chat.chatHandler.send`. The server announces it in the handshake; it covers client→server handler
 * routes and server→client push routes alike.
 *
 * Codes start at 1, never 0: the stock JS client compresses a route only `if (dict[route])`, so code 0 would be
 * announced but never used by it.
 */
import { createHash } from 'node:crypto';
import { utf8Length } from '../utf8.js';
import { PomeloErrorCode, PomeloProtocolError } from './frames.js';

/** An uncompressed route travels with a 1-byte length. */
export const MAX_ROUTE_BYTES = 255;
/** The compressed-route field is 2 bytes and 0 is not used. */
export const MAX_ROUTE_CODE = 0xffff;

export interface RouteDict {
  /** Number of routes. */
  readonly size: number;
  /** Changes whenever the mapping does; clients that cache the dictionary compare it (`sys.dictVersion`). */
  readonly version: string;
  code(route: string): number | undefined;
  route(code: number): string | undefined;
  /** `{route: code}`: the handshake's `sys.dict` (JS clients) and `sys.routeToCode` (libpomelo2). */
  routeToCode(): Record<string, number>;
  /** `{code: route}` with string keys: the handshake's `sys.codeToRoute` (libpomelo2). */
  codeToRoute(): Record<string, string>;
}

/**
 * Builds a dictionary from routes in order: the first gets code 1. Repeated routes keep their first code, so a
 * list assembled from several sources (handlers, push names) needs no deduplication by the caller.
 */
export function createRouteDict(routes: Iterable<string>): RouteDict {
  const byRoute = new Map<string, number>();
  const byCode: string[] = [''];
  for (const route of routes) {
    if (byRoute.has(route)) continue;
    const length = utf8Length(route);
    if (length === 0 || length > MAX_ROUTE_BYTES) {
      // A route that cannot travel uncompressed would break any client that has not (yet) got the dictionary.
      throw new PomeloProtocolError(
        PomeloErrorCode.BadRoute,
        `route ${JSON.stringify(route)} must be 1 to ${MAX_ROUTE_BYTES} UTF-8 bytes`,
      );
    }
    if (byCode.length > MAX_ROUTE_CODE) {
      throw new PomeloProtocolError(PomeloErrorCode.BadRoute, `more than ${MAX_ROUTE_CODE} routes`);
    }
    byRoute.set(route, byCode.length);
    byCode.push(route);
  }
  // Object.fromEntries defines own properties, so a route named `__proto__` stays an ordinary key.
  const routeToCode = Object.freeze(Object.fromEntries(byRoute));
  const codeToRoute = Object.freeze(Object.fromEntries([...byRoute].map(([r, c]) => [String(c), r])));
  const version = createHash('sha256').update(JSON.stringify(routeToCode)).digest('base64url').slice(0, 22);
  return {
    size: byRoute.size,
    version,
    code: (route) => byRoute.get(route),
    route: (code) => (code >= 1 && code < byCode.length ? byCode[code] : undefined),
    routeToCode: () => ({ ...routeToCode }),
    codeToRoute: () => ({ ...codeToRoute }),
  };
}
