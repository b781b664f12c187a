import { describe, expect, it } from 'vitest';
import { forEachBounded } from '../../common/bounded.js';

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
