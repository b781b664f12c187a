/** bench chat's capacity search (bench/chat/ramp.ts): pass rule, geometric ramp, one repeat, refining step, bounds. */
import { describe, expect, it } from 'vitest';
import { advance, initialRamp, passes, type RampConfig, type RampState } from '../../bench/chat/ramp.js';

const C: RampConfig = { start: 1000, factor: 2, max: 100_000, floor: 100, p99LimitMs: 100, minDelivered: 0.95, maxSteps: 16 };

/** Runs the search against a system that delivers everything with p99 10 ms up to `knee`, and half of it above. */
function search(knee: number, c = C): RampState {
  let s = initialRamp(c);
  while (s.next !== undefined) {
    const offered = s.next;
    s = advance(c, s, offered <= knee ? { offered, deliveriesPerSec: offered, p99Ms: 10 } : { offered, deliveriesPerSec: offered / 2, p99Ms: 500 });
  }
  return s;
}

describe('bench chat ramp', () => {
  it('passes a window only within the p99 bound and with at least 95 % delivered', () => {
    expect(passes(C, { offered: 1000, deliveriesPerSec: 950, p99Ms: 100 })).toBe(true);
    expect(passes(C, { offered: 1000, deliveriesPerSec: 949, p99Ms: 10 })).toBe(false);
    expect(passes(C, { offered: 1000, deliveriesPerSec: 1000, p99Ms: 101 })).toBe(false);
  });

  it('ramps geometrically, repeats the first failure once, then refines halfway and stops', () => {
    const s = search(5000);
    expect(s.steps.map((x) => x.offered)).toEqual([1000, 2000, 4000, 8000, 8000, Math.sqrt(4000 * 8000)]);
    expect(s.lastPass?.offered).toBe(4000);
  });

  it('a single bad window does not end the search', () => {
    let s = initialRamp(C);
    s = advance(C, s, { offered: 1000, deliveriesPerSec: 1000, p99Ms: 10 });
    s = advance(C, s, { offered: 2000, deliveriesPerSec: 2000, p99Ms: 300 }); // another tenant's burst
    expect(s.next).toBe(2000);
    s = advance(C, s, { offered: 2000, deliveriesPerSec: 2000, p99Ms: 10 });
    expect(s.next).toBe(4000);
  });

  it('steps down from a failing start until something passes, never below the floor', () => {
    expect(search(300).lastPass?.offered).toBe(250);
    const none = search(10);
    expect(none.lastPass).toBeUndefined();
    expect(Math.min(...none.steps.map((x) => x.offered))).toBeGreaterThanOrEqual(C.floor);
  });

  it('is bounded by max and by maxSteps', () => {
    expect(search(Infinity).steps.at(-1)!.offered).toBeLessThanOrEqual(C.max);
    expect(search(Infinity, { ...C, factor: 1.01, maxSteps: 5 }).steps).toHaveLength(5);
  });
});
