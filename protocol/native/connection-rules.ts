/**
 * The connection protocol as pure rules: (state, input, now) -> (state, actions). The gateway feeds in decoded frames
 * and transport events and executes the actions (send a frame, dispatch a request, close); nothing here touches a
 * socket. `transition` is the whole logic and is tested without running anything; `createSessionRules` only adds the
 * one timer the rules need, through an injected Clock.
 *
 *   handshaking --accept--> open --(close in or out, error, timeout)--> closing --transport-closed--> closed
 *        \--(error, timeout, close)--> closing          any phase --transport-closed--> closed
 *
 * Heartbeat rule (docs/PROTOCOL.md): once open, the server closes with HEARTBEAT_TIMEOUT when no complete frame has
 * arrived for 2 x heartbeatMs, i.e. at the first instant `now >= lastFrameAt + 2 * heartbeatMs`.
 */
import type { Clock, TimerHandle } from '../../common/clock.js';
import { ClientErrorCode, CloseCode, clientErrorText, closeCodeFor, isResumableClose } from '../error-codes.js';
import type { ProtocolError } from './codec.js';
import {
  DEFAULT_MAX_FRAME_BYTES,
  Limits,
  PROTOCOL_VERSION,
  type Frame,
  type HelloFrame,
  type ReqFrame,
} from './frames.js';

export type SessionPhase = 'handshaking' | 'open' | 'closing' | 'closed';

