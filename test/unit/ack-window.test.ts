import { describe, expect, it } from 'vitest';
import { AckWindow } from '../../cluster/ack-window.js';
import { ManualClock } from '../../common/clock.js';

/** Whether `p` has settled, after the microtasks queued so far. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await Promise.resolve();
  await Promise.resolve();
  return done;
}

describe('AckWindow (hand-over flow control)', () => {
  it('opens while fewer than `limit` actors are unacknowledged, and again once an ack brings them below', async () => {
    const w = new AckWindow(new ManualClock(), 200, 1000);
    expect(await settled(w.open())).toBe(true);
    w.sent('tally.0', 150);
    expect(await settled(w.open())).toBe(true); // 150 < 200
    w.sent('tally.1', 150);
    const blocked = w.open();
    expect(await settled(blocked)).toBe(false); // 300 in flight
    w.acked('tally.9'); // not one of ours: nothing changes
    w.acked(42);
    expect(await settled(blocked)).toBe(false);
    w.acked('tally.0');
    expect(await settled(blocked)).toBe(true); // 150 left
    w.acked('tally.0'); // a duplicate ack counts once
    w.sent('tally.2', 60);
    expect(await settled(w.open())).toBe(false); // 210 in flight
  });

  it('counts actors, not shards: empty units never hold it', async () => {
    const w = new AckWindow(new ManualClock(), 1, 1000);
    for (let i = 0; i < 50; i++) w.sent(`counter.${i}`, 0);
    expect(await settled(w.open())).toBe(true);
  });

  it('goes on after `waitMs` without an ack: acks pace, they do not guard', async () => {
    const clock = new ManualClock();
    const w = new AckWindow(clock, 10, 1000);
    w.sent('tally.0', 10);
    const blocked = w.open();
    clock.advance(999);
    expect(await settled(blocked)).toBe(false);
    clock.advance(1);
    expect(await settled(blocked)).toBe(true);
  });
});
