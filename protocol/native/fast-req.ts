/**
 * The common case of decodeFrame, read by hand: a `req` (or a `notify`) whose fields and body hold only what a JSON-like request
 * holds (ASCII strings, small integers and doubles, nil, booleans, arrays and maps with ASCII text keys). On the
 * gateway's request path (issue 16) msgpackr's generic reader cost more than anything else the gateway does per
 * request: its per-call set-up (a DataView stored on every incoming Buffer, shared module state), the native string
 * extractor for some strings, then fromFields building the frame again from the decoded array.
 *
 * Anything else returns undefined and decodeFrame reads the frame as before (msgpackr + fromFields), so every frame
 * this refuses to read, and every error, is exactly what it was: this only ever answers with the frame decodeFrame
 * would have returned (test/unit/native-fast-req.test.ts compares the two on generated frames). What falls back:
 * another tag or arity, an id that is not a uint32 in fixint/uint8/16/32 form, a route that is not a valid ASCII
 * route, non-ASCII strings (msgpackr's UTF-8 decoding of bad sequences is its own), bin, ext, float32, 64-bit
 * integers, str32/array32/map32, map keys that are not fixstr, nesting at or past Limits.bodyDepth, and bytes left
 * over or missing.
 */
import { FrameTag, Limits, type NotifyFrame, type ReqFrame } from './frames.js';

/** Fell back: a sentinel rather than an exception, since falling back is not an error. */
const NO = Symbol('fall back');
type Read = unknown | typeof NO;

let src: Uint8Array = new Uint8Array(0);
let pos = 0;
let end = 0;

/**
 * The `req` or `notify` frame in `bytes` (already checked: at most maxFrameBytes), or undefined to decode it the
 * generic way. A notify (`[tag, route, body]`: a chat line) is read with the same rules as a request's route and body.
 */
export function decodeReqFast(bytes: Uint8Array): ReqFrame | NotifyFrame | undefined {
  if (bytes.length >= 3 && bytes[0] === 0x93 && bytes[1] === FrameTag.Notify) return decodeNotifyFast(bytes);
  if (bytes.length < 4 || bytes[0] !== 0x94 || bytes[1] !== FrameTag.Req) return undefined;
  src = bytes;
  pos = 2;
  end = bytes.length;
  try {
    const id = readId();
    if (id < 0) return undefined;
    const route = readRoute();
    if (route === undefined) return undefined;
    const body = read(0);
    if (body === NO || pos !== end) return undefined;
    return { type: 'req', id, route, body };
  } finally {
    src = EMPTY; // holds no caller's buffer past the call
  }
}

function decodeNotifyFast(bytes: Uint8Array): NotifyFrame | undefined {
  src = bytes;
  pos = 2;
  end = bytes.length;
  try {
    const route = readRoute();
    if (route === undefined) return undefined;
    const body = read(0);
    if (body === NO || pos !== end) return undefined;
    return { type: 'notify', route, body };
  } finally {
    src = EMPTY;
  }
}

const EMPTY = new Uint8Array(0);

/** A uint32 in the forms msgpackr reads as one; -1 otherwise. */
function readId(): number {
  if (pos >= end) return -1;
  const t = src[pos++]!;
  if (t < 0x80) return t;
  if (t === 0xcc && pos + 1 <= end) return src[pos++]!;
  if (t === 0xcd && pos + 2 <= end) return (src[pos++]! << 8) | src[pos++]!;
  if (t === 0xce && pos + 4 <= end) {
    const v = src[pos]! * 0x1000000 + ((src[pos + 1]! << 16) | (src[pos + 2]! << 8) | src[pos + 3]!);
    pos += 4;
    return v;
  }
  return -1;
}

/**
 * A route as codec.ts's ROUTE_RE accepts it (dot-separated non-empty [A-Za-z0-9_-] tokens, at most Limits.route
 * characters), checked on the bytes; undefined for anything else (the generic path says why).
 */
function readRoute(): string | undefined {
  if (pos >= end) return undefined;
  const t = src[pos++]!;
  let n: number;
  if (t >= 0xa0 && t <= 0xbf) n = t - 0xa0;
  else if (t === 0xd9 && pos < end) n = src[pos++]!;
  else return undefined;
  if (n === 0 || n > Limits.route || pos + n > end) return undefined;
  let prevDot = true; // a route may not start with a dot
  for (let i = pos; i < pos + n; i++) {
    const c = src[i]!;
    if (c === 0x2e) {
      if (prevDot) return undefined;
      prevDot = true;
    } else if (isTokenByte(c)) prevDot = false;
    else return undefined;
  }
  if (prevDot) return undefined; // nor end with one
  return interned(n);
}

/**
 * Short strings that repeat from frame to frame (routes, map keys) are kept, so a frame's `route` and its keys are
 * the string objects earlier frames had: a fresh string as a property key made every store into the body a string
 * table lookup (V8's megamorphic keyed store), and a fresh route was hashed again for the route table's Map (both on
 * perf at 1 in flight, ~1.5 us per request). Slots by a hash of the bytes; a collision just replaces the slot.
 */
const INTERN_MAX = 32;
const internSlots: Array<string | undefined> = new Array(1024).fill(undefined);

