/**
 * The contract both wire protocols' per-connection rules keep (native/connection-rules.ts,
 * pomelo/connection-rules.ts), so one gateway handler drives either. Rules are pure logic: frames and events in,
 * actions out, with time passed in as `now`. They never do I/O and never arm a timer; `deadline` says when the driver
 * must call `tick(now)` next.
 *
 * "Connection" on purpose: these rules know one socket's handshake, heartbeat and closing. The session (who the
 * client is, what it stored) is the `session` actor and the gateway's attachment of it (gateway/attachments.ts).
 */
import type { ClientErrorCode, CloseCode } from './error-codes.js';

/** `deadline` when nothing is due. A number, so `now >= deadline` needs no special case. */
export const NO_DEADLINE = Infinity;

/** handshaking → open → closing → closed; a protocol may skip closing (the transport dropped). */
export type ConnectionPhase = 'handshaking' | 'open' | 'closing' | 'closed';

/** A frame that could not be read: a protocol error code, its message, and the request id when one was read. */
export interface FrameError {
  readonly code: string;
  readonly message: string;
  readonly id?: number | undefined;
}

/** What the gateway tells the rules, besides the client's frames and the passing of time. */
export type ConnectionEvent =
  /** Bytes from the client that are not a frame (decoding failed, or the transport refused them for size). */
  | { type: 'bad-frame'; error: FrameError }
  /** The gateway accepted the client's credentials (new session, or the ticket's session resumed). */
  | { type: 'accept'; session: string; ticket: string; resumed: boolean }
  /** The gateway refused them. */
  | { type: 'reject'; code: ClientErrorCode; message?: string }
  /** The server ends the connection: drain, kick, slow consumer, rate limit. */
  | { type: 'close'; code: CloseCode; reason: string }
  | { type: 'transport-closed' };

/** What the rules ask of the gateway. `Out` is what the protocol writes: a frame to encode, or ready bytes. */
export type ConnectionAction<Out> =
  /** Write this, in order with the other sends. */
  | { type: 'send'; frame: Out }
  /** The client's handshake request, for logs; nothing to do. */
  | { type: 'handshake'; request: unknown }
  /**
   * Check the client's credential (undefined: none presented) and ticket (undefined: none) against the gateway's
   * auth mode and its sessions, then give the rules `accept` or `reject` (UNAUTHORIZED: close 4100).
   */
  | { type: 'authenticate'; ticket: string | undefined; credential?: string | undefined }
  /** The handshake is done; `anonymous`: the connection has no session yet and starts a fresh anonymous one. */
  | { type: 'open'; anonymous: boolean }
  /** Route a client request (answer with id while open) or, with no id, a notify (no answer). */
  | { type: 'dispatch'; id: number | undefined; route: string; body: unknown }
  /**
   * Flush what was sent, then close with this code; `cause` is the protocol's own reason code where it has one
   * (for logs and tests). `reason` may be longer than a WebSocket close frame carries: the driver clips it.
   */
  | { type: 'close'; code: CloseCode; reason: string; cause?: string }
  /** Closing took too long: drop the transport without flushing. */
  | { type: 'destroy' }
  /** Emitted once, when the connection is over: whether its session outlives it for the resume grace period. */
  | { type: 'ended'; resumable: boolean };

export interface ConnectionRules<In, Out> {
  readonly phase: ConnectionPhase;
  /** Clock time at which `tick` must next be called; NO_DEADLINE when nothing is due. */
  readonly deadline: number;
  /** A frame from the client, received at `now`. */
  receive(frame: In, now: number): ConnectionAction<Out>[];
  handle(event: ConnectionEvent, now: number): ConnectionAction<Out>[];
  /** Time passed: acts on a deadline reached by `now`, else returns no actions. */
  tick(now: number): ConnectionAction<Out>[];
}
