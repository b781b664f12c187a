/**
 * The native protocol's connection rules (the contract: ../connection-rules.ts) as a pure function:
 * (state, input, now) -> (state, actions). The gateway feeds in decoded frames and transport events and executes the
 * actions (send a frame, dispatch a request, close); nothing here touches a socket or a timer. `transition` is the
 * whole logic and is tested without running anything; `createNativeConnectionRules` holds the state for one
 * connection behind the shared contract.
 *
 *   handshaking --accept--> open --(close in or out, error, timeout)--> closing --transport-closed--> closed
 *        \--(error, timeout, close)--> closing          any phase --transport-closed--> closed
 *
 * Heartbeat rule (docs/PROTOCOL.md): once open, the server closes with HEARTBEAT_TIMEOUT when no complete frame has
 * arrived for 2 x heartbeatMs, i.e. at the first instant `now >= lastFrameAt + 2 * heartbeatMs`.
 */
import {
  NO_DEADLINE,
  type ConnectionAction,
  type ConnectionEvent,
  type ConnectionPhase,
  type ConnectionRules,
} from '../connection-rules.js';
import { ClientErrorCode, CloseCode, clientErrorText, closeCodeFor, isResumableClose } from '../error-codes.js';
import {
  DEFAULT_MAX_FRAME_BYTES,
  Limits,
  PROTOCOL_VERSION,
  type Frame,
  type HelloFrame,
} from './frames.js';

export interface ConnectionConfig {
  /** Announced in welcome; the client pings after this long without sending. */
  heartbeatMs: number;
  /** Announced in welcome (at least Limits.minFrameBytes); the gateway decodes and encodes with the same limit. */
  maxFrameBytes: number;
  /** From transport open until welcome is sent (covers the gateway's ticket check too). */
  handshakeTimeoutMs: number;
  /** How long a closing connection may linger before the transport is destroyed. */
  closeTimeoutMs: number;
  versions: readonly number[];
}

export const defaultConnectionConfig: Readonly<ConnectionConfig> = Object.freeze({
  heartbeatMs: 15_000,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  handshakeTimeoutMs: 10_000,
  closeTimeoutMs: 2_000,
  versions: Object.freeze([PROTOCOL_VERSION]),
});

export interface ConnectionState {
  readonly phase: ConnectionPhase;
  /** The hello being checked by the gateway (handshaking only). */
  readonly hello: HelloFrame | undefined;
  readonly lastFrameAt: number;
  /** When a `tick` acts: handshake timeout, heartbeat timeout or close linger, by phase. */
  readonly deadline: number;
  /** Whether the session outlives this connection for the resume grace period. */
  readonly resumable: boolean;
}

export type ConnectionInput =
  /** A frame decoded from the client. */
  | { type: 'frame'; frame: Frame }
  /** bad-frame (decodeFrame or the TCP decoder threw), accept / reject of the hello, close, transport-closed. */
  | ConnectionEvent
  /** Time passed. */
  | { type: 'tick' };

/**
 * `send` carries frames for the gateway to encode; `authenticate` is the hello's ticket; `dispatch` a request to
 * answer later with a `res` of the same id while the phase is open; `close` means a WebSocket close(code, reason),
 * or on TCP a close frame and the end of the stream.
 */
export type NativeAction = ConnectionAction<Frame>;

export interface Transition {
  state: ConnectionState;
  actions: NativeAction[];
}

export function initialConnectionState(
  now: number,
  config: ConnectionConfig = defaultConnectionConfig,
): ConnectionState {
  const deadline = now + config.handshakeTimeoutMs;
  return { phase: 'handshaking', hello: undefined, lastFrameAt: now, deadline, resumable: false };
}

const PONG: Frame = Object.freeze({ type: 'pong' });
const OPEN: NativeAction = Object.freeze({ type: 'open', anonymous: false });
const NOTHING: NativeAction[] = [];

/** When and under which settings an input is applied. */
interface At {
  now: number;
  config: ConnectionConfig;
}

