/**
 * Client-facing error and close codes, shared by the gateways (native and Pomelo-compatible) and the client SDK.
 * This file imports nothing so an SDK can vendor it as is. The string codes and close numbers are a wire contract:
 * add new ones, never renumber or reuse. Clients must treat a code they do not know as INTERNAL.
 */
export const ClientErrorCode = {
  BadFrame: 'BAD_FRAME',
  FrameTooLarge: 'FRAME_TOO_LARGE',
  UnsupportedVersion: 'UNSUPPORTED_VERSION',
  NotReady: 'NOT_READY',
  UnexpectedFrame: 'UNEXPECTED_FRAME',
  UnknownRoute: 'UNKNOWN_ROUTE',
  BadRequest: 'BAD_REQUEST',
  RateLimited: 'RATE_LIMITED',
  SlowConsumer: 'SLOW_CONSUMER',
  Timeout: 'TIMEOUT',
  Unavailable: 'UNAVAILABLE',
  Internal: 'INTERNAL',
  Unauthorized: 'UNAUTHORIZED',
  AlreadyLoggedIn: 'ALREADY_LOGGED_IN',
  SessionExpired: 'SESSION_EXPIRED',
  HeartbeatTimeout: 'HEARTBEAT_TIMEOUT',
  ShuttingDown: 'SHUTTING_DOWN',
  /** The request's update may have been applied (its durable write's outcome is unknown): not retryable as is. */
  MaybeApplied: 'MAYBE_APPLIED',
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** Default human text per code; a server may send a more specific message, never a stack. */
export const clientErrorText: Readonly<Record<ClientErrorCode, string>> = Object.freeze({
  BAD_FRAME: 'malformed frame',
  FRAME_TOO_LARGE: 'frame exceeds the maximum frame size',
  UNSUPPORTED_VERSION: 'protocol version not supported',
  NOT_READY: 'request sent before the handshake completed',
  UNEXPECTED_FRAME: 'frame not allowed in this state or direction',
  UNKNOWN_ROUTE: 'no such route',
  BAD_REQUEST: 'request body failed validation',
  RATE_LIMITED: 'too many requests',
  SLOW_CONSUMER: 'client reads too slowly',
  TIMEOUT: 'the request timed out',
  UNAVAILABLE: 'service temporarily unavailable',
  INTERNAL: 'internal server error',
  UNAUTHORIZED: 'not authorized',
  ALREADY_LOGGED_IN: 'already logged in elsewhere',
  SESSION_EXPIRED: 'session expired',
  HEARTBEAT_TIMEOUT: 'no heartbeat received in time',
  SHUTTING_DOWN: 'server is shutting down',
  MAYBE_APPLIED: 'the update may have been applied; check before repeating it',
});

/**
 * Codes after which repeating the same request later may succeed. TIMEOUT and MAYBE_APPLIED are deliberately absent:
 * the request may have been applied, so only the caller knows whether a retry is safe.
 */
export const retryableCodes: ReadonlySet<string> = new Set<string>(['RATE_LIMITED', 'UNAVAILABLE', 'SHUTTING_DOWN']);

/**
 * Close codes: used as the WebSocket close code (the 4000-4999 range is reserved for applications) and in the
 * native `close` frame on TCP, so both transports report the same numbers. Grouped by hundreds:
 * 40xx protocol, 41xx authentication and session, 42xx load, 43xx server.
 */
export const CloseCode = {
  Normal: 4000,
  BadFrame: 4001,
  FrameTooLarge: 4002,
  UnsupportedVersion: 4003,
  ProtocolViolation: 4004,
  HeartbeatTimeout: 4005,
  HandshakeTimeout: 4006,
  Unauthorized: 4100,
  SessionExpired: 4101,
  Replaced: 4102,
  Kicked: 4103,
  RateLimited: 4200,
  SlowConsumer: 4201,
  /** Refused at accept: the gateway, or the client's address, holds as many connections as it may. */
  TooManyConnections: 4202,
  ShuttingDown: 4300,
  Internal: 4301,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

export const CLOSE_CODE_MIN = 4000;
export const CLOSE_CODE_MAX = 4999;

const closeByError: Readonly<Partial<Record<string, CloseCode>>> = {
  BAD_FRAME: CloseCode.BadFrame,
  FRAME_TOO_LARGE: CloseCode.FrameTooLarge,
  UNSUPPORTED_VERSION: CloseCode.UnsupportedVersion,
  NOT_READY: CloseCode.ProtocolViolation,
  UNEXPECTED_FRAME: CloseCode.ProtocolViolation,
  HEARTBEAT_TIMEOUT: CloseCode.HeartbeatTimeout,
  UNAUTHORIZED: CloseCode.Unauthorized,
  SESSION_EXPIRED: CloseCode.SessionExpired,
  ALREADY_LOGGED_IN: CloseCode.Replaced,
  RATE_LIMITED: CloseCode.RateLimited,
  SLOW_CONSUMER: CloseCode.SlowConsumer,
  SHUTTING_DOWN: CloseCode.ShuttingDown,
};

/** The close code that goes with an error that ends a connection; anything unexpected is Internal. */
export function closeCodeFor(code: string): CloseCode {
  return closeByError[code] ?? CloseCode.Internal;
}

/**
 * Why a Pomelo connection closed, as its rules report it (the close action's `cause`): a Pomelo codec error code
 * (PomeloErrorCode in pomelo/frames.ts) or one of these. Pomelo clients see a kick reason, never these codes.
 */
export const PomeloCloseCause = { Kicked: 'KICKED', ClientRefused: 'CLIENT_REFUSED' } as const;

const closeByPomeloCause: Readonly<Partial<Record<string, CloseCode>>> = {
  HEARTBEAT_TIMEOUT: CloseCode.HeartbeatTimeout,
  HANDSHAKE_TIMEOUT: CloseCode.HandshakeTimeout,
  PACKAGE_TOO_LARGE: CloseCode.FrameTooLarge,
  UNEXPECTED_PACKAGE: CloseCode.ProtocolViolation,
  CLIENT_REFUSED: CloseCode.UnsupportedVersion,
  KICKED: CloseCode.Kicked,
};

/** The close code for a Pomelo close cause; any other protocol error closes as a bad frame. */
export function pomeloCloseCodeFor(cause: string): CloseCode {
  return closeByPomeloCause[cause] ?? CloseCode.BadFrame;
}

/**
 * Closes after which the server keeps the session for the resume grace period. The others end it on purpose: the
 * client said goodbye, or the server decided this client must not continue as is.
 */
const terminalCloses: ReadonlySet<number> = new Set<number>([
  CloseCode.Normal,
  CloseCode.Unauthorized,
  CloseCode.SessionExpired,
  CloseCode.Replaced,
  CloseCode.Kicked,
]);

export function isResumableClose(code: number): boolean {
  return !terminalCloses.has(code);
}
