/**
 * A city tells its gate and the city index of itself only when its summary (count, state, leader, settings, number of
 * circles) changed (issue 16): a circle's joins, ready flags and departures change the circle list the members see,
 * not the summary, and used to send a report the gate dropped as unchanged plus an index put, per circle change.
 */
import { describe, expect, it } from 'vitest';
import { cityMachine } from '../../lobby/city.machine.js';
import { hunter, pure, pushes, tells } from '../support/lobby-pure.js';

const input = { id: 's07-g03-c09', serverType: 'Expert' as const, capacity: 4, circleSlots: 4, reservationMs: 40_000, refreshMs: 15_000 };
const settings = { hrMin: 31, hrMax: 200, goal: 'Alatreon', seeking: 'gunners' };
const reports = (fx: ReturnType<ReturnType<typeof pure>['send']>) => [...tells(fx, 'lobby-gate'), ...tells(fx, 'lobby-cindex')];

describe('city reports on circle changes', () => {
  it('reports a circle opening and closing, not its members, state or leader changing', () => {
    const c = pure(cityMachine, input);
    c.send({ type: 'reserve', p: hunter(1, 50) });
    c.send({ type: 'open', p: hunter(1, 50), settings });
    c.send({ type: 'circleOpen', p: hunter(1, 50), password: '', goal: 'g' });
    const created = c.send({ type: 'circleCreated', ok: true, body: { state: 'forming' } });
    expect(reports(created).map((t) => t.msg)).toMatchObject([{ type: 'report', circles: 1 }, { type: 'put', circles: 1 }]);

    for (const change of [
      { n: 2, state: 'forming' as const, leader: 'Hunter1' },
      { n: 2, state: 'departed' as const, leader: 'Hunter1' },
      { n: 1, state: 'departed' as const, leader: 'Hunter2' },
    ]) {
      const fx = c.send({ type: 'circleReport', slot: 1, closed: false, ...change });
      expect(pushes(fx, 'lobby.onCircles')).toHaveLength(1); // the members see it
      expect(reports(fx)).toEqual([]); // the gate and the index have nothing new to hear
    }
    expect(c.snapshot.context.circles[1]).toMatchObject({ n: 1, state: 'departed', leader: 'Hunter2' });

    const closed = c.send({ type: 'circleReport', slot: 1, n: 0, state: 'departed', leader: '', closed: true });
    expect(reports(closed).map((t) => t.msg)).toMatchObject([{ type: 'report', circles: 0 }, { type: 'put', circles: 0 }]);
  });
});
