/**
 * Frames of the native client protocol (docs/PROTOCOL.md is the normative spec). A frame is a discriminated union on
 * `type`; on the wire it is a MessagePack array `[tag, ...fields]` with the fields in the order listed here.
 *
 * Direction: the client sends hello, req, notify, ping, pong, close; the server sends welcome, res, push, ping, pong,
 * close, error. Ids are uint32 chosen by the client and echoed by the server; a notify has none and gets no answer.
 */
import type { WireError } from '../../common/errors.js';

export const PROTOCOL_VERSION = 1;
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;

export const FrameType = {
  Hello: 'hello',
  Welcome: 'welcome',
  Req: 'req',
  Res: 'res',
  Push: 'push',
  Ping: 'ping',
  Pong: 'pong',
  Close: 'close',
  Error: 'error',
  Notify: 'notify',
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/**
 * Wire tags. A successful and a failed `res` get different tags so a reader knows the shape from the tag alone,
 * without probing array lengths or nil fields. Tags fit a positive fixint, so byte 1 of every frame is the tag.
 */
export const FrameTag = {
  Hello: 1,
  Welcome: 2,
  Req: 3,
  Res: 4,
  ResError: 5,
  Push: 6,
  Ping: 7,
  Pong: 8,
  Close: 9,
  Error: 10,
  Notify: 11,
} as const;
export type FrameTag = (typeof FrameTag)[keyof typeof FrameTag];

/** Bounds checked on encode and decode. String lengths are UTF-16 units except where noted. */
export const Limits = {
  route: 128,
  session: 128,
  ticket: 512,
  /** A credential (a JWT, or what a `hook` gateway accepts): visible ASCII. */
  token: 4096,
  client: 128,
  code: 64,
  message: 1024,
  /** UTF-8 bytes: what a WebSocket close frame can carry, so a reason survives either transport. */
  reasonBytes: 123,
  /** Nesting depth of a body (the body itself is depth 0). */
  bodyDepth: 32,
  /** Smallest maxFrameBytes a server may announce: a welcome with the longest fields must fit. */
  minFrameBytes: 1024,
} as const;

export const UINT32_MAX = 0xffff_ffff;

export interface HelloFrame {
  type: 'hello';
  /** Protocol version the client speaks. */
  v: number;
  /** Session ticket from an earlier welcome: asks to resume that session. */
  ticket?: string;
  /** Free-form client description for logs, e.g. `sdk-ts/0.1.0`. */
  client?: string;
  /** The client's credential (gateway.auth): checked before the session opens; refused → UNAUTHORIZED, close 4100. */
  token?: string;
}

export interface WelcomeFrame {
  type: 'welcome';
  v: number;
  session: string;
  /** Opaque; the client keeps it to resume after a reconnect. */
  ticket: string;
  heartbeatMs: number;
  maxFrameBytes: number;
  resumed: boolean;
}

export interface ReqFrame {
  type: 'req';
  id: number;
  route: string;
  body: unknown;
}

/**
 * A request that wants no answer (a chat line, a lobby relay): routed like `req`, never answered, not even with an
 * error. It spares the server a response encode and write and the client an id, a timer and a pending entry.
 */
export interface NotifyFrame {
  type: 'notify';
  route: string;
  body: unknown;
}

export interface ResOkFrame {
  type: 'res';
  id: number;
  body: unknown;
  error?: undefined;
}

export interface ResErrorFrame {
  type: 'res';
  id: number;
  error: WireError;
  body?: undefined;
}

export type ResFrame = ResOkFrame | ResErrorFrame;

export interface PushFrame {
  type: 'push';
  route: string;
  body: unknown;
}

export interface PingFrame {
  type: 'ping';
}

export interface PongFrame {
  type: 'pong';
}

export interface CloseFrame {
  type: 'close';
  /** A CloseCode (4000-4999). */
  code: number;
  reason: string;
}

export interface ErrorFrame {
  type: 'error';
  code: string;
  message: string;
  /** The request this error is about, when it is about one. */
  id?: number;
}

export type Frame =
  | HelloFrame
  | WelcomeFrame
  | ReqFrame
  | NotifyFrame
  | ResFrame
  | PushFrame
  | PingFrame
  | PongFrame
  | CloseFrame
  | ErrorFrame;

export type ClientFrame = HelloFrame | ReqFrame | NotifyFrame | PingFrame | PongFrame | CloseFrame;
export type ServerFrame = WelcomeFrame | ResFrame | PushFrame | PingFrame | PongFrame | CloseFrame | ErrorFrame;

const clientTypes: ReadonlySet<string> = new Set(['hello', 'req', 'notify', 'ping', 'pong', 'close']);

export function isClientFrame(frame: Frame): frame is ClientFrame {
  return clientTypes.has(frame.type);
}

/** Routes: dot-separated tokens of [A-Za-z0-9_-]. No wildcards or spaces: a route can never pass for a bus subject. */
export const ROUTE_RE = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;
