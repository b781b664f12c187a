import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryBroker } from '../../bus/memory-bus.js';
import { encode } from '../../bus/codec.js';
import { subjects } from '../../bus/subjects.js';
import { decodeLifecycle, publishLifecycle, type LifecycleEvent } from '../../server/lifecycle-events.js';

function rig() {
  const broker = new MemoryBroker();
  const node = broker.connect({ prefix: 'lc' });
  const watcher = broker.connect({ prefix: 'lc' });
  const messages: LifecycleEvent[][] = [];
  watcher.subscribe(subjects.sys('lifecycle'), (m) => messages.push(decodeLifecycle(m.data)));
  return { node, watcher, messages, close: () => Promise.all([node.close(), watcher.close()]) };
}

describe('lifecycle events', () => {
  afterEach(() => vi.useRealTimers());

  it('sends the events of a batch window as one message, each with its own timestamp, in order', async () => {
    // Fake setTimeout only (the memory bus delivers on setImmediate): the window closes when the test moves the clock.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const r = rig();
    try {
      const p = publishLifecycle(r.node, 'n1', { batchMs: 5 });
      const before = Date.now() * 1000;
      p.hook('active', 'tally', 'a1', 'n1');
      p.hook('closed', 'tally', 'a1', 'n1');
      p.hook('adopted', 'tally', 'a2', 'n1');
      const after = Date.now() * 1000;
      vi.advanceTimersByTime(4);
      await r.node.flush();
      expect(r.messages).toEqual([]); // held until the window ends
      vi.advanceTimersByTime(1);
      await r.node.flush();
      await vi.waitFor(() => expect(r.messages).toHaveLength(1));
      const [evs] = r.messages;
      expect(evs!.map((e) => [e.e, e.k, e.i, e.n])).toEqual([
        ['active', 'tally', 'a1', 'n1'],
        ['closed', 'tally', 'a1', 'n1'],
        ['adopted', 'tally', 'a2', 'n1'],
      ]);
      // µs on the wall clock (timeOrigin + performance.now(), which may drift from Date.now() by a few ms): a unit and
      // clock check, not a duration.
      for (const e of evs!) {
        expect(e.t).toBeGreaterThanOrEqual(before - 5000);
        expect(e.t).toBeLessThanOrEqual(after + 5000);
      }
      expect(evs![0]!.t).toBeLessThanOrEqual(evs![1]!.t);
      expect(evs![1]!.t).toBeLessThanOrEqual(evs![2]!.t);
    } finally {
      await r.close();
    }
  });

  it('sends a full batch at once, and what is left on flush()', async () => {
    const r = rig();
    try {
      const p = publishLifecycle(r.node, 'n1', { batchMs: 60_000, maxBatch: 3 });
      for (let i = 0; i < 7; i++) p.hook('active', 'k', `a${i}`, 'n1');
      p.flush();
      p.flush(); // nothing left: no empty message
      await r.node.flush();
      await vi.waitFor(() => expect(r.messages.map((m) => m.length)).toEqual([3, 3, 1]));
      expect(r.messages.flat().map((e) => e.i)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
    } finally {
      await r.close();
    }
  });

  it("stamps an event given its own time (a node's fence, noticed late) with that time", async () => {
    const r = rig();
    try {
      const p = publishLifecycle(r.node, 'n1', { batchMs: 60_000 });
      p.hook('fenced', '', '', 'n1', 1_700_000_000_123.5);
      p.flush();
      await r.node.flush();
      await vi.waitFor(() => expect(r.messages).toHaveLength(1));
      expect(r.messages[0]).toEqual([{ e: 'fenced', k: '', i: '', n: 'n1', t: 1_700_000_000_123_500 }]);
    } finally {
      await r.close();
    }
  });

  it('names what is wrong in a bad message', () => {
    expect(() => decodeLifecycle(new Uint8Array([0x92, 0x01]))).toThrow(/MessagePack/);
    expect(() => decodeLifecycle(encode([{ e: 'active' }]))).toThrow(/expected \{ n: string, v: array \}/);
    expect(() => decodeLifecycle(encode({ n: 'x', v: [['active', 'k', 'i', 1], ['gone', 'k', 'i', 2]] }))).toThrow(/from x: event 1 /);
  });
});
