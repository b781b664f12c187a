import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import {
  createPackageStreamDecoder,
  createPomeloConnectionRules,
  createRouteDict,
  decodeJsonBody,
  decodeMessage,
  decodePackages,
  decodeUtf8,
  encodeJsonBody,
  encodeDataPackage,
  encodeMessage,
  encodePackage,
  encodePackages,
  PackageType,
  parseHandshakeRequest,
  parseHandshakeResponse,
  parseKick,
  PomeloProtocolError,
  type PackageTypeName,
  type PomeloMessage,
  type PomeloPackage,
} from '../../protocol/pomelo/index.js';
import { utf8Length, writeUtf8 } from '../../protocol/utf8.js';

const RUNS = { numRuns: 500 };
const dict = createRouteDict(['chat.chatHandler.send', 'onChat', 'onAdd', 'onLeave', '聊天']);

/** Runs `fn`; anything thrown must be our typed protocol error. */
function onlyProtocolErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof PomeloProtocolError)) throw e;
  }
}

const anyBytes = fc.uint8Array({ maxLength: 300 });
const packageType = fc.constantFrom(...(Object.keys(PackageType) as PackageTypeName[]));
const pkg: fc.Arbitrary<PomeloPackage> = fc.record({ type: packageType, body: fc.uint8Array({ maxLength: 64 }) });
// Routes of any UTF-8 length the 1-byte field allows, including dictionary routes so compression gets exercised.
const route = fc.oneof(fc.constantFrom(...Object.keys(dict.routeToCode())), fc.string({ maxLength: 60, unit: 'binary' }));
const id = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 0xffff_ffff }));
const body = fc.uint8Array({ maxLength: 64 });
const message: fc.Arbitrary<PomeloMessage> = fc.oneof(
  fc.record({ type: fc.constant('request' as const), id, route, body }),
  fc.record({ type: fc.constant('notify' as const), route, body }),
  fc.record({ type: fc.constant('response' as const), id, body }),
  fc.record({ type: fc.constant('push' as const), route, body }),
);

/** Byte-level damage: flip, overwrite, truncate, insert. */
const mutated = (valid: fc.Arbitrary<Uint8Array>) =>
  fc.tuple(valid, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'set', 'cut', 'insert')).map(
    ([bytes, at, value, how]) => {
      const i = bytes.length === 0 ? 0 : at % bytes.length;
      const out = Array.from(bytes);
      if (how === 'flip' && out.length) out[i] = out[i]! ^ (1 << value % 8);
      if (how === 'set' && out.length) out[i] = value;
      if (how === 'cut') out.length = i;
      if (how === 'insert') out.splice(i, 0, value);
      return Uint8Array.from(out);
    },
  );

/** Splits `bytes` at the given points (sorted, clamped), for feeding a stream decoder. */
function chunks(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  return out;
}

/** What the browser build of pomelo-protocol writes: every UTF-16 unit as 1-3 bytes (CESU-8). */
function cesu8(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return Uint8Array.from(out);
}

