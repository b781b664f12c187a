// The benchmark harness's pure parts: histogram accuracy and the result-file shape. No timing is asserted.
import { describe, expect, it } from 'vitest';
import { Histogram, stats } from '../../bench/harness/measure.js';
import { metric, verdict } from '../../bench/harness/report.js';

describe('Histogram', () => {
  it('reports percentiles within 1.6 % over six decades', () => {
    const h = new Histogram();
    const values = Array.from({ length: 100_000 }, (_, i) => 0.5 * 1.00015 ** i); // 0.5 µs … ~1.6 s
    for (const v of values) h.record(v);
    for (const p of [1, 50, 90, 99, 99.9]) {
      const exact = values[Math.ceil((p / 100) * values.length) - 1]!;
      expect(Math.abs(h.percentile(p) - exact) / exact).toBeLessThan(0.016);
    }
    expect(h.count).toBe(values.length);
    expect(h.min).toBe(values[0]);
    expect(h.max).toBe(values.at(-1));
  });

  it('survives a JSON round trip and merges', () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let i = 1; i <= 1000; i++) (i % 2 ? a : b).record(i);
    const merged = Histogram.from(JSON.parse(JSON.stringify(a.toJSON()))).merge(b.toJSON());
    expect(merged.count).toBe(1000);
    expect(merged.min).toBe(1);
    expect(merged.max).toBe(1000);
    expect(Math.abs(merged.percentile(50) - 500) / 500).toBeLessThan(0.016);
  });

  it('is empty-safe', () => {
    expect(new Histogram().percentile(50)).toBeNaN();
    expect(new Histogram().toJSON()).toEqual({ count: 0, sum: 0, min: 0, max: 0, buckets: [] });
  });
});

describe('stats', () => {
  it('gives median and range, ignoring non-finite runs', () => {
    expect(stats([3, 1, 2])).toMatchObject({ median: 2, min: 1, max: 3 });
    expect(stats([4, 1, NaN, 2, 3]).median).toBe(2.5);
  });
});

describe('metric (docs/BENCH-RULES.md result format)', () => {
  it('has the fixed keys in order, ratio = value / baseline', () => {
    const m = metric({
      name: 'tell events/s',
      unit: '1/s',
      runs: [120, 123, 125],
      higherIsBetter: true,
      baseline: { name: 'raw pipeline', runs: [170, 171, 169] },
      targetRatio: 0.7,
    });
    expect(Object.keys(m)).toEqual([
      'name', 'value', 'unit', 'baseline_name', 'baseline', 'ratio', 'higher_is_better', 'target_ratio', 'runs',
    ]);
    expect(m).toMatchObject({ value: 123, baseline: 170, ratio: 0.724, target_ratio: 0.7, runs: [120, 123, 125] });
    expect(verdict(m)).toBe('pass');
  });

  it('carries baseline null and an absolute target when there is no baseline', () => {
    const m = metric({ name: 'search p99', unit: 'ms', runs: [25, 18, 30], higherIsBetter: false, target: 20 });
    expect(m).toMatchObject({ baseline_name: null, baseline: null, ratio: null, target: 20 });
    expect('target_ratio' in m).toBe(false);
    expect(verdict(m)).toBe('miss');
  });

  it('marks a compared metric without a bound as target_ratio null, neither pass nor miss', () => {
    const m = metric({ name: 'cpu', unit: 'µs/msg', runs: [2], higherIsBetter: false, baseline: { name: 'raw', runs: [1] } });
    expect(m.target_ratio).toBeNull();
    expect(verdict(m)).toBe('');
  });
});
