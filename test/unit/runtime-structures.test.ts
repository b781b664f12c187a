/**
 * The runtime's small data structures against plain reference implementations, under random operation sequences:
 * the mailbox queue (against an array) and the per-sender dedupe marks (against a Map with oldest-first eviction).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Queue } from '../../actors/runtime/mailbox.js';
import { SeenMarks } from '../../actors/runtime/seen.js';

describe('mailbox Queue', () => {
  it('behaves like an array FIFO for any sequence of push, shift and drain', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('push' as const), v: fc.integer() }),
      fc.record({ k: fc.constant('shift' as const) }),
      fc.record({ k: fc.constant('drain' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 3000 }), (ops) => {
        const q = new Queue<number>();
        const ref: number[] = [];
        for (const o of ops) {
          if (o.k === 'push') {
            q.push(o.v);
            ref.push(o.v);
          } else if (o.k === 'shift') expect(q.shift()).toBe(ref.shift());
          else expect(q.drain()).toEqual(ref.splice(0));
          expect(q.length).toBe(ref.length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('does not keep memory for items already taken (long-lived busy mailbox)', () => {
    const q = new Queue<object>();
    for (let i = 0; i < 100_000; i++) {
      q.push({ i });
      q.push({ i });
      q.shift();
      q.shift();
    }
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
  });
});

describe('SeenMarks (dedupe marks)', () => {
  it('matches a Map with oldest-first eviction, and round-trips through entries()', () => {
    const op = fc.record({ s: fc.integer({ min: 0, max: 9 }), q: fc.nat() });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), fc.integer({ min: 1, max: 6 }), (ops, max) => {
        const marks = new SeenMarks([], max);
        const ref = new Map<string, number>();
        for (const { s, q } of ops) {
          const sender = `s${s}`;
          marks.set(sender, q);
          if (!ref.has(sender) && ref.size >= max) ref.delete(ref.keys().next().value!);
          ref.set(sender, q);
          expect(marks.size).toBe(ref.size);
          for (let k = 0; k < 10; k++) expect(marks.get(`s${k}`)).toBe(ref.get(`s${k}`));
        }
        expect(marks.entries()).toEqual([...ref]);
        const copy = new SeenMarks(marks.entries(), max);
        expect(copy.entries()).toEqual([...ref]);
      }),
      { numRuns: 500 },
    );
  });
});
