/**
 * Attack: lock-out. An attacker logged in as someone else's Capcom ID while its owner was away and held it, so the
 * owner's own login got ALREADY_LOGGED_IN. With ownership the attacker cannot log in as it at all (NOT_YOUR_ID,
 * checked before the cluster-wide identity claim), so the ID is never held and the owner logs in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAccountsRig, type AccountsRig } from '../support/lobby-accounts.js';

describe('lock-out (security)', () => {
  let a: AccountsRig;
  beforeAll(async () => {
    a = await startAccountsRig('lockout');
  });
  afterAll(async () => {
    await a?.stop();
  });

  it('an attacker cannot hold the owner\'s ID: the owner logs in while the attacker\'s session stays open', async () => {
    const alice = a.as('alice', 1);
    await alice.call('lobby.login', { capcomId: 'ALICE1', name: 'Alice', hr: 50 });
    await alice.call('lobby.logout');
    const mallory = a.as('mallory', 2);
    for (let i = 0; i < 3; i++) {
      await expect(mallory.call('lobby.login', { capcomId: 'ALICE1', name: 'Alice', hr: 50 })).rejects.toMatchObject({ code: 'NOT_YOUR_ID' });
    }
    expect(mallory.ctx.session.identity).toBeUndefined();
    const again = a.as('alice', 3);
    await expect(again.call('lobby.login', { capcomId: 'ALICE1', name: 'Alice', hr: 50 })).resolves.toMatchObject({ id: 'ALICE1', online: true });
  });
});
