/** The Pomelo JSON body's nesting bound (protocol/pomelo/message.ts): the byte scan agrees with JSON's own nesting. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeJsonBody, JSON_MAX_DEPTH } from '../../protocol/pomelo/index.js';

const bytes = (s: string) => Buffer.from(s, 'utf8');
function depth(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  const kids = Array.isArray(v) ? v : Object.values(v as object);
  return 1 + Math.max(0, ...kids.map(depth));
}

describe('Pomelo JSON body depth', () => {
  it('accepts 32 levels, refuses 33 naming the limit, and 20 000 without overflowing', () => {
    expect(JSON_MAX_DEPTH).toBe(32);
    expect(depth(decodeJsonBody(bytes('['.repeat(32) + ']'.repeat(32))))).toBe(32);
    expect(() => decodeJsonBody(bytes('{"a":'.repeat(33) + '1' + '}'.repeat(33)))).toThrow(/deeper than 32 levels/);
    expect(() => decodeJsonBody(bytes('['.repeat(20_000) + ']'.repeat(20_000)))).toThrow(/deeper than 32 levels/);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const v = { s: '"[[[[\\"{{{{', t: ['\\', '"]'], u: '['.repeat(100) };
    expect(decodeJsonBody(bytes(JSON.stringify(v)))).toEqual(v);
  });

  it('agrees with the parsed value on random JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 40 }), (v) => {
        const text = JSON.stringify(v);
        if (depth(v) <= JSON_MAX_DEPTH) expect(decodeJsonBody(bytes(text))).toEqual(JSON.parse(text));
        else expect(() => decodeJsonBody(bytes(text))).toThrow(/deeper than 32 levels/);
      }),
      { numRuns: 300 },
    );
  });
});
