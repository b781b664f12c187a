/**
 * The relay payload bound, whatever its encoding. A relay is pushed to everyone standing in the layer, so its size is
 * multiplied by the audience: the cap used to apply to binary `d` only, and a 60 000-character string (1.3 MB sent)
 * became 12.7 MB delivered to 10 receivers, evicting the slow ones. The cap is on the MessagePack encoding, the form
 * the payload travels in on the bus and in the push, so a string, a binary and an object of the same size cost alike.
 */
import { encode } from '../bus/codec.js';

/** The payload's encoded size when it is at most `max` bytes, else undefined. Cheap on the hot (binary) path. */
export function relayPayloadBytes(d: unknown, max: number): number | undefined {
  // MessagePack headers: bin 8/16/32 adds 2/3/5 bytes, str 5/8/16/32 adds 1/2/3/5.
  if (d instanceof Uint8Array) return d.length + (d.length < 256 ? 2 : d.length < 65_536 ? 3 : 5) <= max ? d.length : undefined;
  // UTF-8 takes at least one byte per UTF-16 unit: a longer string is over without encoding it.
  if (typeof d === 'string' && d.length > max) return undefined;
  let n: number;
  try {
    n = encode(d).length;
  } catch {
    return undefined;
  }
  return n <= max ? n : undefined;
}
