/**
 * The on-disk layout of the LMDB store. One LMDB environment per data directory with two named databases:
 *
 *   data  `<prefix>_<bucket> <key>` → [revision f64 LE][written-at ms f64 LE][value bytes]
 *   meta  `<prefix>_<bucket>`       → [last revision f64 LE]
 *
 * A space separates bucket and key because neither bucket names nor keys may contain one (bus/store.ts), so a bucket
 * is the contiguous key range [`<full> `, `<full>!`) in LMDB's byte order. The header is fixed-size binary rather than
 * MessagePack: a write copies the value once, a read takes a view.
 */
export const HEADER = 16;

export interface Rec {
  revision: number;
  writtenAt: number;
  value: Uint8Array;
}

export function dataKey(full: string, key: string): string {
  return `${full} ${key}`;
}

/** [start, end) of a bucket's keys. */
export function bucketRange(full: string): { start: string; end: string } {
  return { start: `${full} `, end: `${full}!` };
}

export function keyOf(full: string, stored: string): string {
  return stored.slice(full.length + 1);
}

export function encodeRec(revision: number, writtenAt: number, value: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(HEADER + value.length);
  b.writeDoubleLE(revision, 0);
  b.writeDoubleLE(writtenAt, 8);
  b.set(value, HEADER);
  return b;
}

/** `b` must be a buffer nobody reuses (getBinary, not getBinaryFast): the value is a view into it. */
export function decodeRec(b: Uint8Array): Rec {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    revision: dv.getFloat64(0, true),
    writtenAt: dv.getFloat64(8, true),
    value: new Uint8Array(b.buffer, b.byteOffset + HEADER, b.byteLength - HEADER),
  };
}

/** Header only: listing keys and checking revisions decode no value. */
export function peekRec(b: Uint8Array): { revision: number; writtenAt: number } {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { revision: dv.getFloat64(0, true), writtenAt: dv.getFloat64(8, true) };
}

export function encodeSeq(seq: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeDoubleLE(seq, 0);
  return b;
}

export function decodeSeq(b: Uint8Array | undefined): number {
  return b ? new DataView(b.buffer, b.byteOffset, b.byteLength).getFloat64(0, true) : 0;
}
