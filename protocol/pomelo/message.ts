/**
 * Pomelo message layer: what travels inside a `data` package.
 *
 *   flag (1 byte) | message id (base-128 varint, request/response only) | route (request/notify/push only) | body
 *
 * Flag bits, low to high: bit 0 = route compressed, bits 1-3 = message type (request 0, notify 1, response 2,
 * push 3), bit 4 = gzip-compressed body (a Pinus extension we never announce, so it is refused), bits 5-7 unused.
 * A route is either a 1-byte length + UTF-8 bytes, or, when compressed, a 2-byte big-endian dictionary code.
 * Bodies are opaque bytes here; for gatehouse they are JSON (see `encodeJsonBody`). Protobuf bodies are out of scope.
 */
import { byteView, HEADER_BYTES, PomeloErrorCode, PomeloProtocolError, writeHeader } from './frames.js';
import { MAX_ROUTE_BYTES, type RouteDict } from './route-dict.js';
import { utf8Length, writeUtf8 } from '../utf8.js';
import { Limits } from '../native/frames.js';

/** Wire codes of the message types (bits 1-3 of the flag byte). */
export const MessageType = { request: 0, notify: 1, response: 2, push: 3 } as const;
export type MessageTypeName = keyof typeof MessageType;
const TYPE_NAMES: readonly MessageTypeName[] = ['request', 'notify', 'response', 'push'];

export type PomeloMessage =
  | { type: 'request'; id: number; route: string; body: Uint8Array }
  | { type: 'notify'; route: string; body: Uint8Array }
  | { type: 'response'; id: number; body: Uint8Array }
  | { type: 'push'; route: string; body: Uint8Array };

/** A decoded message also says how its route travelled (for tests, logs and debugging tools). */
export type DecodedMessage = PomeloMessage & { routeCompressed: boolean };

/** Ids are uint32 on the wire (libpomelo's type); the varint of the largest one takes 5 bytes. */
export const MAX_MESSAGE_ID = 0xffff_ffff;
const FLAG_COMPRESS_ROUTE = 0x01;
const FLAG_GZIP = 0x10;
const FLAG_RESERVED = 0xe0;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function varintLength(id: number): number {
  if (id < 0x80) return 1;
  if (id < 0x4000) return 2;
  if (id < 0x20_0000) return 3;
  if (id < 0x1000_0000) return 4;
  return 5;
}

/** Low 7 bits first, high bit set on every byte but the last. Division, not `>>`, so ids ≥ 2^31 stay positive. */
export function writeVarint(out: Uint8Array, offset: number, id: number): number {
  let rest = id;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest !== 0) byte |= 0x80;
    out[offset++] = byte;
  } while (rest !== 0);
  return offset;
}

function readVarint(bytes: Uint8Array, offset: number): { id: number; next: number } {
  let id = 0;
  for (let i = 0; i < 5; i++) {
    if (offset + i >= bytes.length) {
      throw new PomeloProtocolError(PomeloErrorCode.BadMessage, 'message ends inside its id');
    }
    const byte = bytes[offset + i]!;
    id += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) {
      if (id > MAX_MESSAGE_ID) {
        throw new PomeloProtocolError(PomeloErrorCode.BadMessage, `message id ${id} exceeds uint32`);
      }
      return { id, next: offset + i + 1 };
    }
  }
  throw new PomeloProtocolError(PomeloErrorCode.BadMessage, 'message id varint longer than 5 bytes');
}

function checkId(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > MAX_MESSAGE_ID) {
    throw new PomeloProtocolError(PomeloErrorCode.BadMessage, `message id must be a uint32, got ${id}`);
  }
}

/** Checks that `route` fits the 1-byte length field and returns its UTF-8 length. */
export function routeLength(route: string): number {
  const length = utf8Length(route);
  if (length > MAX_ROUTE_BYTES) {
    throw new PomeloProtocolError(
      PomeloErrorCode.BadRoute,
      `route is ${length} UTF-8 bytes, the 1-byte length field allows ${MAX_ROUTE_BYTES}`,
    );
  }
  return length;
}

export interface MessageEncodeOptions {
  /** Routes found here travel as 2-byte codes. Pass only a dictionary the peer was sent in the handshake. */
  dict?: RouteDict;
}

