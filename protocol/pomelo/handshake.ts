/**
 * Control packages: handshake (both directions), handshake-ack, heartbeat and kick. Their bodies are JSON; the field
 * names below are what stock clients read, so they are fixed by the clients, not by us:
 *
 *   client → server  {sys: {type, version, rsa?, protoVersion?, dictVersion?}, user?: {...}}
 *   server → client  {code: 200, sys: {heartbeat: <seconds>, useDict?, dict?, routeToCode?, codeToRoute?,
 *                     dictVersion?}, user: {...}}   or just {code: 500 | 501}
 *
 * - `sys.heartbeat` is in whole seconds (clients multiply by 1000; libpomelo2 reads it as an integer).
 * - The JS clients read `sys.dict`; libpomelo2 requires `useDict: true` plus `routeToCode`, `codeToRoute` and
 *   `dictVersion` together (it asserts on a partial set), so all of them are sent.
 * - `useProto`/`protos` are never sent: bodies stay JSON. `sys.rsa` is ignored: messages are not signature-checked.
 */
import { decodeJsonBody, encodeJsonBody } from './message.js';
import { encodePackage, PomeloErrorCode, PomeloProtocolError } from './frames.js';
import type { RouteDict } from './route-dict.js';

export const HandshakeCode = { ok: 200, useError: 500, oldClient: 501 } as const;
export type HandshakeErrorCode = typeof HandshakeCode.useError | typeof HandshakeCode.oldClient;

export interface HandshakeSys {
  /** Client kind, e.g. `js-websocket` (pomelo-jsclient-websocket), or a platform name from libpomelo2. */
  type?: string;
  version?: string;
  /** Everything else the client sent (rsa, protoVersion, dictVersion…), untouched. */
  [key: string]: unknown;
}

export interface HandshakeRequest {
  sys: HandshakeSys;
  /** Absent on the wire when the JS client was initialised without `user`; `{}` then. */
  user: Record<string, unknown>;
}

export interface HandshakeOkResponse {
  code: typeof HandshakeCode.ok;
  sys: {
    heartbeat: number;
    useDict?: true;
    dict?: Record<string, number>;
    routeToCode?: Record<string, number>;
    codeToRoute?: Record<string, string>;
    dictVersion?: string;
  };
  user: Record<string, unknown>;
}

export type HandshakeResponse = HandshakeOkResponse | { code: HandshakeErrorCode };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJson(body: Uint8Array, what: string, code: PomeloErrorCode = PomeloErrorCode.BadHandshake): unknown {
  try {
    return decodeJsonBody(body);
  } catch (cause) {
    throw new PomeloProtocolError(code, `${what} is not UTF-8 JSON`, { cause });
  }
}

export function parseHandshakeRequest(body: Uint8Array): HandshakeRequest {
  const value = parseJson(body, 'handshake');
  if (!isObject(value) || !isObject(value.sys)) {
    throw new PomeloProtocolError(PomeloErrorCode.BadHandshake, 'handshake must be an object with a `sys` object');
  }
  const { sys, user = {} } = value;
  for (const key of ['type', 'version'] as const) {
    if (sys[key] !== undefined && typeof sys[key] !== 'string') {
      throw new PomeloProtocolError(PomeloErrorCode.BadHandshake, `handshake sys.${key} must be a string`);
    }
  }
  if (!isObject(user)) {
    throw new PomeloProtocolError(PomeloErrorCode.BadHandshake, 'handshake `user` must be an object');
  }
  return { sys: sys as HandshakeSys, user };
}

export interface HandshakeOkOptions {
  /** Whole seconds, at least 1. */
  heartbeatSeconds: number;
  /** Announced only if it has routes; the connection must then compress with exactly this one. */
  dict?: RouteDict;
  user?: Record<string, unknown>;
}

