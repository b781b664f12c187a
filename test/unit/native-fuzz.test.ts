/**
 * Properties of the native codec and TCP framing under arbitrary input: nothing but ProtocolError ever escapes,
 * whatever decodes re-encodes, valid frames round-trip, and chunking never changes what a stream decodes to.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CLOSE_CODE_MAX,
  CLOSE_CODE_MIN,
  ProtocolError,
  ROUTE_RE,
  createTcpFrameDecoder,
  decodeFrame,
  encodeFrame,
  encodeTcp,
  type Frame,
} from '../../protocol/native/index.js';

const RUNS = { numRuns: 1000 };

function protocolErrorsOnly<T>(fn: () => T): T | ProtocolError {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ProtocolError) return err;
    throw err;
  }
}

// Valid field values.
const id = fc.oneof(fc.nat(300), fc.integer({ min: 0, max: 0xffff_ffff }));
const route = fc.stringMatching(ROUTE_RE, { maxLength: 128 }).filter((r) => r.length > 0 && r.length <= 128);
const visible = (max: number) => fc.stringMatching(/^[\x21-\x7e]+$/, { maxLength: max }).filter((s) => s.length <= max);
const code = fc.stringMatching(/^[A-Z][A-Z0-9_]*$/, { maxLength: 64 }).filter((s) => s.length <= 64);
const text = fc.string({ maxLength: 200, unit: 'binary' });
// JSON-like data plus bytes; no -0 (MessagePack writes it as integer 0) and no __proto__ keys (renamed on decode).
const body: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double({ noDefaultInfinity: true, noNaN: true }).filter((d) => !Object.is(d, -0)),
    text,
    fc.uint8Array({ maxLength: 16 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__'), tie('value'), { maxKeys: 4 }),
  ),
})).value;

const frame: fc.Arbitrary<Frame> = fc.oneof(
  fc.record(
    {
      type: fc.constant('hello' as const),
      v: fc.integer({ min: 1, max: 0xffff }),
      ticket: visible(512),
      client: visible(128),
    },
    { requiredKeys: ['type', 'v'] },
  ),
  fc.record({
    type: fc.constant('welcome' as const),
    v: fc.integer({ min: 1, max: 0xffff }),
    session: visible(128),
    ticket: visible(512),
    heartbeatMs: fc.integer({ min: 1, max: 0x7fff_ffff }),
    maxFrameBytes: fc.integer({ min: 1024, max: 0x7fff_ffff }),
    resumed: fc.boolean(),
  }),
  fc.record({ type: fc.constant('req' as const), id, route, body }),
  fc.record({ type: fc.constant('notify' as const), route, body }),
  fc.record({ type: fc.constant('res' as const), id, body }),
  fc.record({ type: fc.constant('res' as const), id, error: fc.record({ code, message: text }) }),
  fc.record({ type: fc.constant('push' as const), route, body }),
  fc.constant({ type: 'ping' as const }),
  fc.constant({ type: 'pong' as const }),
  fc.record({
    type: fc.constant('close' as const),
    code: fc.integer({ min: CLOSE_CODE_MIN, max: CLOSE_CODE_MAX }),
    reason: fc.string({ maxLength: 30 }),
  }),
  fc.record(
    { type: fc.constant('error' as const), code, message: text, id },
    { requiredKeys: ['type', 'code', 'message'] },
  ),
);

/** Byte damage: flip a bit, overwrite, truncate or insert at some position. */
const damaged = fc
  .tuple(frame, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'set', 'cut', 'insert'))
  .map(([f, at, value, how]) => {
    const out = Array.from(encodeFrame(f));
    const i = at % out.length;
    if (how === 'flip') out[i] = out[i]! ^ (1 << (value % 8));
    if (how === 'set') out[i] = value;
    if (how === 'cut') out.length = i;
    if (how === 'insert') out.splice(i, 0, value);
    return Uint8Array.from(out);
  });