/** Encodes `message` into a fresh buffer, leaving `reserve` bytes in front of it for a package header. */
function encodeAfter(reserve: number, message: PomeloMessage, options?: MessageEncodeOptions): Uint8Array {
  const hasId = message.type === 'request' || message.type === 'response';
  if (hasId) checkId(message.id);
  let code: number | undefined;
  let routeBytes = 0;
  if (message.type !== 'response') {
    code = options?.dict?.code(message.route);
    if (code === undefined) routeBytes = routeLength(message.route);
  }
  const idBytes = hasId ? varintLength(message.id) : 0;
  const routeField = message.type === 'response' ? 0 : code !== undefined ? 2 : 1 + routeBytes;
  const out = new Uint8Array(reserve + 1 + idBytes + routeField + message.body.length);
  let offset = reserve;
  out[offset++] = (MessageType[message.type] << 1) | (code !== undefined ? FLAG_COMPRESS_ROUTE : 0);
  if (hasId) offset = writeVarint(out, offset, message.id);
  if (code !== undefined) {
    out[offset++] = code >>> 8;
    out[offset++] = code & 0xff;
  } else if (message.type !== 'response') {
    out[offset++] = routeBytes;
    offset = writeUtf8(out, offset, message.route);
  }
  out.set(message.body, offset);
  return out;
}

export function encodeMessage(message: PomeloMessage, options?: MessageEncodeOptions): Uint8Array {
  return encodeAfter(0, message, options);
}

/** `encodePackage('data', encodeMessage(...))` in one allocation and one copy of the body. */
export function encodeDataPackage(message: PomeloMessage, options?: MessageEncodeOptions): Uint8Array {
  const out = encodeAfter(HEADER_BYTES, message, options);
  writeHeader(out, 0, 'data', out.length - HEADER_BYTES);
  return out;
}

/**
 * Decodes one message. `dict` resolves compressed routes; without it, or for a code it lacks, that is an
 * UNKNOWN_ROUTE_CODE error. The body is a view into `bytes`.
 */
export function decodeMessage(bytes: Uint8Array, dict?: RouteDict): DecodedMessage {
  if (bytes.length === 0) throw new PomeloProtocolError(PomeloErrorCode.BadMessage, 'empty message');
  const flag = bytes[0]!;
  if (flag & FLAG_GZIP) {
    throw new PomeloProtocolError(PomeloErrorCode.BadMessage, 'gzip-compressed bodies are not supported');
  }
  if (flag & FLAG_RESERVED) {
    throw new PomeloProtocolError(PomeloErrorCode.BadMessage, `reserved flag bits set: 0x${flag.toString(16)}`);
  }
  const type = TYPE_NAMES[(flag >> 1) & 0x07];
  if (type === undefined) {
    throw new PomeloProtocolError(PomeloErrorCode.BadMessage, `unknown message type ${(flag >> 1) & 0x07}`);
  }
  let offset = 1;
  let id = 0;
  if (type === 'request' || type === 'response') {
    ({ id, next: offset } = readVarint(bytes, offset));
  }
  if (type === 'response') {
    // Some encoders set the compress bit on responses too; with no route it means nothing, so it is ignored.
    return { type, id, body: byteView(bytes, offset, bytes.length), routeCompressed: false };
  }
  let route: string;
  const routeCompressed = (flag & FLAG_COMPRESS_ROUTE) !== 0;
  if (routeCompressed) {
    if (offset + 2 > bytes.length) {
      throw new PomeloProtocolError(PomeloErrorCode.BadMessage, 'message ends inside its route code');
    }
    const code = (bytes[offset]! << 8) | bytes[offset + 1]!;
    offset += 2;
    const found = dict?.route(code);
    if (found === undefined) {
      throw new PomeloProtocolError(PomeloErrorCode.UnknownRouteCode, `route code ${code} is not in the dictionary`);
    }
    route = found;
  } else {
    if (offset >= bytes.length) {
      throw new PomeloProtocolError(PomeloErrorCode.BadMessage, 'message ends before its route length');
    }
    const length = bytes[offset++]!;
    if (offset + length > bytes.length) {
      throw new PomeloProtocolError(PomeloErrorCode.BadMessage, `route of ${length} bytes runs past the message`);
    }
    route = decodeRoute(bytes, offset, offset + length);
    offset += length;
  }
  const body = byteView(bytes, offset, bytes.length);
  return type === 'request'
    ? { type, id, route, body, routeCompressed }
    : { type, route, body, routeCompressed };
}

/** Routes are nearly always ASCII; building those by hand skips TextDecoder's call overhead. */
function decodeRoute(bytes: Uint8Array, start: number, end: number): string {
  let route = '';
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    if (b >= 0x80) return decodeUtf8(bytes.subarray(start, end), PomeloErrorCode.BadRoute);
    route += String.fromCharCode(b);
  }
  return route;
}

/**
 * JSON body for the wire. Characters outside the BMP are written as `\uD83D\uDE00` escapes, so the output holds no
 * 4-byte UTF-8: the browser build of pomelo-protocol decodes UTF-8 by hand and only understands up to 3 bytes.
 */
