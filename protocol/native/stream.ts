/**
 * TCP framing for the native protocol: each frame is preceded by its length as a 4-byte big-endian unsigned integer
 * (the prefix does not count itself). Pure and incremental: feed whatever chunks the socket yields and get back the
 * complete frames. Memory stays bounded by one frame: a declared length over the limit is rejected from the prefix
 * alone, before any of its bytes are buffered.
 */
import { ClientErrorCode } from '../error-codes.js';
import { ProtocolError, type FrameLimits } from './codec.js';
import { DEFAULT_MAX_FRAME_BYTES } from './frames.js';

export const TCP_PREFIX_BYTES = 4;

export interface TcpFrameDecoder {
  /**
   * Returns the frames completed by this chunk, in order (often none, often several). A frame that arrived whole
   * inside one chunk is a view of that chunk, not a copy: don't reuse a chunk's memory after pushing it. Throws
   * ProtocolError (FRAME_TOO_LARGE, or BAD_FRAME for a zero length), dropping frames completed earlier in the same
   * chunk: the connection is closing for the error anyway. After that the stream has no frame boundary left to
   * trust, so every later push throws the same error.
   */
  push(chunk: Uint8Array): Uint8Array[];
  /** Bytes held for a frame not yet complete (prefix bytes included). */
  readonly buffered: number;
}

export function createTcpFrameDecoder(limits?: FrameLimits): TcpFrameDecoder {
  const max = limits?.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const prefix = new Uint8Array(TCP_PREFIX_BYTES);
  let prefixFill = 0;
  let frame: Uint8Array | undefined; // the frame being assembled across chunks
  let frameFill = 0;
  let failed: ProtocolError | undefined;

  function frameLength(b: Uint8Array, at: number): number {
    // `>>> 0` keeps the top byte's bit as magnitude rather than sign.
    const len = ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
    if (len === 0) failed = new ProtocolError(ClientErrorCode.BadFrame, 'zero-length frame');
    else if (len > max) {
      failed = new ProtocolError(ClientErrorCode.FrameTooLarge, `declared frame length ${len} exceeds ${max}`);
    }
    if (failed) throw failed;
    return len;
  }

  return {
    get buffered() {
      return frame ? TCP_PREFIX_BYTES + frameFill : prefixFill;
    },
    push(chunk) {
      if (failed) throw failed;
      if (!(chunk instanceof Uint8Array)) throw new ProtocolError(ClientErrorCode.BadFrame, 'TCP chunk must be bytes');
      const out: Uint8Array[] = [];
      let at = 0;
      const end = chunk.length;
      while (at < end) {
        if (frame) {
          const n = Math.min(frame.length - frameFill, end - at);
          frame.set(chunk.subarray(at, at + n), frameFill);
          frameFill += n;
          at += n;
          if (frameFill === frame.length) {
            out.push(frame);
            frame = undefined;
          }
          continue;
        }
        let len: number;
        if (prefixFill === 0 && end - at >= TCP_PREFIX_BYTES) {
          len = frameLength(chunk, at);
          at += TCP_PREFIX_BYTES;
        } else {
          const n = Math.min(TCP_PREFIX_BYTES - prefixFill, end - at);
          prefix.set(chunk.subarray(at, at + n), prefixFill);
          prefixFill += n;
          at += n;
          if (prefixFill < TCP_PREFIX_BYTES) break;
          prefixFill = 0;
          len = frameLength(prefix, 0);
        }
        if (end - at >= len) {
          // Fast path: the whole frame is in this chunk, so hand out a view instead of copying.
          out.push(chunk.subarray(at, at + len));
          at += len;
        } else {
          frame = new Uint8Array(len);
          frameFill = 0;
        }
      }
      return out;
    },
  };
}

/** Prefixes one encoded frame for TCP. */
export function encodeTcp(frameBytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(TCP_PREFIX_BYTES + frameBytes.length);
  const len = frameBytes.length;
  out[0] = len >>> 24;
  out[1] = (len >>> 16) & 0xff;
  out[2] = (len >>> 8) & 0xff;
  out[3] = len & 0xff;
  out.set(frameBytes, TCP_PREFIX_BYTES);
  return out;
}
