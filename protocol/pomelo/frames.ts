/**
 * Pomelo's frame layer, which Pomelo calls packages: the outer framing every Pomelo/Pinus client speaks over TCP and
 * WebSocket (native/frames.ts is its counterpart).
 *
 *   +------+--------------------------+------------------+
 *   | type | body length (24-bit, BE) |       body       |
 *   +------+--------------------------+------------------+
 *
 * One WebSocket message or TCP read may hold several packages back to back (Pomelo's `sendBatch` does exactly that),
 * so decoding always yields a list. For TCP, where packages split across reads, see `stream.ts`.
 */
import { GatehouseError } from '../../common/errors.js';

export const PomeloErrorCode = {
  BadPackage: 'BAD_PACKAGE',
  PackageTooLarge: 'PACKAGE_TOO_LARGE',
  BadMessage: 'BAD_MESSAGE',
  BadBody: 'BAD_BODY',
  BadRoute: 'BAD_ROUTE',
  UnknownRouteCode: 'UNKNOWN_ROUTE_CODE',
  BadHandshake: 'BAD_HANDSHAKE',
  UnexpectedPackage: 'UNEXPECTED_PACKAGE',
  HandshakeTimeout: 'HANDSHAKE_TIMEOUT',
  HeartbeatTimeout: 'HEARTBEAT_TIMEOUT',
} as const;
export type PomeloErrorCode = (typeof PomeloErrorCode)[keyof typeof PomeloErrorCode];

/** Every failure of the Pomelo codec is one of these: bad client bytes never surface as a TypeError or RangeError. */
export class PomeloProtocolError extends GatehouseError {
  declare readonly code: PomeloErrorCode;
  constructor(code: PomeloErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'PomeloProtocolError';
  }
}

/** Wire codes of the package types. */
export const PackageType = {
  handshake: 1,
  'handshake-ack': 2,
  heartbeat: 3,
  data: 4,
  kick: 5,
} as const;
export type PackageTypeName = keyof typeof PackageType;

const PACKAGE_NAMES: readonly (PackageTypeName | undefined)[] = [
  undefined,
  'handshake',
  'handshake-ack',
  'heartbeat',
  'data',
  'kick',
];

export interface PomeloPackage {
  type: PackageTypeName;
  /** May be a view into the decoded input: callers must not mutate the input buffer afterwards. */
  body: Uint8Array;
}

export const HEADER_BYTES = 4;
/** The largest body the 3-byte length field can describe. */
export const MAX_BODY_LENGTH = 0xff_ffff;

export interface PackageDecodeOptions {
  /** Packages declaring a longer body are refused before any of it is buffered. Default and ceiling: 16 MiB − 1. */
  maxBodyLength?: number;
}

const EMPTY = new Uint8Array(0);

/**
 * A zero-copy view of `bytes[start, end)` that is a plain Uint8Array even when `bytes` is a Node Buffer, so decoded
 * bodies have one type (and compare equal in tests) whatever the transport handed us.
 */
export function byteView(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start);
}

export function packageTypeName(code: number): PackageTypeName {
  const name = PACKAGE_NAMES[code];
  if (name === undefined) {
    throw new PomeloProtocolError(PomeloErrorCode.BadPackage, `unknown package type ${code}`);
  }
  return name;
}

/** Writes the 4-byte header for a body of `length` bytes into `out` at `offset`. */
export function writeHeader(out: Uint8Array, offset: number, type: PackageTypeName, length: number): void {
  if (!Number.isInteger(length) || length < 0 || length > MAX_BODY_LENGTH) {
    throw new PomeloProtocolError(
      PomeloErrorCode.PackageTooLarge,
      `package body of ${length} bytes exceeds the 24-bit length field`,
    );
  }
  out[offset] = PackageType[type];
  out[offset + 1] = (length >>> 16) & 0xff;
  out[offset + 2] = (length >>> 8) & 0xff;
  out[offset + 3] = length & 0xff;
}

export function encodePackage(type: PackageTypeName, body: Uint8Array = EMPTY): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + body.length);
  writeHeader(out, 0, type, body.length);
  out.set(body, HEADER_BYTES);
  return out;
}

/** Several packages in one buffer: one WebSocket frame or one socket write instead of many. */
export function encodePackages(packages: readonly PomeloPackage[]): Uint8Array {
  let total = 0;
  for (const p of packages) total += HEADER_BYTES + p.body.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of packages) {
    writeHeader(out, offset, p.type, p.body.length);
    out.set(p.body, offset + HEADER_BYTES);
    offset += HEADER_BYTES + p.body.length;
  }
  return out;
}

export function resolveMaxBodyLength(options?: PackageDecodeOptions): number {
  const max = options?.maxBodyLength ?? MAX_BODY_LENGTH;
  if (!Number.isInteger(max) || max < 0) {
    throw new RangeError(`maxBodyLength must be a non-negative integer, got ${max}`);
  }
  return Math.min(max, MAX_BODY_LENGTH);
}

/** Reads and checks a header; shared with the stream decoder so both enforce the same rules. */
export function readHeader(bytes: Uint8Array, offset: number, maxBodyLength: number): { type: PackageTypeName; length: number } {
  const type = packageTypeName(bytes[offset]!);
  const length = (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
  if (length > maxBodyLength) {
    throw new PomeloProtocolError(
      PomeloErrorCode.PackageTooLarge,
      `${type} package declares ${length} body bytes, limit is ${maxBodyLength}`,
    );
  }
  return { type, length };
}

/**
 * Decodes a buffer that must hold whole packages only (a WebSocket message). A truncated tail is an error here,
 * unlike the reference decoders, which read past the end and hand back short bodies.
 */
export function decodePackages(bytes: Uint8Array, options?: PackageDecodeOptions): PomeloPackage[] {
  const max = resolveMaxBodyLength(options);
  const out: PomeloPackage[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < HEADER_BYTES) {
      throw new PomeloProtocolError(
        PomeloErrorCode.BadPackage,
        `truncated package header: ${bytes.length - offset} of ${HEADER_BYTES} bytes`,
      );
    }
    const { type, length } = readHeader(bytes, offset, max);
    const start = offset + HEADER_BYTES;
    if (start + length > bytes.length) {
      throw new PomeloProtocolError(
        PomeloErrorCode.BadPackage,
        `truncated ${type} package: ${bytes.length - start} of ${length} body bytes`,
      );
    }
    out.push({ type, body: byteView(bytes, start, start + length) });
    offset = start + length;
  }
  return out;
}
