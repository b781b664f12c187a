import { describe, expect, it } from 'vitest';
import { forEachBounded, withinMs } from '../../common/bounded.js';
import { ManualClock } from '../../common/clock.js';
import { TimeoutError } from '../../common/errors.js';

describe('forEachBounded', () => {
  it('visits every item once with at most `limit` in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const seen: number[] = [];
    await forEachBounded(Array.from({ length: 50 }, (_, i) => i), 4, async (i) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setImmediate(r));
      seen.push(i);
      inFlight--;
    });
    expect(most).toBe(4);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('does nothing for no items, and fails with the first failure', async () => {
    await forEachBounded([], 8, async () => {
      throw new Error('never called');
    });
    await expect(forEachBounded([1, 2, 3], 2, async (i) => {
      if (i === 2) throw new Error('bad item');
    })).rejects.toThrow('bad item');
  });
});

describe('withinMs', () => {
  it('gives the value when it comes in time and leaves no timer behind', async () => {
    const clock = new ManualClock();
    await expect(withinMs(clock, 100, 'x', Promise.resolve(7))).resolves.toBe(7);
    expect(clock.pending).toBe(0);
  });

  it('fails with a TimeoutError naming the wait at the deadline, not before', async () => {
    const clock = new ManualClock();
    let failed: unknown;
    void withinMs(clock, 100, 'flushing', new Promise(() => undefined)).catch((e: unknown) => (failed = e));
    clock.advance(99);
    await Promise.resolve();
    expect(failed).toBeUndefined();
    clock.advance(1);
    await new Promise((r) => setImmediate(r));
    expect(failed).toBeInstanceOf(TimeoutError);
    expect(String(failed)).toContain('flushing: no answer within 100 ms');
    expect(clock.pending).toBe(0);
  });
});
