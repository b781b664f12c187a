/**
 * protocol/native/fast-res.ts writes plain `res` frames by hand: whatever it writes must be the very bytes
 * encodeFrame writes for the same frame, and whatever it does not write (undefined, bytes, other objects, too deep,
 * too large) is left to encodeFrame, which answers as it always did.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeResFast } from '../../protocol/native/fast-res.js';
import { Limits, ProtocolError, decodeFrame, encodeFrame } from '../../protocol/native/index.js';

const RUNS = { numRuns: 3000 };

function generic(id: number, body: unknown, max?: number): Uint8Array | string {
  try {
    return encodeFrame({ type: 'res', id, body }, max === undefined ? undefined : { maxFrameBytes: max });
  } catch (err) {
    if (err instanceof ProtocolError) return err.code;
    throw err;
  }
}

const hex = (b: Uint8Array | string | undefined) => (typeof b === 'object' ? Buffer.from(b).toString('hex') : b);

const key = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ maxLength: 8, unit: 'binary' }), fc.constantFrom('__proto__', 'constructor', '1', '', 'é', '\ud800'));
const leaf = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
  fc.constantFrom(0, -0, -1, -32, -33, -128, -129, -32768, -32769, 127, 128, 255, 256, 65535, 65536, 2 ** 31, 2 ** 32, -(2 ** 31) - 1, 2 ** 53, 0.5, NaN, Infinity, -Infinity),
  fc.double(),
  fc.string({ maxLength: 300 }),
  fc.string({ maxLength: 80, unit: 'binary' }),
  fc.string({ maxLength: 20, unit: 'grapheme' }),
  fc.constantFrom('\ud800', 'a\udc00b', '\ud83d\ude00', 'x'.repeat(31), 'x'.repeat(32), 'é'.repeat(16), 'é'.repeat(128), 'x'.repeat(300)),
  fc.constantFrom(undefined, new Uint8Array([1, 2])),
);
const body: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 20 }),
  object: fc.dictionary(key, tie('value'), { maxKeys: 20 }),
})).value;
const id = fc.oneof(fc.nat(300), fc.integer({ min: 0, max: 0xffff_ffff }));

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { k: v };
  return v;
}

describe('fast res encoding', () => {
  it('writes the bytes encodeFrame writes, or leaves the frame to it', () => {
    let written = 0;
    fc.assert(
      fc.property(id, body, (i, b) => {
        const fast = encodeResFast(i, b);
        if (fast === undefined) return;
        written++;
        expect(hex(fast)).toBe(hex(generic(i, b)));
      }),
      RUNS,
    );
    expect(written).toBeGreaterThan(RUNS.numRuns / 4); // the comparison saw written frames, not only fallbacks
  });

  it('writes the typical answer, every integer form and long strings itself', () => {
    for (const i of [0, 127, 128, 255, 256, 65535, 65536, 0xffff_ffff]) {
      for (const b of [{ pad: 'x'.repeat(40) }, -1, -33, -129, -32769, 2 ** 31, -(2 ** 31) - 1, 0.1, -0, 'é'.repeat(200), 'x'.repeat(70000), Array(20).fill(1), Object.fromEntries(Array.from({ length: 20 }, (_, k) => [`k${k}`, k]))]) {
        const fast = encodeResFast(i, b, 1 << 20);
        expect(fast, `${i} ${JSON.stringify(b)?.slice(0, 40)}`).toBeDefined();
        expect(hex(fast)).toBe(hex(generic(i, b, 1 << 20)));
      }
    }
    // What it writes reads back as the frame.
    expect(decodeFrame(encodeResFast(9, { a: [1, 'b', null, true] })!)).toEqual({ type: 'res', id: 9, body: { a: [1, 'b', null, true] } });
  });

  it('leaves to encodeFrame what it does not write: undefined, bytes, other objects, too deep, too large', () => {
    const cases: unknown[] = [
      undefined,
      { a: undefined },
      [1, undefined],
      [1, , 2], // eslint-disable-line no-sparse-arrays
      new Uint8Array([1]),
      Object.create(null),
      { constructor: 1 },
      new Date(0),
      new Map(),
      10n,
      nested(Limits.bodyDepth + 1), // a container at depth bodyDepth
    ];
    for (const [i, b] of cases.entries()) expect(encodeResFast(1, b), `case ${i}`).toBeUndefined();
    expect(generic(1, nested(Limits.bodyDepth + 1))).toBe('BAD_FRAME');
    expect(hex(encodeResFast(1, nested(Limits.bodyDepth)))).toBe(hex(generic(1, nested(Limits.bodyDepth)))); // the deepest allowed
    // The frame limit: exactly at it is written, one byte over is left to encodeFrame (FRAME_TOO_LARGE).
    const atLimit = generic(1, 'x'.repeat(1000)) as Uint8Array;
    expect(hex(encodeResFast(1, 'x'.repeat(1000), atLimit.length))).toBe(hex(atLimit));
    expect(encodeResFast(1, 'x'.repeat(1000), atLimit.length - 1)).toBeUndefined();
    expect(generic(1, 'x'.repeat(1000), atLimit.length - 1)).toBe('FRAME_TOO_LARGE');
    for (const bad of [-1, 1.5, 2 ** 32]) expect(encodeResFast(bad, null)).toBeUndefined();
  });

  it('skips a polluted prototype key as encodeFrame does (by leaving it the frame)', () => {
    (Object.prototype as Record<string, unknown>).polluted = 1;
    try {
      expect(encodeResFast(1, { a: 1 })).toBeUndefined();
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted;
    }
    expect(encodeResFast(1, { a: 1 })).toBeDefined();
  });

  it('gives each answer its own bytes (nothing shared with the next encode)', () => {
    const a = encodeResFast(1, 'first')!;
    const copy = hex(a);
    encodeResFast(2, 'second, longer');
    expect(hex(a)).toBe(copy);
  });
});
