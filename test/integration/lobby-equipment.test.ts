/**
 * Equipment as a typed field beside the 256-byte profile: a weapon type from the fixed list, set at login or with
 * lobby.status, shown in the public record and in player search results; anything else is BAD_REQUEST naming the
 * field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../dev/wait.js';
import { startAccountsRig, type AccountsRig } from '../support/lobby-accounts.js';

describe('lobby equipment', () => {
  let a: AccountsRig;
  beforeAll(async () => {
    a = await startAccountsRig('equip');
  });
  afterAll(async () => {
    await a?.stop();
  });

  it('keeps the weapon type, shows it to others and in search, and refuses unknown types', async () => {
    const ann = a.as('ann', 1);
    const ben = a.as('ben', 2);
    await expect(ann.call('lobby.login', { capcomId: 'ANN001', name: 'Ann', hr: 9, weapon: 'bazooka' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('weapon must be one of great-sword'),
    });
    expect(await ann.call('lobby.login', { capcomId: 'ANN001', name: 'Ann', hr: 9, weapon: 'hammer' })).toMatchObject({ weapon: 'hammer' });
    await ann.call('lobby.enter', { layer: 's01' });
    await ben.call('lobby.login', { capcomId: 'BEN001', name: 'Ben', hr: 9 });
    expect(await ben.call('lobby.profile.get', { id: 'ANN001' })).toMatchObject({ weapon: 'hammer' });
    expect(await ann.call('lobby.status', { weapon: 'lance' })).toMatchObject({ weapon: 'lance', hr: 9 });
    await ann.call('lobby.enter', { layer: 's01-g01' }); // a move refreshes the search index entry
    await eventually(
      async () => {
        const r = await ben.call<{ hits: Array<{ id: string; weapon?: string | null }> }>('lobby.search.players', { q: 'ANN' });
        return r.hits.some((h) => h.id === 'ANN001' && h.weapon === 'lance');
      },
      { timeoutMs: 5000, what: 'search shows the weapon' },
    );
    await expect(ann.call('lobby.status', { weapon: 7 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});
