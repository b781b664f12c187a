/**
 * Server-side rules of one Pomelo connection (the contract: ../connection-rules.ts), as pure logic: packages, events
 * and clock ticks in, actions out. The gateway owns the socket and performs the actions (write bytes, dispatch
 * messages, close); this module never does I/O and never arms a timer: time comes in as `now`, and `deadline` tells
 * the driver when to call `tick`.
 *
 *   awaiting-handshake --handshake--> awaiting-ack --handshake-ack--> working --(error, kick, timeout)--> closing
 *   closing --(close linger passed: destroy)--> closing --transport-closed--> closed;  any --transport-closed--> closed
 *
 * Heartbeats follow Pomelo's server: it never heartbeats on its own timer, it answers each client heartbeat at once,
 * and it sends one unprompted heartbeat right after the handshake-ack. That first one matters: the stock JS client
 * only schedules its own heartbeats after receiving one, so without it the client would never heartbeat at all.
 * A client silent (no package of any kind) for 2 × the announced interval is closed, as is one that has not
 * finished the handshake within `handshakeTimeoutMs`.
 */
import {
  NO_DEADLINE,
  type ConnectionAction,
  type ConnectionEvent,
  type ConnectionPhase,
  type ConnectionRules,
} from '../connection-rules.js';
import { ClientErrorCode, CloseCode, closeCodeFor, PomeloCloseCause, pomeloCloseCodeFor } from '../error-codes.js';
import { PomeloErrorCode, PomeloProtocolError, type PomeloPackage } from './frames.js';
import {
  announcedDict,
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
import { decodeMessage } from './message.js';
import type { RouteDict } from './route-dict.js';

export type PomeloStateName = 'awaiting-handshake' | 'awaiting-auth' | 'awaiting-ack' | 'working' | 'closing' | 'closed';

/**
 * `send` carries whole packages, ready to write; `handshake` the client's accepted handshake request (`sys`, `user`);
 * `authenticate` its credential (`user.token`, a string; Pomelo has no tickets): the handshake response waits for the
 * gateway's `accept` (the session is made then), a `reject` closes with the rejection's close code (4100);
 * `open` follows the handshake-ack; `dispatch` bodies are raw (JSON for
 * stock clients), with no id for a notify; `close` has a PomeloErrorCode or PomeloCloseCause as its `cause`.
 */
export type PomeloAction = ConnectionAction<Uint8Array>;

export interface PomeloRulesOptions {
  /** Announced to the client; whole seconds, 1..3600. The client is dropped after 2 × this of silence. */
  heartbeatSeconds: number;
  /** Announced in the handshake and used to expand compressed client routes. */
  dict?: RouteDict;
  /** From connection to handshake-ack. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** How long a closing connection may linger before the transport is destroyed. Default 2 s. */
  closeTimeoutMs?: number;
  /** Return false to refuse a client by its `sys.type` / `sys.version` (answered with code 501). */
  checkClient?: (sys: HandshakeSys) => boolean;
  /** The handshake response's `user` object. */
  user?: Record<string, unknown>;
}

export interface PomeloConnectionRules extends ConnectionRules<PomeloPackage, Uint8Array> {
  /** Pomelo's own names for the phases. */
  readonly state: PomeloStateName;
}

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
export const DEFAULT_CLOSE_TIMEOUT_MS = 2_000;

const PHASE: Readonly<Record<PomeloStateName, ConnectionPhase>> = {
  'awaiting-handshake': 'handshaking',
  'awaiting-auth': 'handshaking',
  'awaiting-ack': 'handshaking',
  working: 'open',
  closing: 'closing',
  closed: 'closed',
};
const NOTHING: PomeloAction[] = [];
const OPEN: PomeloAction = Object.freeze({ type: 'open', anonymous: false });
const ENDED: PomeloAction = Object.freeze({ type: 'ended', resumable: false });

export function createPomeloConnectionRules(now: number, options: PomeloRulesOptions): PomeloConnectionRules {
  checkHeartbeatSeconds(options.heartbeatSeconds);
  const silenceLimitMs = options.heartbeatSeconds * 2000;
  const handshakeDeadline = now + (options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS);
  const closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
  const dict = announcedDict(options.dict);
  let state: PomeloStateName = 'awaiting-handshake';
  let lastHeard = 0;
  let lingerUntil = NO_DEADLINE;
  /** The handshake response, held while the gateway checks the credential. */
  let response: Uint8Array | undefined;

  const close = (at: number, code: CloseCode, cause: string, reason: string, notice?: Uint8Array): PomeloAction[] => {
    state = 'closing';
    lingerUntil = at + closeTimeoutMs;
    const actions: PomeloAction[] = [];
    if (notice) actions.push({ type: 'send', frame: notice });
    actions.push({ type: 'close', code, reason, cause });
    return actions;
  };
  const fail = (at: number, cause: string, reason: string): PomeloAction[] =>
    close(at, pomeloCloseCodeFor(cause), cause, reason, encodeKick(reason));
  const unexpected = (at: number, what: string): PomeloAction[] =>
    fail(at, PomeloErrorCode.UnexpectedPackage, `${what} package while ${state}`);

  const onHandshake = (at: number, body: Uint8Array): PomeloAction[] => {
    let request: HandshakeRequest;
    try {
      request = parseHandshakeRequest(body);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      const cause = PomeloErrorCode.BadHandshake;
      return close(at, pomeloCloseCodeFor(cause), cause, reason, encodeHandshakeError(HandshakeCode.useError));
    }
    if (options.checkClient && !options.checkClient(request.sys)) {
      const reason = `client ${request.sys.type ?? '?'} ${request.sys.version ?? '?'} refused`;
      const cause = PomeloCloseCause.ClientRefused;
      return close(at, pomeloCloseCodeFor(cause), cause, reason, encodeHandshakeError(HandshakeCode.oldClient));
    }
    const credential = request.user.token;
    if (credential !== undefined && typeof credential !== 'string') {
      const cause = PomeloErrorCode.BadHandshake;
      return close(at, pomeloCloseCodeFor(cause), cause, 'handshake user.token must be a string', encodeHandshakeError(HandshakeCode.useError));
    }
    state = 'awaiting-auth';
    response = encodeHandshakeOk({
      heartbeatSeconds: options.heartbeatSeconds,
      ...(dict && { dict }),
      ...(options.user && { user: options.user }),
    });
    return [
      { type: 'handshake', request },
      { type: 'authenticate', ticket: undefined, credential },
    ];
  };

  const onData = (at: number, body: Uint8Array): PomeloAction[] => {
    let message;
    try {
      message = decodeMessage(body, dict);
    } catch (e) {
      if (e instanceof PomeloProtocolError) return fail(at, e.code, e.message);
      throw e;
    }
    if (message.type === 'request') {
      return [{ type: 'dispatch', id: message.id, route: message.route, body: message.body }];
    }
    if (message.type === 'notify') {
      return [{ type: 'dispatch', id: undefined, route: message.route, body: message.body }];
    }
    return fail(at, PomeloErrorCode.BadMessage, `clients may not send ${message.type} messages`);
  };

  const onEvent = (e: ConnectionEvent, at: number): PomeloAction[] => {
    if (state === 'closed') return NOTHING;
    if (e.type === 'transport-closed') {
      state = 'closed';
      lingerUntil = NO_DEADLINE;
      return [ENDED];
    }
    if (state === 'closing') return NOTHING;
    switch (e.type) {
      case 'bad-frame': {
        // Framing is lost: say why (a kick the stock client shows) and close. Whatever the codec's code, the close
        // says BadFrame; only a message the transport refused for its size says FrameTooLarge.
        const { code, message } = e.error;
        const closeCode = code === ClientErrorCode.FrameTooLarge ? CloseCode.FrameTooLarge : CloseCode.BadFrame;
        return close(at, closeCode, code, message, encodeKick(message));
      }
      case 'close':
        return close(at, e.code, PomeloCloseCause.Kicked, e.reason, encodeKick(e.reason));
      case 'accept': {
        if (state !== 'awaiting-auth' || !response) return NOTHING; // stale answer
        state = 'awaiting-ack';
        const frame = response;
        response = undefined;
        return [{ type: 'send', frame }];
      }
      case 'reject': {
        if (state !== 'awaiting-auth') return NOTHING;
        response = undefined;
        const reason = e.message ?? e.code;
        // The stock client shows a kick's reason; the close code (4100 for UNAUTHORIZED) says the same to others.
        return close(at, closeCodeFor(e.code), e.code, `${e.code}: ${reason}`, encodeKick(`${e.code}: ${reason}`));
      }
    }
  };

  return {
    get state() {
      return state;
    },
    get phase() {
      return PHASE[state];
    },
    get deadline() {
      switch (state) {
        case 'closed':
          return NO_DEADLINE;
        case 'closing':
          return lingerUntil;
        case 'working':
          return lastHeard + silenceLimitMs;
        default:
          return handshakeDeadline;
      }
    },
    receive(pkg, at) {
      switch (state) {
        case 'closing':
        case 'closed':
          return NOTHING;
        case 'awaiting-handshake':
          return pkg.type === 'handshake' ? onHandshake(at, pkg.body) : unexpected(at, pkg.type);
        case 'awaiting-auth':
          // Nothing but heartbeats until the credential is checked and the handshake answered.
          return pkg.type === 'heartbeat' ? NOTHING : unexpected(at, pkg.type);
        case 'awaiting-ack':
          if (pkg.type === 'handshake-ack') {
            state = 'working';
            lastHeard = at;
            return [OPEN, { type: 'send', frame: encodeHeartbeat() }];
          }
          // Pomelo clients may heartbeat early; harmless, and not yet a reason to extend anything.
          if (pkg.type === 'heartbeat') return NOTHING;
          return unexpected(at, pkg.type);
        case 'working':
          lastHeard = at;
          if (pkg.type === 'heartbeat') return [{ type: 'send', frame: encodeHeartbeat() }];
          if (pkg.type === 'data') return onData(at, pkg.body);
          return unexpected(at, pkg.type);
      }
    },
    handle: onEvent,
    tick(at) {
      if (state === 'awaiting-handshake' || state === 'awaiting-auth' || state === 'awaiting-ack') {
        if (at >= handshakeDeadline) {
          return fail(at, PomeloErrorCode.HandshakeTimeout, `no handshake-ack while ${state}`);
        }
      } else if (state === 'working') {
        if (at >= lastHeard + silenceLimitMs) {
          return fail(at, PomeloErrorCode.HeartbeatTimeout, `client silent for ${at - lastHeard} ms`);
        }
      } else if (state === 'closing' && at >= lingerUntil) {
        // The peer did not let go in time; the transport reports closed once destroyed.
        lingerUntil = NO_DEADLINE;
        return [{ type: 'destroy' }];
      }
      return NOTHING;
    },
  };
}
