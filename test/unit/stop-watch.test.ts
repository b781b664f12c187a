import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { ManualClock } from '../../common/clock.js';
import { stopWatch } from '../../server/stop-watch.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { lines, log };
}

describe('node stop watch', () => {
  it('says nothing for a quick stop', () => {
    const clock = new ManualClock();
    const { lines, log } = capture();
    const w = stopWatch(clock, log, () => undefined, 3000);
    w.step('actors: final turns and snapshots');
    clock.advance(2999);
    w.done();
    clock.advance(10_000);
    expect(lines).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  it('names the step a slow stop waits on, every period, with how long and the actors still active', () => {
    const clock = new ManualClock();
    const { lines, log } = capture();
    let left = 12;
    const w = stopWatch(clock, log, () => ({ left, waitingOn: ['lobby-city/a (active, in a turn, 0 queued)'] }), 3000);
    w.step('component cluster');
    clock.advance(1000);
    w.step('actors: final turns and snapshots');
    clock.advance(2000);
    left = 3;
    clock.advance(3000);
    w.done();
    clock.advance(9000);
    expect(lines.map((l) => [l.level, l.msg, l.step, l.stepMs, l.stopMs, l.left, l.waitingOn])).toEqual([
      [40, 'node stop still waiting on: actors: final turns and snapshots', 'actors: final turns and snapshots', 2000, 3000, 12, ['lobby-city/a (active, in a turn, 0 queued)']],
      [40, 'node stop still waiting on: actors: final turns and snapshots', 'actors: final turns and snapshots', 5000, 6000, 3, ['lobby-city/a (active, in a turn, 0 queued)']],
    ]);
  });
});
