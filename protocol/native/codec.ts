/**
 * Frame <-> bytes for the native protocol. Pure: no I/O, no clock. decodeFrame throws only ProtocolError, whatever
 * the bytes (fuzzed in test/unit/native-fuzz.test.ts); encodeFrame runs the same validation, so the server cannot
 * emit a frame its own SDK would reject.
 *
 * Layout: a MessagePack fixarray `[tag, ...fields]`. Byte 0 is 0x91..0x97 and byte 1 is the tag, so a reader can
 * reject garbage and learn the frame type before parsing anything; positional fields spare the map keys that would
 * otherwise make up most of a small frame.
 */
import { Packr, Unpackr } from 'msgpackr';
import { GatehouseError } from '../../common/errors.js';
import { CLOSE_CODE_MAX, CLOSE_CODE_MIN, ClientErrorCode } from '../error-codes.js';
import { utf8Length } from '../utf8.js';
import { decodeReqFast } from './fast-req.js';
import {
  DEFAULT_MAX_FRAME_BYTES,
  FrameTag,
  Limits,
  ROUTE_RE,
  UINT32_MAX,
  type ErrorFrame,
  type Frame,
  type HelloFrame,
} from './frames.js';

/** A frame that cannot be encoded or decoded. `id` is the request it belongs to, when that much could be read. */
export class ProtocolError extends GatehouseError {
  declare readonly code: ClientErrorCode;
  readonly id: number | undefined;
  constructor(code: ClientErrorCode, message: string, options?: { id?: number | undefined; cause?: unknown }) {
    super(code, message, options);
    this.name = 'ProtocolError';
    this.id = options?.id;
  }
}

export interface FrameLimits {
  /** Default DEFAULT_MAX_FRAME_BYTES (64 KiB). */
  maxFrameBytes?: number;
}

// Not bus/codec's instances, on purpose. Encoding: the client protocol must not carry msgpackr's `undefined`
// extension, which other MessagePack libraries cannot read; like JSON.stringify, undefined properties are dropped
// and other undefined values become nil. Decoding: other libraries write integers above 2^32 (a millisecond
// timestamp) as uint64/int64, which bus/codec reads as bigint; here they are numbers while exact (|n| <= 2^53), so
// only integers JavaScript cannot hold are refused.
const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'auto',
} as unknown as ConstructorParameters<typeof Unpackr>[0]);
const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true,
  encodeUndefinedAsNil: true,
  skipValues: [undefined],
} as ConstructorParameters<typeof Packr>[0]);

export function encodeFrame(frame: Frame, limits?: FrameLimits): Uint8Array {
  const fields = toFields(frame);
  fromFields(fields, true);
  let bytes: Uint8Array;
  try {
    bytes = packr.pack(fields);
  } catch (err) {
    throw new ProtocolError(ClientErrorCode.BadFrame, `cannot encode ${frame.type}: ${(err as Error)?.message}`, {
      cause: err,
    });
  }
  const max = limits?.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  if (bytes.length > max) {
    const id = 'id' in frame ? frame.id : undefined;
    const message = `${frame.type} frame of ${bytes.length} bytes exceeds ${max}`;
    throw new ProtocolError(ClientErrorCode.FrameTooLarge, message, { id });
  }
  return bytes;
}

export function decodeFrame(bytes: Uint8Array, limits?: FrameLimits): Frame {
  if (!(bytes instanceof Uint8Array)) throw new ProtocolError(ClientErrorCode.BadFrame, 'a frame must be bytes');
  const max = limits?.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  if (bytes.length > max) {
    throw new ProtocolError(ClientErrorCode.FrameTooLarge, `frame of ${bytes.length} bytes exceeds ${max}`, {
      id: peekReqId(bytes),
    });
  }
  const b0 = bytes[0] ?? 0;
  if (bytes.length < 2 || b0 < 0x91 || b0 > 0x97) {
    throw new ProtocolError(ClientErrorCode.BadFrame, 'a frame is a MessagePack fixarray [tag, ...fields]');
  }
  // A plain request is read by hand (fast-req.ts: issue 16); whatever it does not read comes here as before.
  return decodeReqFast(bytes) ?? decodeGeneric(bytes);
}

/** msgpackr, then the fields' checks: every frame decodeFrame accepts, and every refusal's message. */
export function decodeGeneric(bytes: Uint8Array): Frame {
  let fields: unknown;
  try {
    fields = unpackr.unpack(bytes);
  } catch (err) {
    // msgpackr decodes nested arrays/maps recursively: a frame nested thousands deep overflows the stack here, before
    // the body check (Limits.bodyDepth) can name the limit. Such a frame is refused the same way, saying why.
    const deep = err instanceof RangeError && /call stack/i.test(err.message);
    const message = deep
      ? `body must be nested at most ${Limits.bodyDepth} deep`
      : `malformed MessagePack: ${(err as Error)?.message ?? err}`;
    throw new ProtocolError(ClientErrorCode.BadFrame, message, { id: peekReqId(bytes), cause: err });
  }
  return fromFields(fields as unknown[], false);
}

