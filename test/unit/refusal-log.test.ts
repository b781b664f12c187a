/**
 * Refusal lines under attack (gateway/auth/refusal-log.ts): a credential-stuffing loop refused 1 000 times in a
 * minute writes the first few lines in full and one summary, not 1 000 lines; the next minute starts again.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { createRefusalLog } from '../../gateway/auth/refusal-log.js';

function capture() {
  const lines: Array<{ fields: Record<string, unknown>; msg: string }> = [];
  return { lines, log: { info: (fields: Record<string, unknown>, msg: string) => lines.push({ fields, msg }) } };
}

describe('refusal log', () => {
  it('logs the first refusals of a window in full, counts the rest and summarizes them once at its end', () => {
    const clock = new ManualClock(0);
    const { lines, log } = capture();
    const r = createRefusalLog(log, clock, 'authentication refused', { perWindow: 5, windowMs: 60_000 });
    for (let i = 0; i < 1000; i++) {
      r.refused({ remote: '10.0.0.1', i }, i % 4 === 0 ? 'EXPIRED' : 'UNAUTHORIZED');
      clock.advance(50);
    }
    // 50 s in: 5 full lines, the summary is not due yet.
    expect(lines.map((l) => l.fields.i)).toEqual([0, 1, 2, 3, 4]);
    clock.advance(10_000);
    expect(lines).toHaveLength(6);
    expect(lines[5]!.fields).toEqual({ leftOut: 995, codes: { EXPIRED: 248, UNAUTHORIZED: 747 }, windowMs: 60_000 });
    expect(lines[5]!.msg).toBe('authentication refused: 995 more not logged one by one');
    // Nothing left out since: no more summaries.
    clock.advance(600_000);
    expect(lines).toHaveLength(6);
    // A new window logs in full again.
    r.refused({ i: 'next' }, 'UNAUTHORIZED');
    expect(lines[6]!.fields).toEqual({ i: 'next' });
  });

  it('writes a due summary before the next window even when its timer has not run', () => {
    let now = 0;
    const timers: Array<() => void> = [];
    const clock = { now: () => now, setTimeout: (fn: () => void) => timers.push(fn), clearTimeout: () => undefined };
    const { lines, log } = capture();
    const r = createRefusalLog(log, clock, 'refused', { perWindow: 1, windowMs: 1000 });
    r.refused({ k: 1 }, 'A');
    r.refused({ k: 2 }, 'A');
    r.refused({ k: 3 }, 'B');
    now = 1000;
    r.refused({ k: 4 }, 'A');
    expect(lines.map((l) => l.fields)).toEqual([{ k: 1 }, { leftOut: 2, codes: { A: 1, B: 1 }, windowMs: 1000 }, { k: 4 }]);
  });

  it('a handful of refusals (a user mistyping) are each logged', () => {
    const clock = new ManualClock(0);
    const { lines, log } = capture();
    const r = createRefusalLog(log, clock, 'authentication refused');
    for (let i = 0; i < 3; i++) r.refused({ i }, 'UNAUTHORIZED');
    clock.advance(120_000);
    expect(lines.map((l) => l.fields)).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
  });
});
