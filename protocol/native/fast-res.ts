/**
 * The common case of encodeFrame for the gateway's answers and pushes, written by hand: a successful `res` or a `push` whose body is plain
 * JSON-like data (null, booleans, numbers, strings, arrays, objects whose constructor is Object). The bytes are
 * exactly what encodeFrame writes for the same frame (msgpackr with the codec's options: the same integer, float64,
 * string, array and map forms, keys in for-in order), without its generic set-up per call, the field array and
 * the frame object fromFields builds to validate it (issue 16: the gateway's per-request CPU).
 *
 * Anything else returns undefined and the caller encodes it with encodeFrame as before, so what is refused and why is
 * unchanged: undefined anywhere (encodeFrame drops it from maps and writes nil in arrays), bytes, other objects
 * (null-prototype maps, class instances, an own `constructor` key), nesting at or past Limits.bodyDepth, an id that
 * is not a uint32, and a frame over `maxFrameBytes` (encodeFrame's FRAME_TOO_LARGE). test/unit/native-fast-res.test.ts
 * compares the bytes with encodeFrame's on generated bodies.
 */
import { DEFAULT_MAX_FRAME_BYTES, FrameTag, Limits, ROUTE_RE, UINT32_MAX } from './frames.js';

/**
 * Frames are written straight into a shared chunk and handed out as views of it (`subarray`), one after the other,
 * as msgpackr does: a fresh ArrayBuffer per frame (what `slice` made) cost about as much as writing the whole frame
 * (~0.6 us against ~0.1 us for a view, measured on this host). A frame that does not fit in what is left of the chunk
 * moves to a new one; a view keeps its chunk alive only as long as the frame itself is kept.
 */
const CHUNK = 64 * 1024;
let out = new Uint8Array(CHUNK);
let view = new DataView(out.buffer);
/** Where the frame being written starts in `out`, and where the next byte goes. */
let start = 0;
let pos = 0;

/** Starts a frame: at the end of the chunk's last one, or in a new chunk when little is left. */
function begin(): void {
  if (out.length - pos < 1024) {
    out = new Uint8Array(CHUNK);
    view = new DataView(out.buffer);
    pos = 0;
  }
  start = pos;
}

/** The frame written since begin(), or undefined (its bytes are dropped) when the writer gave up. */
function end(ok: boolean, max: number): Uint8Array | undefined {
  if (!ok || pos - start > max) {
    pos = start;
    return undefined;
  }
  const frame = out.subarray(start, pos);
  start = pos;
  return frame;
}

