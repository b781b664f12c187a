/**
 * The wire codec: MessagePack via msgpackr, as plain maps (no msgpackr records) so any MessagePack library can read
 * it. decode() throws only DecodeError, whatever the bytes (fuzzed in test/unit/codec.test.ts); toJson() gives a
 * readable view of any payload for `tail`, traces and logs.
 */
import { C1, Packr, Unpackr } from 'msgpackr';
import { DecodeError, GatehouseError, ErrorCode } from '../common/errors.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

export function encode(value: unknown): Uint8Array {
  try {
    return packr.pack(value);
  } catch (err) {
    throw new GatehouseError(ErrorCode.Encode, `cannot encode value: ${(err as Error).message}`, { cause: err });
  }
}

export function decode<T = unknown>(bytes: Uint8Array): T {
  if (!(bytes instanceof Uint8Array)) throw new DecodeError('expected bytes');
  if (bytes.length === 0) throw new DecodeError('empty payload');
  let value: unknown;
  try {
    value = unpackr.unpack(bytes);
  } catch (err) {
    throw new DecodeError(`malformed MessagePack (${bytes.length} bytes): ${(err as Error)?.message ?? err}`, {
      cause: err,
    });
  }
  // msgpackr reads the never-used byte 0xC1 as a marker object instead of failing; a payload holding one is malformed.
  // 0xC1 is not valid UTF-8 either, so it appears in a well-formed payload only inside numbers or binary: the walk
  // runs only then.
  if (bytes.indexOf(0xc1) !== -1 && holdsC1(value)) throw new DecodeError('malformed MessagePack: the never-used byte 0xC1');
  return value as T;
}

/** Whether the marker msgpackr returns for 0xC1 is anywhere in `value` (iterative: depth is the sender's choice). */
function holdsC1(value: unknown): boolean {
  const todo: unknown[] = [value];
  while (todo.length > 0) {
    const v = todo.pop();
    if (v === C1) return true;
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array) continue;
    if (Array.isArray(v)) for (const x of v) todo.push(x);
    else if (v instanceof Map) for (const [k, x] of v) todo.push(k, x);
    else for (const k of Object.keys(v)) todo.push((v as Record<string, unknown>)[k]);
  }
  return false;
}

/** A JSON-safe copy: bytes as {"$bytes": base64}, Maps as objects, bigints as strings. */
export function toJsonValue(v: unknown, depth = 0): unknown {
  if (depth > 64) return '[too deep]';
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'bigint') return v.toString();
  if (v === undefined) return null;
  if (v instanceof Uint8Array) return { $bytes: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map((x) => toJsonValue(x, depth + 1));
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v) o[String(k)] = toJsonValue(x, depth + 1);
    return o;
  }
  if (typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v as object)) o[k] = toJsonValue((v as Record<string, unknown>)[k], depth + 1);
    return o;
  }
  return String(v);
}

/** Readable form of any payload: decoded MessagePack when it is, else the bytes as text or base64. */
export function toJson(bytes: Uint8Array): unknown {
  if (bytes.length === 0) return null;
  try {
    return toJsonValue(decode(bytes));
  } catch {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    // Printable UTF-8 (e.g. a raw `nats pub` payload) is shown as text; anything else as base64.
    if (!text.includes('\uFFFD') && !/[\u0000-\u0008\u000e-\u001f]/.test(text)) return { $text: text };
    return { $undecodable: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') };
  }
}
