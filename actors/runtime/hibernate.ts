/**
 * Hibernation: an actor idle for `actors.hibernateAfterMs` gives up its live XState actor and keeps only a compact
 * image (its persisted snapshot, timers and dedupe marks, as stored or handed over) until its next message restores
 * it. A live idle actor cost ~4.7 KB of heap (bench memory); the image is one MessagePack string.
 *
 * The image is the record a hand-over carries (snapshots.ts `StoredActor`), encoded with the wire codec: whatever
 * survives a migration survives hibernation, and nothing else is asked of a kind. It is kept as a one-byte (latin1)
 * string rather than bytes: a string costs its length plus a 12-byte header, a Uint8Array ~200 B of view, buffer and
 * backing-store bookkeeping on top of its contents.
 */
import { decode, encode } from '../../bus/codec.js';
import type { StoredActor } from './snapshots.js';

export type PackedRecord = string;

export function packRecord(record: StoredActor): PackedRecord {
  const bytes = encode(record);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export function unpackRecord(packed: PackedRecord): StoredActor {
  return decode<StoredActor>(Buffer.from(packed, 'latin1'));
}
