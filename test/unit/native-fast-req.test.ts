/**
 * protocol/native/fast-req.ts reads plain `req` frames by hand; whatever it reads must be exactly what the generic
 * decoder (msgpackr + fromFields) gives for the same bytes, and whatever it does not read falls back to it, so
 * decodeFrame's answers (frames and refusals) are unchanged.
 */
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeGeneric } from '../../protocol/native/codec.js';
import { decodeReqFast } from '../../protocol/native/fast-req.js';
import { FrameTag, Limits, ProtocolError, ROUTE_RE, decodeFrame, encodeFrame } from '../../protocol/native/index.js';

const RUNS = { numRuns: 3000 };
// Raw MessagePack, not the codec's encoder: frames the codec would refuse to write are wanted too.
const raw = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true } as ConstructorParameters<typeof Packr>[0]);
const req = (id: unknown, route: unknown, body: unknown) => raw.pack([FrameTag.Req, id, route, body]);

function outcome(fn: () => unknown): unknown {
  try {
    return { ok: fn() };
  } catch (err) {
    if (err instanceof ProtocolError) return { err: err.code, message: err.message, id: err.id };
    throw err;
  }
}

const key = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('__proto__', '__proto_', '', 'constructor', '1', 'é'));
const leaf = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
  fc.constantFrom(0, -1, -32, -33, 127, 128, 255, 256, 65535, 65536, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 31) - 1, -0, 0.5, NaN, Infinity),
  fc.double(),
  fc.string({ maxLength: 300 }),
  fc.string({ maxLength: 40, unit: 'binary' }),
  fc.uint8Array({ maxLength: 8 }),
);
const body: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 6 }),
  object: fc.dictionary(key, tie('value'), { maxKeys: 6 }),
})).value;
const id = fc.oneof(fc.nat(300), fc.integer({ min: 0, max: 0xffff_ffff }), fc.constantFrom(-1, 2 ** 32, 1.5, 'x', null));
const route = fc.oneof(
  fc.stringMatching(ROUTE_RE, { maxLength: 140 }),
  fc.constantFrom('', '.a', 'a.', 'a..b', 'a b', 'é', 'x'.repeat(128), 'x'.repeat(129), 'chat.send'),
  fc.string({ maxLength: 20 }),
);

/**
 * Deep sameness, strict: Object.is for leaves (-0, NaN), same prototype, same own keys in the same order, bytes by
 * content. (vitest's toStrictEqual also compares `.constructor`, which a body may carry as an own key.)
 */
function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Uint8Array) return Buffer.compare(a, b as Uint8Array) === 0;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  if (Array.isArray(a) && (a as unknown[]).length !== (b as unknown[]).length) return false;
  return ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