export interface SessionConfig {
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

export const defaultSessionConfig: Readonly<SessionConfig> = Object.freeze({
  heartbeatMs: 15_000,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  handshakeTimeoutMs: 10_000,
  closeTimeoutMs: 2_000,
  versions: Object.freeze([PROTOCOL_VERSION]),
});

export interface SessionState {
  readonly phase: SessionPhase;
  /** The hello being checked by the gateway (handshaking only). */
  readonly hello: HelloFrame | undefined;
  readonly lastFrameAt: number;
  /** When a `tick` acts: handshake timeout, heartbeat timeout or close linger, by phase. */
  readonly deadline: number;
  /** Whether the session outlives this connection for the resume grace period. */
  readonly resumable: boolean;
}

export type SessionInput =
  /** A frame decoded from the client. */
  | { type: 'frame'; frame: Frame }
  /** decodeFrame or the TCP decoder threw. */
  | { type: 'bad-frame'; error: ProtocolError }
  /** The gateway accepted the hello (new session, or the ticket's session resumed). */
  | { type: 'accept'; session: string; ticket: string; resumed: boolean }
  /** The gateway refused the hello. */
  | { type: 'reject'; code: ClientErrorCode; message?: string }
  /** The server ends the connection: drain, kick, slow consumer, rate limit. */
  | { type: 'close'; code: CloseCode; reason: string }
  | { type: 'transport-closed' }
  /** Time passed; createSessionRules sends these from its timer. */
  | { type: 'tick' };

export type SessionAction =
  | { type: 'send'; frame: Frame }
  /** Check hello.ticket / hello.v against sessions, then input accept or reject. */
  | { type: 'authenticate'; hello: HelloFrame }
  /** Route the request; answer later with a `res` of the same id while the phase is open. */
  | { type: 'dispatch'; req: ReqFrame }
  /** Flush what was sent, then close: WebSocket close(code, reason), or on TCP a close frame and end. */
  | { type: 'close'; code: CloseCode; reason: string }
  /** Closing took too long: destroy the transport without flushing. */
  | { type: 'destroy' }
  /** Emitted once, on entering closed. */
  | { type: 'ended'; resumable: boolean };

export interface Transition {
  state: SessionState;
  actions: SessionAction[];
}

export function initialSessionState(now: number, config: SessionConfig = defaultSessionConfig): SessionState {
  const deadline = now + config.handshakeTimeoutMs;
  return { phase: 'handshaking', hello: undefined, lastFrameAt: now, deadline, resumable: false };
}

const PONG: Frame = Object.freeze({ type: 'pong' });
const NOTHING: SessionAction[] = [];

/** When and under which settings an input is applied. */
interface At {
  now: number;
  config: SessionConfig;
}

export function transition(
  s: SessionState,
  input: SessionInput,
  now: number,
  config: SessionConfig = defaultSessionConfig,
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
      return fail(s, at, input.error.code, input.error.message, input.error.id);
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
  const state: SessionState = {
    phase: 'open',
    hello: undefined,
    lastFrameAt: at.now,
    deadline: at.now + 2 * heartbeatMs,
    resumable: true,
  };
  return { state, actions: [{ type: 'send', frame: welcome }] };
}

function onFrame(s: SessionState, f: Frame, at: At): Transition {
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
      return { state: { ...s, hello: f }, actions: [{ type: 'authenticate', hello: f }] };
    }
    case 'req':
      if (s.phase === 'open') return { state: s, actions: [{ type: 'dispatch', req: f }] };
      return fail(s, at, ClientErrorCode.NotReady, 'wait for welcome before sending requests', f.id);
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
function fail(s: SessionState, at: At, code: ClientErrorCode, message: string, id?: number): Transition {
  return closing(s, at, closeCodeFor(code), message, [sendError(code, message, id)]);
}

function closing(s: SessionState, at: At, code: CloseCode, reason: string, before: SessionAction[]): Transition {
  const state: SessionState = {
    ...s,
    phase: 'closing',
    hello: undefined,
    deadline: at.now + at.config.closeTimeoutMs,
    resumable: s.resumable && isResumableClose(code),
  };
  return { state, actions: [...before, { type: 'close', code, reason: clip(reason, 40) }] };
}

function ended(s: SessionState, before: SessionAction[]): Transition {
  const state: SessionState = { ...s, phase: 'closed', hello: undefined, deadline: Infinity };
  return { state, actions: [...before, { type: 'ended', resumable: s.resumable }] };
}

function sendError(code: ClientErrorCode, message: string, id?: number): SessionAction {
  const text = clip(message, Limits.message);
  const frame: Frame = { type: 'error', code, message: text };
  if (id !== undefined) frame.id = id;
  return { type: 'send', frame };
}

/** Close reasons must fit a WebSocket close frame (123 UTF-8 bytes); 40 UTF-16 units always do. */
function clip(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…';
}

export interface SessionRules {
  readonly state: SessionState;
  /** Applies an input and passes the resulting actions to `execute`, synchronously. Never throws by itself. */
  handle(input: SessionInput): void;
  /** Stops the timer for good; inputs are still applied but no deadline fires. Call when the connection is gone. */
  dispose(): void;
}

/**
 * Runs `transition` with one lazily re-armed timer: it is set for the current deadline and, when it fires early
 * because frames moved the deadline on, re-armed for the rest, so receiving a frame never touches a timer.
 * Inputs given while `execute` runs (e.g. the transport reports closed synchronously) are queued, not nested.
 */
export function createSessionRules(options: {
  clock: Clock;
  execute: (actions: SessionAction[]) => void;
  config?: Partial<SessionConfig>;
}): SessionRules {
  const { clock, execute } = options;
  const config: SessionConfig = { ...defaultSessionConfig, ...options.config };
  let state = initialSessionState(clock.now(), config);
  let timer: TimerHandle | undefined;
  let timerAt = Infinity;
  const queue: SessionInput[] = [];
  let running = false;
  let disposed = false;

  function arm(): void {
    if (disposed || state.deadline === Infinity) return disarm();
    if (state.deadline === timerAt) return;
    if (state.deadline > timerAt) return; // the armed timer fires first, finds time left and re-arms
    disarm();
    timerAt = state.deadline;
    timer = clock.setTimeout(() => {
      timer = undefined;
      timerAt = Infinity;
      handle({ type: 'tick' });
    }, Math.max(0, state.deadline - clock.now()));
  }

  function disarm(): void {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    timerAt = Infinity;
  }

  function handle(input: SessionInput): void {
    queue.push(input);
    if (running) return;
    running = true;
    try {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const t = transition(state, next, clock.now(), config);
        state = t.state;
        arm();
        if (t.actions.length > 0) execute(t.actions);
      }
    } finally {
      running = false;
    }
  }

  arm(); // the handshake deadline runs from the moment the transport opened
  return {
    get state() {
      return state;
    },
    handle,
    dispose() {
      disposed = true;
      disarm();
    },
  };
}