export function checkHeartbeatSeconds(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600) {
    // Fractions would break clients that parse an integer; 0 would switch heartbeats (and dead-client detection) off.
    throw new RangeError(`heartbeatSeconds must be an integer from 1 to 3600, got ${seconds}`);
  }
}

/** The dictionary a handshake announces: none when it is empty. Only an announced one may compress routes. */
export function announcedDict(dict: RouteDict | undefined): RouteDict | undefined {
  return dict && dict.size > 0 ? dict : undefined;
}

export function handshakeOk(options: HandshakeOkOptions): HandshakeOkResponse {
  checkHeartbeatSeconds(options.heartbeatSeconds);
  const sys: HandshakeOkResponse['sys'] = { heartbeat: options.heartbeatSeconds };
  const dict = announcedDict(options.dict);
  if (dict) {
    // Always the full dictionary, even when the client's `dictVersion` matches: sending it is always correct,
    // while omitting it leaves the JS client (which does not cache it) without compression.
    sys.useDict = true;
    sys.dict = dict.routeToCode();
    sys.routeToCode = dict.routeToCode();
    sys.codeToRoute = dict.codeToRoute();
    sys.dictVersion = dict.version;
  }
  return { code: HandshakeCode.ok, sys, user: options.user ?? {} };
}

export function encodeHandshakeOk(options: HandshakeOkOptions): Uint8Array {
  return encodePackage('handshake', encodeJsonBody(handshakeOk(options)));
}

/** 500: the handshake was malformed or refused; 501: the client's type/version is not accepted. */
export function encodeHandshakeError(code: HandshakeErrorCode): Uint8Array {
  return encodePackage('handshake', encodeJsonBody({ code }));
}

/** Client side (SDKs, tests): the request a stock JS client sends. */
export function encodeHandshakeRequest(request: { sys: HandshakeSys; user?: Record<string, unknown> }): Uint8Array {
  return encodePackage('handshake', encodeJsonBody(request));
}

/** Client side: reads the server's answer. */
export function parseHandshakeResponse(body: Uint8Array): HandshakeResponse {
  const value = parseJson(body, 'handshake response');
  if (!isObject(value) || typeof value.code !== 'number') {
    throw new PomeloProtocolError(PomeloErrorCode.BadHandshake, 'handshake response must have a numeric `code`');
  }
  if (value.code === HandshakeCode.ok) {
    const sys = isObject(value.sys) ? value.sys : {};
    // Pomelo servers without heartbeats configured omit the field; 0 means "none" to every client.
    const heartbeat = sys.heartbeat ?? 0;
    if (typeof heartbeat !== 'number' || !(heartbeat >= 0)) {
      throw new PomeloProtocolError(PomeloErrorCode.BadHandshake, 'handshake response sys.heartbeat must be a number');
    }
    const user = isObject(value.user) ? value.user : {};
    return { code: HandshakeCode.ok, sys: { ...sys, heartbeat }, user } as HandshakeOkResponse;
  }
  if (value.code === HandshakeCode.useError || value.code === HandshakeCode.oldClient) {
    return { code: value.code };
  }
  throw new PomeloProtocolError(PomeloErrorCode.BadHandshake, `unknown handshake response code ${value.code}`);
}

/** The JS client answers a successful handshake response with this (an empty body). */
export const encodeHandshakeAck = (): Uint8Array => encodePackage('handshake-ack');

export const encodeHeartbeat = (): Uint8Array => encodePackage('heartbeat');

/** Server-initiated disconnect notice; stock JS clients emit `onKick` with the parsed `{reason}`. */
export function encodeKick(reason: string): Uint8Array {
  return encodePackage('kick', encodeJsonBody({ reason }));
}

export function parseKick(body: Uint8Array): { reason: string } {
  const value = parseJson(body, 'kick', PomeloErrorCode.BadBody);
  if (!isObject(value) || typeof value.reason !== 'string') {
    throw new PomeloProtocolError(PomeloErrorCode.BadBody, 'kick body must be {reason: string}');
  }
  return { reason: value.reason };
}
