/**
 * Server-side rules of one Pomelo connection, as pure logic: packages and clock ticks in, actions out. The gateway
 * owns the socket and performs the actions (write bytes, deliver messages, close); this module never does I/O and
 * never arms a timer: it reads the injected clock and tells the driver, via `deadline`, when to call `tick()`.
 *
 *   awaiting-handshake --handshake--> awaiting-ack --handshake-ack--> working --(error, kick, timeout)--> closed
 *
 * Heartbeats follow Pomelo's server: it never heartbeats on its own timer, it answers each client heartbeat at once,
 * and it sends one unprompted heartbeat right after the handshake-ack. That first one matters: the stock JS client
 * only schedules its own heartbeats after receiving one, so without it the client would never heartbeat at all.
 * A client silent (no package of any kind) for 2 × the announced interval is closed, as is one that has not
 * finished the handshake within `handshakeTimeoutMs`.
 */
import type { Clock } from '../../common/clock.js';
import {
  checkHeartbeatSeconds,
  encodeHandshakeError,
  encodeHandshakeOk,
  encodeHeartbeat,
  encodeKick,
  HandshakeCode,
  parseHandshakeRequest,
  type HandshakeRequest,
  type HandshakeSys,
} from './handshake.js';
import { decodeMessage, encodeDataPackage, type PomeloMessage } from './message.js';
import { PomeloErrorCode, PomeloProtocolError, type PomeloPackage } from './package.js';
import type { RouteDict } from './route-dict.js';

export type SessionStateName = 'awaiting-handshake' | 'awaiting-ack' | 'working' | 'closed';

/** Why a session closed: a protocol error code, or one of these. */
export const SessionCloseCode = { ...PomeloErrorCode, Kicked: 'KICKED', ClientRefused: 'CLIENT_REFUSED' } as const;
export type SessionCloseCode = (typeof SessionCloseCode)[keyof typeof SessionCloseCode];

export type SessionAction =
  /** Write these bytes (one or more whole packages) to the client, in order with the other sends. */
  | { type: 'send'; bytes: Uint8Array }
  /** The client's handshake was accepted; its `sys` and `user` are here for logging or login. */
  | { type: 'handshake'; request: HandshakeRequest }
  /** Handshake-ack received: requests may now flow. */
  | { type: 'ready' }
  /** A request (answer it with `respond`) or a notify from the client. Bodies are raw (JSON for stock clients). */
  | { type: 'message'; message: Extract<PomeloMessage, { type: 'request' | 'notify' }> }
  /** Close the transport after the sends that precede this action. */
  | { type: 'close'; code: SessionCloseCode; reason: string };

export interface PomeloSessionOptions {
  clock: Pick<Clock, 'now'>;
  /** Announced to the client; whole seconds, 1..3600. The client is dropped after 2 × this of silence. */
  heartbeatSeconds: number;
  /** Announced in the handshake and used to compress pushes and expand compressed client routes. */
  dict?: RouteDict;
  /** From connection to handshake-ack. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** Return false to refuse a client by its `sys.type` / `sys.version` (answered with code 501). */
  checkClient?: (sys: HandshakeSys) => boolean;
  /** The handshake response's `user` object. */
  user?: Record<string, unknown>;
}

export interface PomeloSession {
  readonly state: SessionStateName;
  /** Clock time at which `tick()` must next be called; undefined once closed. */
  readonly deadline: number | undefined;
  receive(pkg: PomeloPackage): SessionAction[];
  tick(): SessionAction[];
  /**
   * Answers request `id`. Nothing to do (empty list) unless working. Like `push`, throws PomeloProtocolError for an
   * id or route that cannot be encoded: that is a server bug, not client input.
   */
  respond(id: number, body: Uint8Array): SessionAction[];
  /** Server push on `route`; compressed when the route is in the announced dictionary. Empty list unless working. */
  push(route: string, body: Uint8Array): SessionAction[];
  /** Sends a kick package with `reason`, then closes. */
  kick(reason: string): SessionAction[];
  /** The transport closed underneath us: no further actions. */
  closed(): void;
}

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

