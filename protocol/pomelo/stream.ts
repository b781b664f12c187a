/**
 * Incremental package decoder for byte streams (TCP, TLS). Reads arrive cut anywhere: inside a header, inside a
 * body, or with several packages in one read. Feed every read to `push`; it returns the packages completed by it.
 *
 * Memory stays bounded: a header declaring more than `maxBodyLength` is refused as soon as its 4 bytes are in, and a
 * partial body is held as the received slices (no up-front allocation of the declared length, so a client that
 * announces a big body and then trickles bytes costs only what it has actually sent).
 */
import {
  byteView,
  HEADER_BYTES,
  packageTypeName,
  readHeader,
  resolveMaxBodyLength,
  type PackageDecodeOptions,
  type PackageTypeName,
  type PomeloPackage,
} from './frames.js';

export interface PackageStreamDecoder {
  /**
   * Consumes one read. Throws PomeloProtocolError on bad bytes; the decoder then stays failed (every later call
   * throws the same error), because a byte stream cannot be resynchronised after a framing error.
   * Bodies may be views into `chunk`: do not reuse the chunk's memory afterwards.
   */
  push(chunk: Uint8Array): PomeloPackage[];
  /** Bytes of an incomplete package held so far. */
  readonly buffered: number;
  /** True between packages: the stream may end here cleanly. */
  readonly idle: boolean;
}

const EMPTY = new Uint8Array(0);

export function createPackageStreamDecoder(options?: PackageDecodeOptions): PackageStreamDecoder {
  const max = resolveMaxBodyLength(options);
  const header = new Uint8Array(HEADER_BYTES);
  let headerFill = 0;
  // The package being assembled once its header is known.
  let type: PackageTypeName | undefined;
  let expected = 0;
  let parts: Uint8Array[] = [];
  let received = 0;
  let failed: unknown;

  const finish = (out: PomeloPackage[]): void => {
    let body: Uint8Array;
    if (parts.length === 1) body = parts[0]!;
    else {
      body = new Uint8Array(expected);
      let at = 0;
      for (const p of parts) {
        body.set(p, at);
        at += p.length;
      }
    }
    out.push({ type: type!, body });
    type = undefined;
    parts = [];
    received = 0;
  };

  const decode = (chunk: Uint8Array): PomeloPackage[] => {
    const out: PomeloPackage[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (type !== undefined) {
        const n = Math.min(expected - received, chunk.length - i);
        parts.push(byteView(chunk, i, i + n));
        received += n;
        i += n;
        if (received === expected) finish(out);
        continue;
      }
      let length: number;
      if (headerFill === 0 && chunk.length - i >= HEADER_BYTES) {
        // Fast path: the whole header is in this read, and usually the whole body too.
        ({ type, length } = readHeader(chunk, i, max));
        i += HEADER_BYTES;
        if (chunk.length - i >= length) {
          out.push({ type, body: length === 0 ? EMPTY : byteView(chunk, i, i + length) });
          i += length;
          type = undefined;
          continue;
        }
      } else {
        const n = Math.min(HEADER_BYTES - headerFill, chunk.length - i);
        header.set(chunk.subarray(i, i + n), headerFill);
        headerFill += n;
        i += n;
        packageTypeName(header[0]!); // refuse a bad type byte now rather than after 3 more bytes
        if (headerFill < HEADER_BYTES) break;
        headerFill = 0;
        ({ type, length } = readHeader(header, 0, max));
      }
      expected = length;
      if (length === 0) {
        out.push({ type, body: EMPTY });
        type = undefined;
      }
    }
    return out;
  };

  return {
    push(chunk) {
      if (failed !== undefined) throw failed;
      try {
        return decode(chunk);
      } catch (e) {
        failed = e;
        throw e;
      }
    },
    get buffered() {
      return headerFill + received + (type !== undefined ? HEADER_BYTES : 0);
    },
    get idle() {
      return headerFill === 0 && type === undefined;
    },
  };
}
