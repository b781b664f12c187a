/**
 * A move must not hang on a bus flush that never answers (a connection stuck reconnecting): the new owner's flush of
 * its fresh subscriptions is bounded by the probe timeout, and the move is aborted, leaving the old owner serving.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TimeoutError } from '../../common/errors.js';
import { OPTS, UNIT, twoNodes as nodes, until, within, type TwoNodesOptions } from './migration-harness.js';

describe('live migration: a stuck flush [memory]', () => {
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const s of stops.splice(0).reverse()) await within(s(), 'stopping a host or bus');
  });
  const twoNodes = (o: TwoNodesOptions = {}) => nodes(stops, o);

  it('aborts the move-in after the probe timeout instead of waiting for the flush forever', async () => {
    const { a, b, busB, clock, migB, ask } = await twoNodes();
    expect(await ask('h', { type: 'inc' })).toBe(1);
    vi.spyOn(busB, 'flush').mockImplementation(() => new Promise<void>(() => undefined));
    const timers = clock.pending;
    let failed: unknown;
    migB.moveIn('A', [UNIT], 'm1').catch((e: unknown) => (failed = e));
    expect(await until(() => clock.pending > timers)).toBe(true); // the flush's bound is set
    clock.advance(OPTS.probeTimeoutMs - 1);
    expect(await until(() => failed !== undefined)).toBe(false);
    clock.advance(1);
    expect(await until(() => failed !== undefined)).toBe(true);
    expect(failed).toBeInstanceOf(TimeoutError);
    expect(String(failed)).toMatch(/move-in: flushing the new subscriptions: no answer within 5000 ms/);
    expect(b.ownsShard(UNIT.kind, UNIT.shard)).toBe(false);
    expect(a.moving.size).toBe(0);
    expect(await ask('h', { type: 'inc' })).toBe(2); // still served by the old owner
  });
});