export function createPomeloSession(options: PomeloSessionOptions): PomeloSession {
  checkHeartbeatSeconds(options.heartbeatSeconds);
  const { clock } = options;
  const silenceLimitMs = options.heartbeatSeconds * 2000;
  const handshakeDeadline = clock.now() + (options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS);
  // Only a dictionary the client was actually sent may be used to compress.
  const dict = options.dict && options.dict.size > 0 ? options.dict : undefined;
  let state: SessionStateName = 'awaiting-handshake';
  let lastHeard = 0;

  const close = (code: SessionCloseCode, reason: string, notice?: Uint8Array): SessionAction[] => {
    state = 'closed';
    const actions: SessionAction[] = [];
    if (notice) actions.push({ type: 'send', bytes: notice });
    actions.push({ type: 'close', code, reason });
    return actions;
  };
  const fail = (code: SessionCloseCode, reason: string): SessionAction[] => close(code, reason, encodeKick(reason));
  const unexpected = (what: string): SessionAction[] =>
    fail(PomeloErrorCode.UnexpectedPackage, `${what} package while ${state}`);

  const onHandshake = (body: Uint8Array): SessionAction[] => {
    let request: HandshakeRequest;
    try {
      request = parseHandshakeRequest(body);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      return close(PomeloErrorCode.BadHandshake, reason, encodeHandshakeError(HandshakeCode.useError));
    }
    if (options.checkClient && !options.checkClient(request.sys)) {
      const reason = `client ${request.sys.type ?? '?'} ${request.sys.version ?? '?'} refused`;
      return close(SessionCloseCode.ClientRefused, reason, encodeHandshakeError(HandshakeCode.oldClient));
    }
    state = 'awaiting-ack';
    const response = encodeHandshakeOk({
      heartbeatSeconds: options.heartbeatSeconds,
      ...(dict && { dict }),
      ...(options.user && { user: options.user }),
    });
    return [
      { type: 'handshake', request },
      { type: 'send', bytes: response },
    ];
  };

  const onData = (body: Uint8Array): SessionAction[] => {
    let message;
    try {
      message = decodeMessage(body, dict);
    } catch (e) {
      if (e instanceof PomeloProtocolError) return fail(e.code, e.message);
      throw e;
    }
    if (message.type === 'request') {
      return [{ type: 'message', message: { type: 'request', id: message.id, route: message.route, body: message.body } }];
    }
    if (message.type === 'notify') {
      return [{ type: 'message', message: { type: 'notify', route: message.route, body: message.body } }];
    }
    return fail(PomeloErrorCode.BadMessage, `clients may not send ${message.type} messages`);
  };

  const send = (message: PomeloMessage): SessionAction[] =>
    state === 'working'
      ? [{ type: 'send', bytes: encodeDataPackage(message, dict && { dict }) }]
      : [];

  return {
    get state() {
      return state;
    },
    get deadline() {
      if (state === 'closed') return undefined;
      return state === 'working' ? lastHeard + silenceLimitMs : handshakeDeadline;
    },
    receive(pkg) {
      switch (state) {
        case 'closed':
          return [];
        case 'awaiting-handshake':
          return pkg.type === 'handshake' ? onHandshake(pkg.body) : unexpected(pkg.type);
        case 'awaiting-ack':
          if (pkg.type === 'handshake-ack') {
            state = 'working';
            lastHeard = clock.now();
            return [{ type: 'ready' }, { type: 'send', bytes: encodeHeartbeat() }];
          }
          // Pomelo clients may heartbeat early; harmless, and not yet a reason to extend anything.
          if (pkg.type === 'heartbeat') return [];
          return unexpected(pkg.type);
        case 'working':
          lastHeard = clock.now();
          if (pkg.type === 'heartbeat') return [{ type: 'send', bytes: encodeHeartbeat() }];
          if (pkg.type === 'data') return onData(pkg.body);
          return unexpected(pkg.type);
      }
    },
    tick() {
      const now = clock.now();
      if (state === 'awaiting-handshake' || state === 'awaiting-ack') {
        if (now >= handshakeDeadline) return fail(PomeloErrorCode.HandshakeTimeout, `no handshake-ack while ${state}`);
      } else if (state === 'working' && now >= lastHeard + silenceLimitMs) {
        return fail(PomeloErrorCode.HeartbeatTimeout, `client silent for ${now - lastHeard} ms`);
      }
      return [];
    },
    respond: (id, body) => send({ type: 'response', id, body }),
    push: (route, body) => send({ type: 'push', route, body }),
    kick: (reason) => (state === 'closed' ? [] : close(SessionCloseCode.Kicked, reason, encodeKick(reason))),
    closed() {
      state = 'closed';
    },
  };
}