const expectSame = (a: unknown, b: unknown) => expect(same(a, b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(true);

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { k: v };
  return v;
}

describe('fast req decoding', () => {
  it('reads the typical request itself (not through the generic decoder) and gets the same frame', () => {
    const bytes = Buffer.from(encodeFrame({ type: 'req', id: 7, route: 'echo', body: { pad: 'x'.repeat(40), n: [1, -2, 3.25, null, true] } }));
    const fast = decodeReqFast(bytes);
    expect(fast).toBeDefined();
    expectSame(fast, decodeGeneric(bytes));
    expectSame(decodeReqFast(new Uint8Array(bytes)), fast); // a plain Uint8Array: no latin1Slice
  });

  it('agrees with the generic decoder whenever it reads a frame, and decodeFrame answers as the generic one does', () => {
    let read = 0;
    fc.assert(
      fc.property(id, route, body, (i, r, b) => {
        const bytes = Buffer.from(req(i, r, b));
        const fast = decodeReqFast(bytes);
        if (fast !== undefined) read++;
        const generic = outcome(() => decodeGeneric(bytes));
        if (fast !== undefined) expectSame({ ok: fast }, generic);
        expectSame(outcome(() => decodeFrame(bytes)), generic);
      }),
      RUNS,
    );
    expect(read).toBeGreaterThan(RUNS.numRuns / 10); // the comparison above saw the fast path (~400 of 3000), not only fallbacks
  });

  it('reads valid plain requests of every integer width and string form', () => {
    for (const i of [0, 127, 128, 255, 256, 65535, 65536, 0xffff_ffff]) {
      for (const b of [-1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), 2 ** 31, 0.1, 'x'.repeat(31), 'y'.repeat(32), 'z'.repeat(256), [], {}]) {
        const bytes = Buffer.from(req(i, 'a.b-c_d', b));
        expectSame(decodeReqFast(bytes), decodeGeneric(bytes));
      }
    }
  });

  it('falls back, with the generic answer, for what it does not read', () => {
    const cases: Uint8Array[] = [
      req(1, 'echo', 'é'), // non-ASCII
      req(1, 'echo', new Uint8Array([1, 2])), // bin
      req(1, 'echo', { __proto__x: 1, ['__proto__']: 2 }),
      req(1, 'echo', 2 ** 53), // uint64
      req(1, 'echo', nested(Limits.bodyDepth)), // containers at the depth limit
      req(1, 'echo', nested(Limits.bodyDepth + 1)),
      req(-1, 'echo', null),
      req(1, 'a..b', null),
      new Uint8Array([...req(1, 'echo', null), 0xc0]), // a byte left over
      req(1, 'echo', { a: 1 }).subarray(0, -1), // truncated
      new Uint8Array([0x94, FrameTag.Req, 1, 0xa1, 0x61, 0xc1]), // the never-used byte
    ];
    for (const bytes of cases) {
      const b = Buffer.from(bytes);
      const fast = decodeReqFast(b);
      const generic = outcome(() => decodeGeneric(b));
      if (fast !== undefined) expectSame({ ok: fast }, generic);
      expectSame(outcome(() => decodeFrame(b)), generic);
    }
    expect(decodeReqFast(Buffer.from(req(1, 'echo', 'é')))).toBeUndefined();
    expect(decodeReqFast(Buffer.from(req(1, 'echo', nested(Limits.bodyDepth + 1))))).toBeUndefined();
    expect(outcome(() => decodeFrame(Buffer.from(req(1, 'echo', nested(Limits.bodyDepth + 1)))))).toMatchObject({ err: 'BAD_FRAME' });
  });

  it('gives the right route and keys whatever was read before (kept strings replaced on a collision)', () => {
    const names = Array.from({ length: 3000 }, (_, i) => `r${i.toString(36)}`); // same lengths, more than the slots
    for (let round = 0; round < 2; round++) {
      for (const name of names) {
        const f = decodeReqFast(Buffer.from(req(1, name, { [name]: 1, k: 2 })));
        expect(f?.route).toBe(name);
        expect(Object.keys(f!.body as object)).toEqual([name, 'k']);
      }
    }
    const long = 'a'.repeat(33); // past the kept length: read as it is
    const key = 'b'.repeat(31); // the longest fixstr key
    expect(decodeReqFast(Buffer.from(req(1, long, { [key]: 1 })))).toEqual({ type: 'req', id: 1, route: long, body: { [key]: 1 } });
  });

  it('renames a __proto__ key as msgpackr does, leaving the body a plain object', () => {
    const bytes = Buffer.from([0x94, FrameTag.Req, 1, 0xa1, 0x61, 0x81, 0xa9, ...Buffer.from('__proto__'), 0x01]);
    const fast = decodeReqFast(bytes);
    expect(fast).toBeDefined();
    expectSame(fast, decodeGeneric(bytes));
    expect(Object.getPrototypeOf(fast!.body)).toBe(Object.prototype);
    expect(Object.keys(fast!.body as object)).toEqual(['__proto_']);
  });

  it('reads a notify (a chat line) itself, and agrees with the generic decoder on generated notifies', () => {
    const line = Buffer.from(encodeFrame({ type: 'notify', route: 'chat.send', body: { content: 'x'.repeat(48), target: '*' } }));
    const fast = decodeReqFast(line);
    expect(fast).toEqual({ type: 'notify', route: 'chat.send', body: { content: 'x'.repeat(48), target: '*' } });
    expectSame(fast, decodeGeneric(line));
    let read = 0;
    fc.assert(
      fc.property(route, body, fc.boolean(), (r, b, extra) => {
        // `extra`: a fourth field, which a notify must not have (the generic decoder refuses the arity).
        const bytes = Buffer.from(raw.pack(extra ? [FrameTag.Notify, r, b, 1] : [FrameTag.Notify, r, b]));
        const fast = decodeReqFast(bytes);
        if (fast !== undefined) read++;
        const generic = outcome(() => decodeGeneric(bytes));
        if (fast !== undefined) expectSame({ ok: fast }, generic);
        expectSame(outcome(() => decodeFrame(bytes)), generic);
      }),
      RUNS,
    );
    expect(read).toBeGreaterThan(RUNS.numRuns / 20);
    // Cut short or with bytes left over: the generic answer.
    for (const bad of [line.subarray(0, line.length - 1), Buffer.concat([line, Buffer.from([0xc0])])]) {
      expect(decodeReqFast(bad)).toBeUndefined();
    }
  });
});