function toFields(f: Frame): unknown[] {
  switch (f.type) {
    case 'hello':
      if (f.token !== undefined) return [FrameTag.Hello, f.v, f.ticket ?? null, f.client ?? null, f.token];
      if (f.client !== undefined) return [FrameTag.Hello, f.v, f.ticket ?? null, f.client];
      return f.ticket !== undefined ? [FrameTag.Hello, f.v, f.ticket] : [FrameTag.Hello, f.v];
    case 'welcome':
      return [FrameTag.Welcome, f.v, f.session, f.ticket, f.heartbeatMs, f.maxFrameBytes, f.resumed];
    case 'req':
      return [FrameTag.Req, f.id, f.route, f.body];
    case 'notify':
      return [FrameTag.Notify, f.route, f.body];
    case 'res':
      return f.error !== undefined
        ? [FrameTag.ResError, f.id, f.error.code, f.error.message]
        : [FrameTag.Res, f.id, f.body];
    case 'push':
      return [FrameTag.Push, f.route, f.body];
    case 'ping':
      return [FrameTag.Ping];
    case 'pong':
      return [FrameTag.Pong];
    case 'close':
      return [FrameTag.Close, f.code, f.reason];
    case 'error':
      return f.id !== undefined ? [FrameTag.Error, f.code, f.message, f.id] : [FrameTag.Error, f.code, f.message];
    default:
      throw new ProtocolError(ClientErrorCode.BadFrame, `unknown frame type ${JSON.stringify((f as Frame).type)}`);
  }
}

/** Validates fields and builds the frame. `encoding` tolerates undefined in bodies (dropped or sent as nil). */
function fromFields(a: unknown[], encoding: boolean): Frame {
  const n = a.length;
  switch (a[0]) {
    case FrameTag.Hello: {
      arity('hello', n, 2, 5);
      const v = version('hello.v', a[1]);
      const ticket = a[2] ?? undefined;
      const client = a[3] ?? undefined;
      const credential = a[4] ?? undefined;
      if (ticket !== undefined) token('hello.ticket', ticket, Limits.ticket, VISIBLE_RE);
      if (client !== undefined) token('hello.client', client, Limits.client, PRINTABLE_RE);
      if (credential !== undefined) token('hello.token', credential, Limits.token, VISIBLE_RE);
      // nil only stands in for a field followed by a later one: the last element is never nil.
      if (n === 5 && credential === undefined) fail('hello.token must be omitted rather than nil');
      if (n === 4 && client === undefined) fail('hello.client must be omitted rather than nil');
      if (n === 3 && ticket === undefined) fail('hello.ticket must be omitted rather than nil');
      const f: HelloFrame = { type: 'hello', v };
      if (ticket !== undefined) f.ticket = ticket as string;
      if (client !== undefined) f.client = client as string;
      if (credential !== undefined) f.token = credential as string;
      return f;
    }
    case FrameTag.Welcome: {
      arity('welcome', n, 7, 7);
      if (typeof a[6] !== 'boolean') fail('welcome.resumed must be a boolean');
      return {
        type: 'welcome',
        v: version('welcome.v', a[1]),
        session: token('welcome.session', a[2], Limits.session, VISIBLE_RE),
        ticket: token('welcome.ticket', a[3], Limits.ticket, VISIBLE_RE),
        heartbeatMs: int('welcome.heartbeatMs', a[4], 1, 0x7fff_ffff),
        maxFrameBytes: int('welcome.maxFrameBytes', a[5], Limits.minFrameBytes, 0x7fff_ffff),
        resumed: a[6],
      };
    }
    case FrameTag.Req: {
      const id = uint32('req.id', a[1]);
      arity('req', n, 4, 4, id);
      return { type: 'req', id, route: route('req.route', a[2], id), body: body('req.body', a[3], encoding, id) };
    }
    case FrameTag.Notify:
      arity('notify', n, 3, 3);
      return { type: 'notify', route: route('notify.route', a[1]), body: body('notify.body', a[2], encoding) };
    case FrameTag.Res: {
      arity('res', n, 3, 3);
      const id = uint32('res.id', a[1]);
      return { type: 'res', id, body: body('res.body', a[2], encoding, id) };
    }
    case FrameTag.ResError: {
      arity('res', n, 4, 4);
      const id = uint32('res.id', a[1]);
      const error = { code: errorCode('res.error.code', a[2]), message: text('res.error.message', a[3]) };
      return { type: 'res', id, error };
    }
    case FrameTag.Push:
      arity('push', n, 3, 3);
      return { type: 'push', route: route('push.route', a[1]), body: body('push.body', a[2], encoding) };
    case FrameTag.Ping:
      arity('ping', n, 1, 1);
      return PING;
    case FrameTag.Pong:
      arity('pong', n, 1, 1);
      return PONG;
    case FrameTag.Close: {
      arity('close', n, 3, 3);
      const code = int('close.code', a[1], CLOSE_CODE_MIN, CLOSE_CODE_MAX);
      const reason = a[2];
      if (typeof reason !== 'string' || utf8Length(reason) > Limits.reasonBytes) {
        fail(`close.reason must be a string of at most ${Limits.reasonBytes} UTF-8 bytes`);
      }
      return { type: 'close', code, reason };
    }
    case FrameTag.Error: {
      arity('error', n, 3, 4);
      const code = errorCode('error.code', a[1]);
      const f: ErrorFrame = { type: 'error', code, message: text('error.message', a[2]) };
      if (n === 4) f.id = uint32('error.id', a[3]);
      return f;
    }
    default:
      return fail(`unknown frame tag ${describe(a[0])}`);
  }
}

