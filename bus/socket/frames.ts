/**
 * The control socket's wire format (pure: bytes in, frames out): each frame is a 4-byte big-endian length and that
 * many bytes of MessagePack (bus/codec.ts), one object with an `op`. The client (bus/socket/socket-bus.ts) and the
 * node's endpoint (server/control-socket.ts) both use it; the size limit is checked on the length prefix, before a
 * byte of the body is buffered.
 *
 * Client → node: `pub` {s, d, r?, h?}; `sub` {id, s, q?}; `unsub` {id}; `req` {id, s, d, t, h?}; `flush` {id};
 * `status` {id}. Node → client: `hello` {node, prefix, shards, maxFrame} first; `msg` {id (the subscription), s, d, r?, h?};
 * `res` {id, s, d, h?}; `ok` {id, v?}; `err` {id?, code, message} (without id: the connection is closing).
 */
import { decode, encode } from '../codec.js';
import type { BusMsg, Headers } from '../bus.js';
import { ClosedError, DecodeError, ErrorCode, GatehouseError, NoRespondersError, TimeoutError } from '../../common/errors.js';

export const FRAME_TOO_LARGE = 'FRAME_TOO_LARGE';
export const BAD_FRAME = 'BAD_FRAME';

export type Frame = { op: string; [field: string]: unknown };

export function encodeFrame(frame: Frame): Buffer {
  const body = encode(frame);
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, 4);
  return out;
}

/** Splits a byte stream into frames; throws GatehouseError FRAME_TOO_LARGE or BAD_FRAME (the caller closes). */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly maxFrame: number) {}

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const frames: Frame[] = [];
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (len > this.maxFrame) throw new GatehouseError(FRAME_TOO_LARGE, `frame of ${len} bytes is over the limit of ${this.maxFrame}`);
      if (this.buf.length < 4 + len) break;
      const body = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      frames.push(parseFrame(body));
    }
    return frames;
  }
}

function parseFrame(body: Uint8Array): Frame {
  let v: unknown;
  try {
    v = decode(body);
  } catch (e) {
    throw new GatehouseError(BAD_FRAME, `frame is not MessagePack: ${(e as DecodeError).message}`);
  }
  if (!v || typeof v !== 'object' || typeof (v as Frame).op !== 'string') {
    throw new GatehouseError(BAD_FRAME, 'frame is not an object with a string `op`');
  }
  return v as Frame;
}

/** Field readers for hostile frames: each names the op and field it refuses. */
export function str(f: Frame, field: string, optional = false): string | undefined {
  const v = f[field];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > 1024) throw badField(f, field, 'a string of 1-1024 chars');
  return v;
}

export function int(f: Frame, field: string): number {
  const v = f[field];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw badField(f, field, 'a whole number ≥ 0');
  return v;
}

export function bytes(f: Frame, field: string): Uint8Array {
  const v = f[field];
  if (!(v instanceof Uint8Array)) throw badField(f, field, 'bytes');
  return v;
}

/** Header bounds: a frame over a thread's MessagePort has no frame size limit, so the map itself is bounded. */
export const MAX_HEADERS = 64;
export const MAX_HEADER_CHARS = 4096;

export function headers(f: Frame): Record<string, string> | undefined {
  const v = f.h;
  if (v === undefined) return undefined;
  const want = `a map of at most ${MAX_HEADERS} strings of at most ${MAX_HEADER_CHARS} chars, names included`;
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badField(f, 'h', want);
  const entries = Object.entries(v);
  if (entries.length > MAX_HEADERS) throw badField(f, 'h', want);
  for (const [k, x] of entries) {
    if (typeof x !== 'string' || x.length > MAX_HEADER_CHARS || k.length > MAX_HEADER_CHARS) throw badField(f, 'h', want);
  }
  return v as Record<string, string>;
}

function badField(f: Frame, field: string, want: string): GatehouseError {
  return new GatehouseError(BAD_FRAME, `${f.op} frame: field ${field} must be ${want}`);
}

/** A `msg` or `res` frame from the node or broker as a BusMsg (the socket and thread buses share it). */
export function frameToMsg(f: Frame): BusMsg {
  return {
    subject: String(f.s),
    data: f.d instanceof Uint8Array ? f.d : new Uint8Array(),
    ...(typeof f.r === 'string' ? { reply: f.r } : {}),
    ...(f.h && typeof f.h === 'object' ? { headers: f.h as Headers } : {}),
  };
}

/** An `err` frame as the error class the other buses throw for its code (`subject`: the call's, for no-responders). */
export function frameError(f: Frame, subject: string): GatehouseError {
  const message = String(f.message);
  if (f.code === ErrorCode.Timeout) return new TimeoutError(message);
  if (f.code === ErrorCode.NoResponders) return Object.assign(new NoRespondersError(subject), { message });
  if (f.code === ErrorCode.Closed) return new ClosedError(message);
  return new GatehouseError(String(f.code), message);
}