export function encodeJsonBody(value: unknown): Uint8Array {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw new PomeloProtocolError(PomeloErrorCode.BadBody, 'body cannot be serialised as JSON', { cause });
  }
  if (text === undefined) throw new PomeloProtocolError(PomeloErrorCode.BadBody, 'body has no JSON form');
  if (ASTRAL.test(text)) text = text.replace(ASTRAL_ALL, escapePair);
  // Buffer.from rather than TextEncoder: about 4x faster for chat-sized strings on Node 20.
  return Buffer.from(text, 'utf8');
}

/**
 * Nesting allowed in a request body: the native protocol's limit (docs/PROTOCOL.md), so a route sees the same bodies
 * from either protocol. JSON.parse itself copes with 20 000 levels, but what consumes the value after it (msgpackr on
 * the way to an actor, validators) recurses and overflowed the stack: INTERNAL, caught by luck.
 */
export const JSON_MAX_DEPTH = Limits.bodyDepth;

/**
 * Parses a JSON body; an empty body (a notify with nothing to say) is `undefined`. A body nested deeper than
 * `maxDepth` arrays/objects is BAD_BODY naming the limit, found by a scan of the bytes (no recursion) before parsing.
 */
export function decodeJsonBody(body: Uint8Array, maxDepth = JSON_MAX_DEPTH): unknown {
  if (body.length === 0) return undefined;
  const depth = jsonDepthOver(body, maxDepth);
  if (depth !== undefined) {
    throw new PomeloProtocolError(PomeloErrorCode.BadBody, `body nested deeper than ${maxDepth} levels (byte ${depth})`);
  }
  const text = decodeUtf8(body, PomeloErrorCode.BadBody);
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new PomeloProtocolError(PomeloErrorCode.BadBody, 'body is not valid JSON', { cause });
  }
}

/**
 * The offset of the first `[` or `{` that opens level `maxDepth + 1`, or undefined. Brackets inside strings do not
 * count; UTF-8 continuation bytes are never a quote or a backslash, so scanning bytes is exact. Malformed JSON is left to
 * JSON.parse.
 */
function jsonDepthOver(bytes: Uint8Array, maxDepth: number): number | undefined {
  let level = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === 0x5c) i++; // backslash: the next byte is escaped
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x5b || b === 0x7b) {
      if (++level > maxDepth) return i;
    } else if (b === 0x5d || b === 0x7d) level--;
  }
  return undefined;
}

const ASTRAL = /[\uD800-\uDBFF][\uDC00-\uDFFF]/;
const ASTRAL_ALL = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;
const escapePair = (pair: string): string =>
  `\\u${pair.charCodeAt(0).toString(16)}\\u${pair.charCodeAt(1).toString(16)}`;

/**
 * UTF-8 that also accepts CESU-8: the browser build of pomelo-protocol encodes each half of a surrogate pair as its
 * own 3-byte sequence, so an emoji from a browser client is invalid UTF-8. Real Pomelo servers turn it into U+FFFD;
 * we keep it. Anything else malformed is an error with `code`.
 */
export function decodeUtf8(bytes: Uint8Array, code: PomeloErrorCode = PomeloErrorCode.BadBody): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return decodeCesu8(bytes, code);
  }
}

function decodeCesu8(bytes: Uint8Array, code: PomeloErrorCode): string {
  const units: number[] = [];
  const bad = (at: number) => new PomeloProtocolError(code, `invalid UTF-8 at byte ${at}`);
  const cont = (at: number): number => {
    const b = bytes[at];
    if (b === undefined || (b & 0xc0) !== 0x80) throw bad(at);
    return b & 0x3f;
  };
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    if (b < 0x80) {
      units.push(b);
      i += 1;
    } else if (b >= 0xc2 && b <= 0xdf) {
      units.push(((b & 0x1f) << 6) | cont(i + 1));
      i += 2;
    } else if (b >= 0xe0 && b <= 0xef) {
      const u = ((b & 0x0f) << 12) | (cont(i + 1) << 6) | cont(i + 2);
      if (u < 0x800) throw bad(i); // overlong; surrogates (ED A0..BF) are the point of this decoder and pass
      units.push(u);
      i += 3;
    } else if (b >= 0xf0 && b <= 0xf4) {
      const cp = ((b & 0x07) << 18) | (cont(i + 1) << 12) | (cont(i + 2) << 6) | cont(i + 3);
      if (cp < 0x1_0000 || cp > 0x10_ffff) throw bad(i);
      // The low half is cp's low 10 bits: subtracting 0x1_0000 (a multiple of 0x400) first would not change them.
      units.push(0xd800 + ((cp - 0x1_0000) >> 10), 0xdc00 + (cp & 0x3ff));
      i += 4;
    } else {
      throw bad(i);
    }
  }
  let out = '';
  for (let i = 0; i < units.length; i += 8192) out += String.fromCharCode(...units.slice(i, i + 8192));
  return out;
}