function interned(n: number): string | undefined {
  if (n > INTERN_MAX) return ascii(n);
  const start = pos;
  const stop = start + n;
  if (stop > end) return undefined;
  let h = n;
  for (let i = start; i < stop; i++) {
    const c = src[i]!;
    if (c >= 0x80) return undefined;
    h = (Math.imul(h, 31) + c) | 0;
  }
  const slot = (h ^ (h >>> 10)) & 1023;
  const known = internSlots[slot];
  if (known !== undefined && known.length === n) {
    let i = 0;
    while (i < n && known.charCodeAt(i) === src[start + i]) i++;
    if (i === n) {
      pos = stop;
      return known;
    }
  }
  const s = ascii(n)!; // ASCII checked above
  internSlots[slot] = s;
  return s;
}

function isTokenByte(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2d;
}

/** `n` bytes at `pos` as a string when all are ASCII (then UTF-8 and Latin-1 agree); undefined otherwise. */
function ascii(n: number): string | undefined {
  const start = pos;
  const stop = start + n;
  if (stop > end) return undefined;
  if (n < 16) {
    let s = '';
    for (let i = start; i < stop; i++) {
      const c = src[i]!;
      if (c >= 0x80) return undefined;
      s += String.fromCharCode(c);
    }
    pos = stop;
    return s;
  }
  for (let i = start; i < stop; i++) if (src[i]! >= 0x80) return undefined;
  pos = stop;
  return latin1(start, stop);
}

type Latin1 = { latin1Slice?: (this: Uint8Array, a: number, b: number) => string };

function latin1(start: number, stop: number): string {
  // Buffers (what ws and net deliver) slice natively; a plain Uint8Array (tests, the browser SDK: no Buffer there)
  // goes char by char.
  const slice = (src as Latin1).latin1Slice;
  if (slice !== undefined) return slice.call(src, start, stop);
  let s = '';
  for (let i = start; i < stop; i++) s += String.fromCharCode(src[i]!);
  return s;
}

/** One value at `depth` (the body is depth 0), as msgpackr with mapsAsObjects reads it; NO to fall back. */
function read(depth: number): Read {
  if (pos >= end) return NO;
  const t = src[pos++]!;
  if (t < 0x80) return t;
  if (t >= 0xe0) return t - 0x100;
  if (t < 0x90) return readMap(t - 0x80, depth);
  if (t < 0xa0) return readArray(t - 0x90, depth);
  if (t < 0xc0) return ascii(t - 0xa0) ?? NO;
  switch (t) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xcc:
      return pos + 1 <= end ? src[pos++]! : NO;
    case 0xcd:
      if (pos + 2 > end) return NO;
      return (src[pos++]! << 8) | src[pos++]!;
    case 0xce: {
      if (pos + 4 > end) return NO;
      const v = src[pos]! * 0x1000000 + ((src[pos + 1]! << 16) | (src[pos + 2]! << 8) | src[pos + 3]!);
      pos += 4;
      return v;
    }
    case 0xd0:
      return pos + 1 <= end ? (src[pos++]! << 24) >> 24 : NO;
    case 0xd1:
      if (pos + 2 > end) return NO;
      return (((src[pos++]! << 8) | src[pos++]!) << 16) >> 16;
    case 0xd2: {
      if (pos + 4 > end) return NO;
      const v = (src[pos]! << 24) | (src[pos + 1]! << 16) | (src[pos + 2]! << 8) | src[pos + 3]!;
      pos += 4;
      return v;
    }
    case 0xcb: {
      if (pos + 8 > end) return NO;
      const v = new DataView(src.buffer, src.byteOffset + pos, 8).getFloat64(0);
      pos += 8;
      return v;
    }
    case 0xd9:
      return pos + 1 <= end ? (ascii(src[pos++]!) ?? NO) : NO;
    case 0xda: {
      if (pos + 2 > end) return NO;
      const n = (src[pos++]! << 8) | src[pos++]!;
      return ascii(n) ?? NO;
    }
    case 0xdc: {
      if (pos + 2 > end) return NO;
      const n = (src[pos++]! << 8) | src[pos++]!;
      return readArray(n, depth);
    }
    case 0xde: {
      if (pos + 2 > end) return NO;
      const n = (src[pos++]! << 8) | src[pos++]!;
      return readMap(n, depth);
    }
    default:
      return NO;
  }
}

function readArray(n: number, depth: number): Read {
  if (depth >= Limits.bodyDepth || n > end - pos) return NO; // every element takes a byte at least
  const a: unknown[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const v = read(depth + 1);
    if (v === NO) return NO;
    a[i] = v;
  }
  return a;
}

function readMap(n: number, depth: number): Read {
  if (depth >= Limits.bodyDepth || 2 * n > end - pos) return NO;
  const o: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    if (pos >= end) return NO;
    const t = src[pos++]!;
    if (t < 0xa0 || t > 0xbf) return NO;
    let key = interned(t - 0xa0);
    if (key === undefined) return NO;
    if (key === '__proto__') key = '__proto_'; // what msgpackr does with it
    const v = read(depth + 1);
    if (v === NO) return NO;
    o[key] = v;
  }
  return o;
}
