/**
 * The in-memory bus's delivery turns are bounded in time as well as in count: a long queue is delivered over several
 * event-loop turns, so I/O and timers (and the gateway's write flush at the end of a turn) get their turn between
 * slices, in order and without loss.
 */
import { describe, expect, it } from 'vitest';
import { MemoryBroker } from '../../bus/memory-bus.js';

/** A clock that moves 1 ms each time it is read: every budget check finds time has passed. */
function steppingClock(): () => number {
  let t = 0;
  return () => ++t;
}

async function deliverAll(broker: MemoryBroker, n: number): Promise<{ got: number[]; beforeOther: number }> {
  const bus = broker.connect({ prefix: 'p' });
  const got: number[] = [];
  bus.subscribe('s', (m) => got.push((m.data as Uint8Array)[0]! | ((m.data as Uint8Array)[1]! << 8) | ((m.data as Uint8Array)[2]! << 16)));
  for (let i = 0; i < n; i++) bus.publish('s', new Uint8Array([i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff]));
  let beforeOther = -1;
  // Queued after the bus's first delivery turn: it runs between slices only if the turn yields.
  const other = new Promise<void>((resolve) => setImmediate(() => resolve(void (beforeOther = got.length))));
  await Promise.all([broker.flush(), other]);
  await bus.close();
  return { got, beforeOther };
}

describe('memory bus delivery turns', () => {
  it('yields to other work once the time budget is spent, and still delivers everything in order', async () => {
    const { got, beforeOther } = await deliverAll(new MemoryBroker({ drainBudgetMs: 2, now: steppingClock() }), 1000);
    expect(got).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    // One slice: the budget is checked every 32 deliveries and the clock says 2 ms have passed at the second check.
    expect(beforeOther).toBeGreaterThan(0);
    expect(beforeOther).toBeLessThanOrEqual(64);
  });

  it('without a time budget, one turn delivers up to the count bound', async () => {
    const { got, beforeOther } = await deliverAll(new MemoryBroker({ drainBudgetMs: Infinity, now: steppingClock() }), 1000);
    expect(got).toHaveLength(1000);
    expect(beforeOther).toBe(1000);
  });

  it('keeps order across many slices of a long queue (its delivered front is dropped along the way)', async () => {
    const n = 80_000;
    const { got } = await deliverAll(new MemoryBroker({ drainBudgetMs: 1, now: steppingClock() }), n);
    expect(got).toHaveLength(n);
    let inOrder = true;
    for (let i = 0; i < n; i++) if (got[i] !== i) inOrder = false;
    expect(inOrder).toBe(true);
  });

  it('keeps order when its ring wraps around and then grows while wrapped (handlers publishing as they receive)', async () => {
    // Slices of 32 (the stepping clock ends each at the first check); each delivery of the first 3000 publishes two
    // more, so the queue keeps wrapping around its ring and outgrowing it.
    const broker = new MemoryBroker({ drainBudgetMs: 1, now: steppingClock() });
    const bus = broker.connect({ prefix: 'p' });
    const got: number[] = [];
    let next = 0;
    const send = () => bus.publish('s', new Uint8Array(0), { value: next++ });
    bus.subscribe('s', (m) => {
      got.push(m.value as number);
      if ((m.value as number) < 3000) {
        send();
        send();
      }
    });
    for (let i = 0; i < 300; i++) send();
    await broker.flush();
    await bus.close();
    expect(got).toHaveLength(next);
    expect(got.every((v, i) => v === i)).toBe(true);
  });
});
