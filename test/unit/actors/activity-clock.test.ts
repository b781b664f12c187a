/**
 * A cell's activity mark (activity-clock.ts): on the system clock, read once per event-loop turn; on any other clock
 * (ManualClock), read for every message.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { activityNow } from '../../../actors/runtime/activity-clock.js';
import { ActorCell } from '../../../actors/runtime/cell.js';
import type { Envelope } from '../../../actors/runtime/envelope.js';
import { ManualClock, systemClock } from '../../../common/clock.js';
import { tallyKind } from '../../support/test-kinds.js';
import { stubContext } from '../cell-harness.js';

const tell = (q: number): [Envelope, { subject: string; data: Uint8Array }] => [{ m: { type: 'inc', by: 1 }, s: 's', q }, { subject: 'x', data: new Uint8Array(0) }];

afterEach(() => {
  vi.useRealTimers();
});

describe('activity clock', () => {
  it('reads the system clock once per event-loop turn', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000);
    expect(activityNow(systemClock)).toBe(1_000);
    vi.setSystemTime(5_000);
    expect(activityNow(systemClock)).toBe(1_000); // same turn
    await Promise.resolve();
    expect(activityNow(systemClock)).toBe(5_000);
  });

  it('reads any other clock every time', () => {
    const clock = new ManualClock();
    const t0 = clock.now();
    expect(activityNow(clock)).toBe(t0);
    clock.advance(10);
    expect(activityNow(clock)).toBe(t0 + 10);
  });

  it('marks a cell on the system clock with the turn’s reading', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { ctx } = stubContext();
    const cell = new ActorCell({ ...ctx, clock: systemClock }, tallyKind, 'c');
    await Promise.resolve();
    vi.setSystemTime(2_000);
    cell.deliver(...tell(1));
    expect(cell.lastActive).toBe(2_000);
    vi.setSystemTime(3_000);
    cell.deliver(...tell(2));
    expect(cell.lastActive).toBe(2_000);
    await Promise.resolve();
    cell.deliver(...tell(3));
    expect(cell.lastActive).toBe(3_000);
  });
});