describe('decoders on hostile input throw only PomeloProtocolError', () => {
  it('random bytes', () => {
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        onlyProtocolErrors(() => decodePackages(bytes, { maxBodyLength: 100 }));
        onlyProtocolErrors(() => decodeMessage(bytes, dict));
        onlyProtocolErrors(() => decodeMessage(bytes));
        onlyProtocolErrors(() => decodeJsonBody(bytes));
        onlyProtocolErrors(() => parseHandshakeRequest(bytes));
        onlyProtocolErrors(() => parseKick(bytes));
        onlyProtocolErrors(() => parseHandshakeResponse(bytes));
      }),
      RUNS,
    );
  });

  it('mutated valid packages and messages', () => {
    const validPackages = fc.array(pkg, { maxLength: 5 }).map((list) => encodePackages(list));
    const validMessages = message.map((m) => encodeMessage(m, { dict }));
    fc.assert(
      fc.property(mutated(validPackages), mutated(validMessages), (p, m) => {
        onlyProtocolErrors(() => {
          // Oracle: the package framing has one encoding, so what is accepted is exactly what was sent - a damaged
          // input is either refused or read as the packages its bytes spell, never as something else.
          const got = decodePackages(p);
          expect(encodePackages(got)).toEqual(p);
        });
        onlyProtocolErrors(() => decodeMessage(m, dict));
      }),
      RUNS,
    );
  });

  it('stream decoder fed random chunks: typed errors only, and it stays failed after one', () => {
    fc.assert(
      fc.property(fc.array(anyBytes, { maxLength: 6 }), (reads) => {
        const d = createPackageStreamDecoder({ maxBodyLength: 200 });
        let failed: unknown;
        for (const r of reads) {
          try {
            d.push(r);
            expect(failed).toBeUndefined();
          } catch (e) {
            expect(e).toBeInstanceOf(PomeloProtocolError);
            if (failed) expect(e).toBe(failed);
            failed = e;
          }
        }
        expect(d.buffered).toBeLessThanOrEqual(204);
      }),
      RUNS,
    );
  });

  it('the connection rules never throw, whatever arrives, and stay closed once closing', () => {
    const step = fc.oneof(
      pkg.map((p) => ({ kind: 'receive' as const, p })),
      mutated(message.map((m) => encodeMessage(m, { dict }))).map((b) => ({ kind: 'receive' as const, p: { type: 'data' as const, body: b } })),
      fc.constant({ kind: 'receive' as const, p: { type: 'handshake' as const, body: new TextEncoder().encode('{"sys":{}}') } }),
      fc.constant({ kind: 'receive' as const, p: { type: 'handshake-ack' as const, body: new Uint8Array(0) } }),
      fc.integer({ min: 0, max: 8000 }).map((ms) => ({ kind: 'wait' as const, ms })),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 20 }), (steps) => {
        const clock = new ManualClock();
        const s = createPomeloConnectionRules(clock.now(), { heartbeatSeconds: 3, dict, handshakeTimeoutMs: 5000 });
        for (const st of steps) {
          const wasClosed = s.state === 'closing';
          if (st.kind === 'wait') clock.advance(st.ms);
          const actions = st.kind === 'wait' ? s.tick(clock.now()) : s.receive(st.p, clock.now());
          // Once closing, only the close linger acts: it destroys the transport.
          if (wasClosed) expect(actions.filter((a) => a.type !== 'destroy')).toEqual([]);
          const closeAt = actions.findIndex((a) => a.type === 'close');
          if (closeAt >= 0) {
            expect(closeAt).toBe(actions.length - 1);
            expect(s.state).toBe('closing');
          }
        }
      }),
      RUNS,
    );
  });
});

describe('round trips', () => {
  it('messages, with and without the dictionary', () => {
    fc.assert(
      fc.property(message, fc.boolean(), (m, useDict) => {
        const options = useDict ? { dict } : {};
        const decoded = decodeMessage(encodeMessage(m, options), useDict ? dict : undefined);
        const compressed = useDict && m.type !== 'response' && dict.code(m.route) !== undefined;
        expect(decoded).toEqual({ ...m, routeCompressed: compressed });
      }),
      RUNS,
    );
  });

  it('a data package built in one step equals package(message)', () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(encodeDataPackage(m, { dict })).toEqual(encodePackage('data', encodeMessage(m, { dict })));
      }),
      RUNS,
    );
  });

  it('the hand-written UTF-8 route encoder matches TextEncoder, lone surrogates included', () => {
    const units = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 });
    fc.assert(
      fc.property(fc.oneof(units, fc.string({ unit: 'binary', maxLength: 40 })), (s) => {
        const expected = new TextEncoder().encode(s);
        const out = new Uint8Array(utf8Length(s));
        expect(writeUtf8(out, 0, s)).toBe(expected.length);
        expect(out).toEqual(expected);
      }),
      RUNS,
    );
  });

  it('packages, whole and through the stream decoder cut at random points', () => {
    fc.assert(
      fc.property(fc.array(pkg, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (list, cuts) => {
        const wire = encodePackages(list);
        expect(decodePackages(wire)).toEqual(list);
        const d = createPackageStreamDecoder();
        expect(chunks(wire, cuts).flatMap((c) => d.push(c))).toEqual(list);
        expect(d.idle).toBe(true);
      }),
      RUNS,
    );
  });

  it('JSON bodies, including astral characters and lone surrogates', () => {
    const text = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) });
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), text, fc.dictionary(text, text)), (value) => {
        const wire = encodeJsonBody(value);
        expect(wire.some((b) => b >= 0xf0)).toBe(false); // no 4-byte UTF-8 for browser clients
        expect(decodeJsonBody(wire)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      RUNS,
    );
  });

  it('text written as CESU-8 by browser clients reads back unchanged', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
        expect(decodeUtf8(cesu8(s))).toBe(s);
        expect(decodeUtf8(new TextEncoder().encode(s))).toBe(s);
      }),
      RUNS,
    );
  });
});