/** Bin bodies come back as Buffer; compare them as plain bytes. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return { bytes: [...v] };
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

describe('native codec properties', () => {
  it('valid frames round-trip', () => {
    fc.assert(
      fc.property(frame, (f) => {
        expect(plain(decodeFrame(encodeFrame(f), { maxFrameBytes: 1 << 20 }))).toStrictEqual(plain(f));
      }),
      RUNS,
    );
  });

  const anything = (bytes: Uint8Array) => {
    const r = protocolErrorsOnly(() => decodeFrame(bytes));
    // Whatever is accepted must be something we could have sent: the decoder is no looser than the encoder.
    if (!(r instanceof ProtocolError)) expect(plain(decodeFrame(encodeFrame(r)))).toStrictEqual(plain(r));
    // Refused with the right code: too large exactly when over the limit (these inputs never are), else BAD_FRAME -
    // the code the gateway sends in its error frame and maps to its close code (4001).
    else expect(r.code).toBe('BAD_FRAME');
  };

  it('refuses a frame over the limit with FRAME_TOO_LARGE, whatever it holds, and one at the limit by content only', () => {
    fc.assert(
      fc.property(frame, fc.integer({ min: 1, max: 8 }), (f, over) => {
        const bytes = encodeFrame(f, { maxFrameBytes: 1 << 20 });
        const err = protocolErrorsOnly(() => decodeFrame(bytes, { maxFrameBytes: bytes.length - over }));
        expect(err).toBeInstanceOf(ProtocolError);
        expect((err as ProtocolError).code).toBe('FRAME_TOO_LARGE');
        expect(plain(decodeFrame(bytes, { maxFrameBytes: bytes.length }))).toStrictEqual(plain(f));
      }),
      RUNS,
    );
  });

  it('random bytes give a frame or a ProtocolError, nothing else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), anything), RUNS);
  });

  it('random bytes behind a plausible header give a frame or a ProtocolError', () => {
    const headed = fc
      .tuple(fc.integer({ min: 0x91, max: 0x97 }), fc.integer({ min: 0, max: 12 }), fc.uint8Array({ maxLength: 60 }))
      .map(([a, tag, rest]) => Uint8Array.from([a, tag, ...rest]));
    fc.assert(fc.property(headed, anything), RUNS);
  });

  it('damaged valid frames give a frame or a ProtocolError', () => {
    fc.assert(fc.property(damaged, anything), { numRuns: 3000 });
  });
});

describe('TCP framing properties', () => {
  /** Splits bytes at the given points. */
  function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
    const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    const out: Uint8Array[] = [];
    let from = 0;
    for (const p of [...points, bytes.length]) {
      out.push(bytes.subarray(from, p));
      from = p;
    }
    return out;
  }

  it('any chunking of a valid stream yields the same frames', () => {
    fc.assert(
      fc.property(fc.array(frame, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 20 }), (fs, at) => {
        const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
        const encoded = fs.map((f) => encodeFrame(f, { maxFrameBytes: 1 << 20 }));
        const stream = new Uint8Array(Buffer.concat(encoded.map(encodeTcp)));
        const d = createTcpFrameDecoder({ maxFrameBytes: 1 << 20 });
        const got = split(stream, at).flatMap((c) => d.push(c));
        expect(got.map(hex)).toEqual(encoded.map(hex));
        expect(d.buffered).toBe(0);
      }),
      RUNS,
    );
  });

  it('random chunks give frames or a ProtocolError, and never buffer more than one frame', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 10 }), (chunks) => {
        const d = createTcpFrameDecoder({ maxFrameBytes: 1024 });
        for (const c of chunks) {
          const r = protocolErrorsOnly(() => d.push(c));
          if (r instanceof ProtocolError) break;
          for (const f of r) protocolErrorsOnly(() => decodeFrame(f));
          expect(d.buffered).toBeLessThanOrEqual(4 + 1024);
        }
      }),
      RUNS,
    );
  });
});
