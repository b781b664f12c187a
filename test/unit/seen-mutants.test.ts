/**
 * Dedupe marks (actors/runtime/seen.ts), written against the mutants Stryker left alive (docs/TESTING.md): the exact
 * bound of a sequence running ahead, the reference being the later of the last mark and the receiver's clock, and
 * the compact one-sender form (a Map only from the second sender on, which is the point of the class: memory).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SEQ_AHEAD_MS, SEQ_PER_MS, SeenMarks, seqTooFarAhead } from '../../actors/runtime/seen.js';

/** The Map a SeenMarks keeps only from its second sender on (private: the memory layout is what is tested). */
const mapOf = (m: SeenMarks) => (m as unknown as { many: Map<string, number> | undefined }).many;

describe('seqTooFarAhead', () => {
  const now = 1_700_000_000_000; // ms
  const ahead = 1000; // ms

  it('refuses exactly past the bound from the receiver clock: at the bound is fine, one past is not', () => {
    const bound = now * SEQ_PER_MS + ahead * SEQ_PER_MS;
    expect(seqTooFarAhead(bound, undefined, now, ahead)).toBe(false);
    expect(seqTooFarAhead(bound + 1, undefined, now, ahead)).toBe(true);
    expect(seqTooFarAhead(now * SEQ_PER_MS + 1, undefined, now, ahead)).toBe(false);
  });

  it('measures from the last mark when it is later than the clock', () => {
    const last = now * SEQ_PER_MS + 10 * ahead * SEQ_PER_MS; // a sender whose clock runs 10 s ahead
    expect(seqTooFarAhead(last + 1, last, now, ahead)).toBe(false);
    expect(seqTooFarAhead(last + ahead * SEQ_PER_MS, last, now, ahead)).toBe(false);
    expect(seqTooFarAhead(last + ahead * SEQ_PER_MS + 1, last, now, ahead)).toBe(true);
    // An earlier last mark does not pull the reference back behind the clock.
    expect(seqTooFarAhead(now * SEQ_PER_MS + ahead * SEQ_PER_MS, 5, now, ahead)).toBe(false);
  });

  it('defaults to a minute ahead', () => {
    expect(seqTooFarAhead((now + DEFAULT_SEQ_AHEAD_MS) * SEQ_PER_MS, undefined, now)).toBe(false);
    expect(seqTooFarAhead((now + DEFAULT_SEQ_AHEAD_MS) * SEQ_PER_MS + 1, undefined, now)).toBe(true);
    expect(DEFAULT_SEQ_AHEAD_MS).toBe(60_000);
  });
});

describe('SeenMarks', () => {
  it('starts empty, with no Map, without arguments or from no entries', () => {
    for (const m of [new SeenMarks(), new SeenMarks([])]) {
      expect(m.size).toBe(0);
      expect(m.entries()).toEqual([]);
      expect(m.get('a')).toBeUndefined();
      expect(mapOf(m)).toBeUndefined();
    }
  });

  it('keeps one sender without a Map, however often it is set', () => {
    const m = new SeenMarks();
    m.set('a', 1);
    m.set('a', 2);
    expect(m.size).toBe(1);
    expect(m.get('a')).toBe(2);
    expect(m.entries()).toEqual([['a', 2]]);
    expect(mapOf(m)).toBeUndefined();
    const restored = new SeenMarks([['a', 7]]);
    expect(mapOf(restored)).toBeUndefined();
    expect(restored.get('a')).toBe(7);
  });

  it('counts every sender once a second one arrives, the first one oldest', () => {
    const m = new SeenMarks();
    m.set('a', 1);
    m.set('b', 5);
    expect(m.size).toBe(2);
    expect(mapOf(m)?.size).toBe(2);
    expect(m.entries()).toEqual([
      ['a', 1],
      ['b', 5],
    ]);
    m.set('a', 3); // an update keeps its place (oldest first)
    expect(m.entries()).toEqual([
      ['a', 3],
      ['b', 5],
    ]);
    const restored = new SeenMarks(m.entries());
    expect(restored.size).toBe(2);
    expect(restored.get('b')).toBe(5);
  });

  it('forgets the oldest sender past max, never a sender it already has', () => {
    const m = new SeenMarks([], 3);
    for (const s of ['a', 'b', 'c']) m.set(s, 1);
    m.set('b', 2);
    expect(m.size).toBe(3);
    m.set('d', 1);
    expect(m.entries().map(([s]) => s)).toEqual(['b', 'c', 'd']);
    expect(m.get('a')).toBeUndefined();
  });
});