/** The encoded `res` frame answering `id` with `body`, or undefined to encode it with encodeFrame. */
export function encodeResFast(id: number, body: unknown, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Uint8Array | undefined {
  if (!Number.isInteger(id) || id < 0 || id > UINT32_MAX) return undefined;
  begin();
  out[pos++] = 0x93;
  out[pos++] = FrameTag.Res;
  writeNumber(id);
  return end(write(body, 0, maxFrameBytes), maxFrameBytes);
}

/**
 * The encoded `push` frame of `route` and `body`, or undefined to encode it with encodeFrame: the same hand-written
 * bytes for the gateway's pushes (encoded once per fan-out, once per chat line), same rules. A route that is not
 * dot-separated tokens within Limits.route is left to encodeFrame, which refuses it.
 */
export function encodePushFast(route: string, body: unknown, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Uint8Array | undefined {
  if (route !== lastRoute) {
    if (typeof route !== 'string' || route.length > Limits.route || !ROUTE_RE.test(route)) return undefined;
    lastRoute = route;
  }
  begin();
  out[pos++] = 0x93;
  out[pos++] = FrameTag.Push;
  return end(writeString(route, maxFrameBytes) && write(body, 0, maxFrameBytes), maxFrameBytes);
}

/** The last route encodePushFast found valid: a gateway pushes few routes, each checked once while it repeats. */
let lastRoute: string | undefined;

/**
 * Room for `n` more bytes; false once what is written already is over the frame limit (the caller falls back, and
 * encodeFrame refuses the frame), so an oversized body costs at most the limit's worth of work.
 */
function room(n: number, max: number): boolean {
  const written = pos - start;
  if (written > max) return false;
  if (pos + n > out.length) {
    // The frame moves to a chunk of its own (at least twice what it needs); the frames before it keep the old one.
    const bigger = new Uint8Array(Math.max(CHUNK, 2 * (written + n)));
    bigger.set(out.subarray(start, pos));
    out = bigger;
    view = new DataView(out.buffer);
    start = 0;
    pos = written;
  }
  return true;
}

function write(v: unknown, depth: number, max: number): boolean {
  switch (typeof v) {
    case 'string':
      return writeString(v, max);
    case 'number':
      if (!room(9, max)) return false;
      writeNumber(v);
      return true;
    case 'boolean':
      if (!room(1, max)) return false;
      out[pos++] = v ? 0xc3 : 0xc2;
      return true;
    case 'object':
      break;
    default:
      return false; // undefined, bigint, function, symbol: encodeFrame decides
  }
  if (v === null) {
    if (!room(1, max)) return false;
    out[pos++] = 0xc0;
    return true;
  }
  if (depth >= Limits.bodyDepth) return false;
  const ctor = (v as { constructor?: unknown }).constructor;
  if (ctor === Array) return writeArray(v as unknown[], depth, max);
  if (ctor === Object && Object.getPrototypeOf(v) === Object.prototype) return writeObject(v as Record<string, unknown>, depth, max);
  return false;
}

/** msgpackr's forms: uint32 and int32 in the smallest integer form, anything else a float64. */
function writeNumber(v: number): void {
  if (v >>> 0 === v) {
    if (v < 0x80) out[pos++] = v;
    else if (v < 0x100) {
      out[pos++] = 0xcc;
      out[pos++] = v;
    } else if (v < 0x10000) {
      out[pos++] = 0xcd;
      out[pos++] = v >> 8;
      out[pos++] = v & 0xff;
    } else {
      out[pos++] = 0xce;
      view.setUint32(pos, v);
      pos += 4;
    }
  } else if (v >> 0 === v) {
    if (v >= -0x20) out[pos++] = 0x100 + v;
    else if (v >= -0x80) {
      out[pos++] = 0xd0;
      out[pos++] = v + 0x100;
    } else if (v >= -0x8000) {
      out[pos++] = 0xd1;
      view.setInt16(pos, v);
      pos += 2;
    } else {
      out[pos++] = 0xd2;
      view.setInt32(pos, v);
      pos += 4;
    }
  } else {
    out[pos++] = 0xcb;
    view.setFloat64(pos, v);
    pos += 8;
  }
}

function writeHeader(n: number, fix: number, x16: number): void {
  if (n < 0x10) out[pos++] = fix | n;
  else if (n < 0x10000) {
    out[pos++] = x16;
    out[pos++] = n >> 8;
    out[pos++] = n & 0xff;
  } else {
    out[pos++] = x16 + 1;
    view.setUint32(pos, n);
    pos += 4;
  }
}

function writeArray(a: unknown[], depth: number, max: number): boolean {
  if (!room(5, max)) return false;
  const n = a.length;
  writeHeader(n, 0x90, 0xdc);
  for (let i = 0; i < n; i++) if (!write(a[i], depth + 1, max)) return false;
  return true;
}

function writeObject(o: Record<string, unknown>, depth: number, max: number): boolean {
  if (!room(5, max)) return false;
  let n = 0;
  for (const k in o) {
    // encodeFrame leaves undefined values' keys out, and inherited keys (a polluted prototype): let it.
    if (o[k] === undefined || !Object.hasOwn(o, k)) return false;
    n++;
  }
  writeHeader(n, 0x80, 0xde);
  for (const k in o) if (!writeString(k, max) || !write(o[k], depth + 1, max)) return false;
  return true;
}

/** UTF-8 as msgpackr writes it (a lone surrogate becomes U+FFFD), in the smallest str form for its byte length. */
function writeString(s: string, max: number): boolean {
  const n = s.length;
  // At least a byte per unit: longer than the limit is too large whatever it holds (and the scratch buffer stays
  // within 3 x the limit).
  if (n > max || !room(5 + 3 * n, max)) return false;
  // Written after a 1-byte header guess, moved when the byte length needs a longer one (as msgpackr does).
  const header = n < 0x20 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
  let p = pos + header;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) out[p++] = c;
    else if (c < 0x800) {
      out[p++] = (c >> 6) | 0xc0;
      out[p++] = (c & 0x3f) | 0x80;
    } else if ((c & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c & 0x03ff) << 10) + (s.charCodeAt(++i) & 0x03ff);
      out[p++] = (c >> 18) | 0xf0;
      out[p++] = ((c >> 12) & 0x3f) | 0x80;
      out[p++] = ((c >> 6) & 0x3f) | 0x80;
      out[p++] = (c & 0x3f) | 0x80;
    } else if ((c & 0xf800) === 0xd800) {
      out[p++] = 0xef;
      out[p++] = 0xbf;
      out[p++] = 0xbd;
    } else {
      out[p++] = (c >> 12) | 0xe0;
      out[p++] = ((c >> 6) & 0x3f) | 0x80;
      out[p++] = (c & 0x3f) | 0x80;
    }
  }
  const len = p - pos - header;
  const need = len < 0x20 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 5;
  if (need !== header) out.copyWithin(pos + need, pos + header, p);
  if (need === 1) out[pos] = 0xa0 | len;
  else if (need === 2) {
    out[pos] = 0xd9;
    out[pos + 1] = len;
  } else if (need === 3) {
    out[pos] = 0xda;
    out[pos + 1] = len >> 8;
    out[pos + 2] = len & 0xff;
  } else {
    out[pos] = 0xdb;
    view.setUint32(pos + 1, len);
  }
  pos += need + len;
  return true;
}
