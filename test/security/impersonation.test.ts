/**
 * Attack: impersonation. `lobby.login` took the Capcom ID from the request body and checked nothing, so once its
 * owner logged out anyone logged in as it and saw its friends. Now an account may use only the IDs it owns: those its
 * token lists, or those it claimed by logging in first (one account, several hunters); another account gets
 * NOT_YOUR_ID and never holds the ID.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAccountsRig, type AccountsRig } from '../support/lobby-accounts.js';

describe('impersonation (security)', () => {
  let a: AccountsRig;
  beforeAll(async () => {
    a = await startAccountsRig('imp');
  });
  afterAll(async () => {
    await a?.stop();
  });

  it('another account cannot log in as a Capcom ID claimed by its owner, before or after the owner logs out', async () => {
    const alice = a.as('alice', 1);
    await alice.call('lobby.login', { capcomId: 'ALICE1', name: 'Alice', hr: 50 });
    const mallory = a.as('mallory', 2);
    await expect(mallory.call('lobby.login', { capcomId: 'ALICE1', name: 'Alice', hr: 50 })).rejects.toMatchObject({ code: 'NOT_YOUR_ID' });
    await alice.call('lobby.logout');
    await expect(mallory.call('lobby.login', { capcomId: 'ALICE1', name: 'Alice', hr: 50 })).rejects.toMatchObject({ code: 'NOT_YOUR_ID' });
    expect(mallory.ctx.session.identity).toBeUndefined();
    // Nothing of Alice's leaked: Mallory's session is not logged in as anyone.
    await expect(mallory.call('lobby.whoami')).rejects.toMatchObject({ code: 'NOT_LOGGED_IN' });
  });

  it('one account owns several hunters; its own IDs log in again', async () => {
    const bob = a.as('bob', 3);
    await bob.call('lobby.login', { capcomId: 'BOBBY1', name: 'Bob', hr: 10 });
    await bob.call('lobby.logout');
    await bob.call('lobby.login', { capcomId: 'BOBBY2', name: 'Bob2', hr: 10 });
    await bob.call('lobby.logout');
    await expect(bob.call('lobby.login', { capcomId: 'BOBBY1', name: 'Bob', hr: 10 })).resolves.toMatchObject({ id: 'BOBBY1' });
  });

  it("a token listing Capcom IDs allows those only, and its issuer's list decides over an earlier claim", async () => {
    const carol = a.as('carol', 4, ['CAROL1']);
    await expect(carol.call('lobby.login', { capcomId: 'CAROL2', name: 'Carol', hr: 10 })).rejects.toMatchObject({ code: 'NOT_YOUR_ID' });
    await expect(carol.call('lobby.login', { capcomId: 'CAROL1', name: 'Carol', hr: 10 })).resolves.toMatchObject({ id: 'CAROL1' });
    await carol.call('lobby.logout');
    // Someone who claims CAROL1 without a list is refused: Carol's login recorded her as the owner.
    await expect(a.as('dave', 5).call('lobby.login', { capcomId: 'CAROL1', name: 'D', hr: 1 })).rejects.toMatchObject({ code: 'NOT_YOUR_ID' });
  });
});
