/**
 * protocol/native/fast-res.ts writes plain `push` frames by hand too: the very bytes encodeFrame writes for the same
 * frame, or nothing (undefined) so that encodeFrame encodes or refuses it as it always did.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodePushFast, encodeResFast } from '../../protocol/native/fast-res.js';
import { Limits, ProtocolError, decodeFrame, encodeFrame } from '../../protocol/native/index.js';

function generic(route: string, body: unknown, max?: number): Uint8Array | string {
  try {
    return encodeFrame({ type: 'push', route, body }, max === undefined ? undefined : { maxFrameBytes: max });
  } catch (err) {
    if (err instanceof ProtocolError) return err.code;
    throw err;
  }
}

const hex = (b: Uint8Array | string | undefined) => (typeof b === 'object' ? Buffer.from(b).toString('hex') : b);

const leaf = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
  fc.double(),
  fc.string({ maxLength: 300 }),
  fc.string({ maxLength: 20, unit: 'grapheme' }),
  fc.constantFrom('\ud800', '\ud83d\ude00', 'x'.repeat(32), 'é'.repeat(128), undefined, new Uint8Array([1])),
);
const body: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 10 }),
  object: fc.dictionary(fc.string({ maxLength: 20 }), tie('value'), { maxKeys: 10 }),
})).value;
const route = fc.oneof(
  fc.constantFrom('onChat', 'onAdd', 'lobby.room.say', 'a', 'x'.repeat(Limits.route), 'x'.repeat(Limits.route + 1), '', 'a..b', 'é', 'a b', '.a'),
  fc.string({ maxLength: 20 }),
);

describe('fast push encoding', () => {
  it('writes the bytes encodeFrame writes, or leaves the frame to it', () => {
    let written = 0;
    fc.assert(
      fc.property(route, body, (r, b) => {
        const fast = encodePushFast(r, b);
        if (fast === undefined) return;
        written++;
        expect(hex(fast)).toBe(hex(generic(r, b)));
      }),
      { numRuns: 3000 },
    );
    expect(written).toBeGreaterThan(300);
  });

  it('writes a chat line itself, readable as the push', () => {
    const b = { msg: 'x'.repeat(48), from: 'user-17', target: '*' };
    const fast = encodePushFast('onChat', b);
    expect(hex(fast)).toBe(hex(generic('onChat', b)));
    expect(decodeFrame(fast!)).toEqual({ type: 'push', route: 'onChat', body: b });
  });

  it('leaves a bad route to encodeFrame, also right after a good one, and the frame limit too', () => {
    for (const r of ['', 'a..b', 'a b', 'x'.repeat(Limits.route + 1)]) {
      expect(encodePushFast('ok', 1)).toBeDefined();
      expect(encodePushFast(r, 1), r).toBeUndefined();
      expect(generic(r, 1)).toBe('BAD_FRAME');
    }
    const atLimit = generic('r', 'x'.repeat(1000)) as Uint8Array;
    expect(hex(encodePushFast('r', 'x'.repeat(1000), atLimit.length))).toBe(hex(atLimit));
    expect(encodePushFast('r', 'x'.repeat(1000), atLimit.length - 1)).toBeUndefined();
  });

  it('hands out frames as views of a shared chunk that never overlap, across chunks, growth and refusals', () => {
    const kept: Array<[Uint8Array, unknown]> = [];
    for (let i = 0; i < 3000; i++) {
      const b = { i, pad: 'é'.repeat(i % 7 === 0 ? 5000 : i % 50) };
      kept.push([i % 2 ? encodePushFast('r', b)! : encodeResFast(i, b)!, b]);
      // A refused frame in between writes nothing over the frames before it.
      expect(encodePushFast('r', { deep: new Date(0) })).toBeUndefined();
      expect(encodeResFast(1, 'x'.repeat(100_000), 1000)).toBeUndefined();
    }
    for (const [i, [bytes, b]] of kept.entries()) {
      const f = decodeFrame(bytes, { maxFrameBytes: 1 << 20 });
      expect(f, `frame ${i}`).toEqual(i % 2 ? { type: 'push', route: 'r', body: b } : { type: 'res', id: i, body: b });
    }
  });
});