// Frozen singletons: ping and pong carry nothing, so decoding them allocates nothing.
const PING: Frame = Object.freeze({ type: 'ping' });
const PONG: Frame = Object.freeze({ type: 'pong' });

const VISIBLE_RE = /^[\x21-\x7e]+$/;
const PRINTABLE_RE = /^[\x20-\x7e]+$/;
const CODE_RE = /^[A-Z][A-Z0-9_]*$/;

function fail(message: string, id?: number): never {
  throw new ProtocolError(ClientErrorCode.BadFrame, message, { id });
}

function arity(type: string, n: number, min: number, max: number, id?: number): void {
  if (n < min || n > max) {
    const want = min === max ? `${min}` : `${min} to ${max}`;
    fail(`${type} must have ${want} element${max === 1 ? '' : 's'} including the tag, got ${n}`, id);
  }
}

function int(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(`${field} must be an integer in ${min}..${max}`);
  }
  return v;
}

function uint32(field: string, v: unknown): number {
  return int(field, v, 0, UINT32_MAX);
}

function version(field: string, v: unknown): number {
  return int(field, v, 1, 0xffff);
}

function token(field: string, v: unknown, max: number, re: RegExp): string {
  if (typeof v !== 'string' || v.length > max || !re.test(v)) {
    fail(`${field} must be 1..${max} ${re === VISIBLE_RE ? 'visible' : 'printable'} ASCII characters`);
  }
  return v;
}

function route(field: string, v: unknown, id?: number): string {
  if (typeof v !== 'string' || v.length > Limits.route || !ROUTE_RE.test(v)) {
    fail(`${field} must be dot-separated [A-Za-z0-9_-] tokens, at most ${Limits.route} characters`, id);
  }
  return v;
}

function errorCode(field: string, v: unknown): string {
  if (typeof v !== 'string' || v.length > Limits.code || !CODE_RE.test(v)) {
    fail(`${field} must be an UPPER_SNAKE code of at most ${Limits.code} characters`);
  }
  return v;
}

function text(field: string, v: unknown): string {
  if (typeof v !== 'string' || v.length > Limits.message) {
    fail(`${field} must be a string of at most ${Limits.message} characters`);
  }
  return v;
}

function body(field: string, v: unknown, encoding: boolean, id?: number): unknown {
  if (!isPlainData(v, 0, encoding)) {
    const what = 'plain data (nil, boolean, number, string, bin, array, map)';
    fail(`${field} must be ${what} nested at most ${Limits.bodyDepth} deep`, id);
  }
  return v === undefined ? null : v;
}

/**
 * Bodies are what JSON can say plus bytes. This rejects what msgpackr would otherwise hand an actor from a client:
 * extension types (Date, Set, Error, RegExp, undefined), 64-bit integers as bigint, and nesting deep enough to
 * overflow a recursive consumer.
 */
function isPlainData(v: unknown, depth: number, allowUndefined: boolean): boolean {
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'boolean':
      return true;
    case 'undefined':
      return allowUndefined;
    case 'object':
      break;
    default:
      return false;
  }
  if (v === null || v instanceof Uint8Array) return true;
  if (depth >= Limits.bodyDepth) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!isPlainData(v[i], depth + 1, allowUndefined)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const k in v) if (!isPlainData((v as Record<string, unknown>)[k], depth + 1, allowUndefined)) return false;
  return true;
}

/** Reads a req id straight from the bytes, for errors about frames that did not parse. */
function peekReqId(bytes: Uint8Array): number | undefined {
  if (bytes.length < 3 || bytes[0] !== 0x94 || bytes[1] !== FrameTag.Req) return undefined;
  const m = bytes[2]!;
  if (m <= 0x7f) return m;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (m === 0xcc && bytes.length >= 4) return view.getUint8(3);
  if (m === 0xcd && bytes.length >= 5) return view.getUint16(3);
  if (m === 0xce && bytes.length >= 7) return view.getUint32(3);
  return undefined;
}

function describe(v: unknown): string {
  return typeof v === 'number' ? String(v) : typeof v;
}
