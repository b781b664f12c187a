import { describe, expect, it } from 'vitest';
import { CountedSet } from '../../common/counted-set.js';

describe('CountedSet', () => {
  it('keeps a key until every claim on it is released', () => {
    const s = new CountedSet();
    s.add('tally.3'); // a move out of this node
    s.add('tally.3'); // the same shard moving back in, before the first move ended
    expect(s.has('tally.3')).toBe(true);
    s.delete('tally.3');
    expect(s.has('tally.3')).toBe(true);
    expect(s.size).toBe(1);
    s.delete('tally.3');
    expect(s.has('tally.3')).toBe(false);
    expect(s.size).toBe(0);
  });

  it('ignores releasing a key it does not hold', () => {
    const s = new CountedSet();
    s.delete('x');
    s.add('x');
    s.delete('x');
    s.delete('x');
    s.add('x');
    expect(s.has('x')).toBe(true);
  });
});