export function transition(
  s: ConnectionState,
  input: ConnectionInput,
  now: number,
  config: ConnectionConfig = defaultConnectionConfig,
): Transition {
  const at: At = { now, config };
  if (s.phase === 'closed') return { state: s, actions: [] };
  if (input.type === 'transport-closed') return ended(s, []);
  if (s.phase === 'closing') {
    // Everything but the linger deadline is moot once closing.
    return input.type === 'tick' && now >= s.deadline ? ended(s, [{ type: 'destroy' }]) : { state: s, actions: [] };
  }
  switch (input.type) {
    case 'frame': {
      const deadline = s.phase === 'open' ? now + 2 * config.heartbeatMs : s.deadline;
      return onFrame({ ...s, lastFrameAt: now, deadline }, input.frame, at);
    }
    case 'bad-frame':
      return fail(s, at, input.error.code as ClientErrorCode, input.error.message, input.error.id);
    case 'accept':
      if (s.phase !== 'handshaking' || !s.hello) return { state: s, actions: [] }; // stale answer: ignore
      return open(s.hello, input, at);
    case 'reject':
      if (s.phase !== 'handshaking' || !s.hello) return { state: s, actions: [] };
      return fail(s, at, input.code, input.message ?? clientErrorText[input.code]);
    case 'close':
      return closing(s, at, input.code, input.reason, NOTHING);
    case 'tick':
      if (now < s.deadline) return { state: s, actions: [] };
      if (s.phase === 'handshaking') {
        const msg = `no handshake within ${config.handshakeTimeoutMs} ms`;
        return closing(s, at, CloseCode.HandshakeTimeout, msg, [sendError(ClientErrorCode.Timeout, msg)]);
      }
      return fail(s, at, ClientErrorCode.HeartbeatTimeout, `no frame for ${2 * config.heartbeatMs} ms`);
  }
}

function open(hello: HelloFrame, a: { session: string; ticket: string; resumed: boolean }, at: At): Transition {
  const { heartbeatMs, maxFrameBytes } = at.config;
  const { session, ticket, resumed } = a;
  const welcome: Frame = { type: 'welcome', v: hello.v, session, ticket, heartbeatMs, maxFrameBytes, resumed };
  const state: ConnectionState = {
    phase: 'open',
    hello: undefined,
    lastFrameAt: at.now,
    deadline: at.now + 2 * heartbeatMs,
    resumable: true,
  };
  return { state, actions: [{ type: 'send', frame: welcome }, OPEN] };
}

function onFrame(s: ConnectionState, f: Frame, at: At): Transition {
  switch (f.type) {
    case 'hello': {
      // A repeated hello is a client bug, but a harmless one: say so and carry on.
      if (s.phase !== 'handshaking' || s.hello) {
        return { state: s, actions: [sendError(ClientErrorCode.UnexpectedFrame, 'hello already received')] };
      }
      const { versions } = at.config;
      if (!versions.includes(f.v)) {
        const msg = `protocol version ${f.v} not supported (supported: ${versions.join(', ')})`;
        return fail(s, at, ClientErrorCode.UnsupportedVersion, msg);
      }
      return { state: { ...s, hello: f }, actions: [{ type: 'authenticate', ticket: f.ticket, credential: f.token }] };
    }
    case 'req':
      if (s.phase === 'open') {
        return { state: s, actions: [{ type: 'dispatch', id: f.id, route: f.route, body: f.body }] };
      }
      return fail(s, at, ClientErrorCode.NotReady, 'wait for welcome before sending requests', f.id);
    case 'notify':
      // Same rule as req: a notify before welcome is a client that did not wait, and it has no id to answer anyway.
      if (s.phase === 'open') return { state: s, actions: [{ type: 'dispatch', id: undefined, route: f.route, body: f.body }] };
      return fail(s, at, ClientErrorCode.NotReady, 'wait for welcome before sending notifies');
    case 'ping':
      // The first frame must be hello, so a ping before it comes from something that does not speak this protocol.
      if (s.phase === 'open' || s.hello) return { state: s, actions: [{ type: 'send', frame: PONG }] };
      return fail(s, at, ClientErrorCode.NotReady, 'the first frame must be hello');
    case 'pong':
      return { state: s, actions: [] };
    case 'close':
      // The client said goodbye: echo it; CloseCode.Normal ends the session for good.
      return closing(s, at, CloseCode.Normal, 'bye', NOTHING);
    default:
      return fail(s, at, ClientErrorCode.UnexpectedFrame, `${f.type} frames are sent by the server only`);
  }
}

