/**
 * The mailbox queue's memory bound (actors/runtime/mailbox.ts), written against the mutants Stryker left alive
 * (docs/TESTING.md): the array behind the front item is compacted exactly when more than 1024 slots were shifted and
 * they are over half of it, never on a small queue, and compaction keeps the order.
 */
import { describe, expect, it } from 'vitest';
import { Queue } from '../../actors/runtime/mailbox.js';

/** The queue's private array and read index: the memory bound is what is tested. */
const inner = (q: Queue<number>) => q as unknown as { rest: Array<number | undefined> | undefined; head: number };

function filled(n: number): Queue<number> {
  const q = new Queue<number>();
  for (let i = 0; i < n; i++) q.push(i);
  return q;
}

describe('mailbox Queue compaction', () => {
  it('compacts at the first shift with more than 1024 shifted slots when they are over half the array', () => {
    // 1 front + 1500 in the array: the shifted slots are over half from 751 on, so 1024 is the bound that holds.
    const q = filled(1501);
    for (let i = 0; i < 1024; i++) expect(q.shift()).toBe(i);
    expect(inner(q).head).toBe(1024);
    expect(inner(q).rest!.length).toBe(1500);
    expect(q.shift()).toBe(1024); // 1025 shifted: compacted
    expect(inner(q).head).toBe(0);
    expect(inner(q).rest!.length).toBe(1500 - 1025);
    expect(q.length).toBe(1501 - 1025);
    expect(q.drain()).toEqual(Array.from({ length: 1501 - 1025 }, (_, i) => 1025 + i));
  });

  it('waits until the shifted slots are more than half the array', () => {
    // 1 front + 3000 in the array: 1500 shifted is exactly half (kept), 1501 is more (compacted).
    const q = filled(3001);
    for (let i = 0; i < 1500; i++) q.shift();
    expect(inner(q).head).toBe(1500);
    expect(inner(q).rest!.length).toBe(3000);
    expect(q.shift()).toBe(1500);
    expect(inner(q).head).toBe(0);
    expect(inner(q).rest!.length).toBe(1499);
    expect(q.shift()).toBe(1501);
    expect(q.length).toBe(3001 - 1502);
  });

  it('never compacts a small queue, however much of it was shifted', () => {
    const q = filled(5);
    q.shift();
    q.shift();
    q.shift();
    expect(inner(q).head).toBe(3);
    expect(inner(q).rest!.length).toBe(4);
    expect(q.drain()).toEqual([3, 4]);
    expect(inner(q).rest).toBeUndefined();
  });
});
