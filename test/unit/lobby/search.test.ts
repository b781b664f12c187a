/**
 * The search indexes on their pure machines: player search by Capcom ID substring or name (case-insensitive),
 * newer updates win over older ones (a late put cannot resurrect a logged-out player), entries nobody refreshes
 * are dropped after two sweeps; city search by goal, seeking text, HR and room left.
 */
import { describe, expect, it } from 'vitest';
import { cityIndexMachine } from '../../../lobby/city-index.machine.js';
import { playerIndexMachine } from '../../../lobby/player-index.machine.js';
import { pure, reply } from '../../support/lobby-pure.js';

describe('player index shard', () => {
  const put = (id: string, name: string, seq = 1, loc = ['s01', 's01-g01']) => ({ type: 'put', id, name, loc, seq });

  it('finds online players by Capcom ID substring or name, case-insensitively, with their location', () => {
    const x = pure(playerIndexMachine, { id: 'p0', sweepMs: 15_000 });
    x.send(put('AB12CD', 'Rathalos'));
    x.send(put('ZZ9999', 'rathian', 1, ['s02']));
    x.send(put('QQQQQQ', 'Nargacuga'));
    const q = (s: string) => (reply(x.send({ type: 'query', q: s, limit: 10 }))!.body as { hits: Array<{ id: string }> }).hits.map((h) => h.id).sort();
    expect(q('RATH')).toEqual(['AB12CD', 'ZZ9999']);
    expect(q('b12c')).toEqual(['AB12CD']);
    expect(q('naRGa')).toEqual(['QQQQQQ']);
    expect(q('nobody')).toEqual([]);
    expect(reply(x.send({ type: 'query', q: 'ZZ9', limit: 10 }))!.body).toEqual({ hits: [{ id: 'ZZ9999', name: 'rathian', loc: ['s02'] }], more: false });
    expect(reply(x.send({ type: 'query', q: 'a', limit: 1 }))!.body).toMatchObject({ more: true });
  });

  it('keeps the newest update: a late put from before a logout does not bring the player back', () => {
    const x = pure(playerIndexMachine, { id: 'p0', sweepMs: 15_000 });
    x.send(put('AB12CD', 'Rathalos', 3, ['s01']));
    x.send(put('AB12CD', 'Rathalos', 2, ['s09']));
    expect(x.snapshot.context.entries.get('AB12CD')?.loc).toEqual(['s01']);
    x.send({ type: 'del', id: 'AB12CD', seq: 4 });
    x.send(put('AB12CD', 'Rathalos', 3, ['s01']));
    expect(x.snapshot.context.entries.has('AB12CD')).toBe(false);
    x.send(put('AB12CD', 'Rathalos', 5, ['s03']));
    expect(x.snapshot.context.entries.get('AB12CD')?.loc).toEqual(['s03']);
  });

  it('drops entries nobody refreshed for two sweeps (a lost logout)', () => {
    const x = pure(playerIndexMachine, { id: 'p0', sweepMs: 1000 });
    x.send(put('AAAAAA', 'stale'));
    x.send(put('BBBBBB', 'fresh'));
    for (let i = 0; i < 3; i++) {
      x.clock.advance(1000);
      x.send(put('BBBBBB', 'fresh'));
    }
    expect([...x.snapshot.context.entries.keys()]).toEqual(['BBBBBB']);
    expect(reply(x.send({ type: 'lookup', ids: ['AAAAAA', 'BBBBBB'] }))!.body).toEqual({ hits: [{ id: 'BBBBBB', name: 'fresh', loc: ['s01', 's01-g01'] }] });
  });
});

describe('city index', () => {
  it('finds open cities by goal, seeking, HR and room left', () => {
    const x = pure(cityIndexMachine, { id: 'Expert', cityCapacity: 4, sweepMs: 15_000 });
    const city = (id: string, n: number, goal: string, seeking: string, hrMin = 31, hrMax = 999) => ({
      type: 'put',
      city: id,
      n,
      state: 'open',
      leader: 'L',
      settings: { hrMin, hrMax, goal, seeking },
      circles: 0,
    });
    x.send(city('s07-g01-c01', 2, 'Alatreon', 'gunners'));
    x.send(city('s08-g05-c03', 4, 'alatreon', 'anyone'));
    x.send(city('s09-g40-c40', 1, 'Jhen Mohran', 'Gunners', 100, 999));
    const q = (o: Record<string, unknown>) =>
      (reply(x.send({ type: 'query', goal: '', seeking: '', hr: 0, joinable: false, limit: 50, ...o }))!.body as { hits: Array<{ city: string }> }).hits.map((h) => h.city).sort();
    expect(q({ goal: 'ALATREON' })).toEqual(['s07-g01-c01', 's08-g05-c03']);
    expect(q({ goal: 'alatreon', joinable: true })).toEqual(['s07-g01-c01']);
    expect(q({ seeking: 'gunner' })).toEqual(['s07-g01-c01', 's09-g40-c40']);
    expect(q({ hr: 50 })).toEqual(['s07-g01-c01', 's08-g05-c03']);
    x.send({ type: 'del', city: 's07-g01-c01' });
    expect(q({ goal: 'alatreon' })).toEqual(['s08-g05-c03']);
  });
});