/** A fatal error: tell the client why (with the request id when there is one), then close with the matching code. */
function fail(s: ConnectionState, at: At, code: ClientErrorCode, message: string, id?: number): Transition {
  return closing(s, at, closeCodeFor(code), message, [sendError(code, message, id)]);
}

function closing(s: ConnectionState, at: At, code: CloseCode, reason: string, before: NativeAction[]): Transition {
  const state: ConnectionState = {
    ...s,
    phase: 'closing',
    hello: undefined,
    deadline: at.now + at.config.closeTimeoutMs,
    resumable: s.resumable && isResumableClose(code),
  };
  return { state, actions: [...before, { type: 'close', code, reason: clip(reason, 40) }] };
}

function ended(s: ConnectionState, before: NativeAction[]): Transition {
  const state: ConnectionState = { ...s, phase: 'closed', hello: undefined, deadline: NO_DEADLINE };
  return { state, actions: [...before, { type: 'ended', resumable: s.resumable }] };
}

function sendError(code: ClientErrorCode, message: string, id?: number): NativeAction {
  const text = clip(message, Limits.message);
  const frame: Frame = { type: 'error', code, message: text };
  if (id !== undefined) frame.id = id;
  return { type: 'send', frame };
}

/** Close reasons must fit a WebSocket close frame (123 UTF-8 bytes); 40 UTF-16 units always do. */
function clip(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…';
}

const TICK: ConnectionInput = Object.freeze({ type: 'tick' });

/**
 * One connection's rules behind the shared contract: `transition`, with the state kept here. A class rather than
 * closures because a gateway holds one per connection, tens of thousands of them.
 */
export class NativeConnectionRules implements ConnectionRules<Frame, Frame> {
  private current: ConnectionState;

  constructor(
    now: number,
    private readonly config: ConnectionConfig = defaultConnectionConfig,
  ) {
    this.current = initialConnectionState(now, config);
  }

  get state(): ConnectionState {
    return this.current;
  }

  get phase(): ConnectionPhase {
    return this.current.phase;
  }

  get deadline(): number {
    return this.current.deadline;
  }

  receive(frame: Frame, now: number): NativeAction[] {
    const s = this.current;
    // The hot path, a req or notify on an open connection, without the generic transition's wrapper, spread and
    // result objects: what `transition` gives for it, built directly (test/unit/protocol-rules-fast.test.ts checks
    // that both agree).
    if (s.phase === 'open' && (frame.type === 'req' || frame.type === 'notify')) {
      const deadline = now + 2 * this.config.heartbeatMs;
      this.current = { phase: 'open', hello: undefined, lastFrameAt: now, deadline, resumable: s.resumable };
      const id = frame.type === 'req' ? frame.id : undefined;
      return [{ type: 'dispatch', id, route: frame.route, body: frame.body }];
    }
    return this.handle({ type: 'frame', frame }, now);
  }

  handle(input: ConnectionInput, now: number): NativeAction[] {
    const t = transition(this.current, input, now, this.config);
    this.current = t.state;
    return t.actions;
  }

  tick(now: number): NativeAction[] {
    return this.handle(TICK, now);
  }
}

export function createNativeConnectionRules(now: number, config?: ConnectionConfig): NativeConnectionRules {
  return new NativeConnectionRules(now, config);
}
