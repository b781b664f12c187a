/**
 * The publish-subject cache of the NATS bus (bus/subject-match.ts PublishSubjects): subjects are checked once, a bad
 * one throws and is not kept, memory stays within two generations, and a hot working set survives the turnover that
 * a stream of one-off subjects causes (before, a full cache was cleared and every hot subject was checked again).
 */
import { describe, expect, it } from 'vitest';
import { PublishSubjects } from '../../bus/subject-match.js';

describe('PublishSubjects', () => {
  it('prefixes a subject, checks it once, and refuses a bad one without keeping it', () => {
    const p = new PublishSubjects('pre.', 8);
    expect(p.absolute('a.b')).toBe('pre.a.b');
    expect(p.absolute('a.b')).toBe('pre.a.b');
    expect(p.misses).toBe(1);
    expect(() => p.absolute('a..b')).toThrow();
    expect(() => p.absolute('a.*')).toThrow(); // wildcards are for subscribing only
    expect(p.size).toBe(1);
  });

  it('holds at most two generations, whatever flows through', () => {
    const p = new PublishSubjects('pre.', 16);
    for (let i = 0; i < 1000; i++) p.absolute(`one.off${i}`);
    expect(p.size).toBeLessThanOrEqual(32);
    expect(p.misses).toBe(1000);
  });

  it('keeps a hot working set across turnovers: only the one-off subjects miss', () => {
    const max = 16;
    const p = new PublishSubjects('pre.', max);
    const hot = Array.from({ length: 8 }, (_, i) => `hot.a${i}`);
    for (const s of hot) p.absolute(s);
    let oneOff = 0;
    for (let round = 0; round < 50; round++) {
      // New subjects between two uses of the hot set: with the hot ones, fewer than `max` insertions between two
      // uses of any one of them, and a turnover about every round (a cache cleared when full lost them each time).
      for (let i = 0; i < max - hot.length; i++) p.absolute(`one.off${oneOff++}`);
      for (const s of hot) expect(p.absolute(s)).toBe(`pre.${s}`);
    }
    expect(p.misses).toBe(hot.length + oneOff);
  });
});
