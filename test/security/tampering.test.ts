/**
 * Attack: tampering with another player's record. Before ownership, once the owner logged out an attacker logged in
 * as its Capcom ID and deleted a friend, overwrote the profile and set HR 999. Now the attacker cannot log in as that
 * ID, and every write route acts on the caller's own record only (the session's player link), so the owner finds its
 * record as it left it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAccountsRig, type AccountsRig } from '../support/lobby-accounts.js';

describe('tampering (security)', () => {
  let a: AccountsRig;
  beforeAll(async () => {
    a = await startAccountsRig('tamper');
  });
  afterAll(async () => {
    await a?.stop();
  });

  it("a non-owner cannot delete the owner's friend, overwrite its profile or set its HR", async () => {
    const alice = a.as('alice', 1);
    const bob = a.as('bob', 2);
    await alice.call('lobby.login', { capcomId: 'ALICE1', name: 'Alice', hr: 50 });
    await bob.call('lobby.login', { capcomId: 'BOBBY1', name: 'Bob', hr: 20 });
    await alice.call('lobby.friends.request', { to: 'BOBBY1' });
    await bob.call('lobby.friends.accept', { from: 'ALICE1' });
    await alice.call('lobby.profile.write', { offset: 0, bytes: new Uint8Array([7, 7, 7]) });
    await alice.call('lobby.logout');

    const mallory = a.as('mallory', 3);
    const attempt = async () => {
      await mallory.call('lobby.login', { capcomId: 'ALICE1', name: 'Alice', hr: 1 });
      await mallory.call('lobby.friends.delete', { id: 'BOBBY1' });
      await mallory.call('lobby.profile.write', { offset: 0, bytes: new Uint8Array([6, 6, 6]) });
      await mallory.call('lobby.status', { hr: 999, status: 'pwned' });
    };
    await expect(attempt()).rejects.toMatchObject({ code: 'NOT_YOUR_ID' });
    // Logged in as its own hunter, the same routes change only Mallory's record.
    await mallory.call('lobby.login', { capcomId: 'MALL01', name: 'Mallory', hr: 1 });
    await mallory.call('lobby.friends.delete', { id: 'BOBBY1' });
    await mallory.call('lobby.status', { hr: 999 });
    // What others see of Alice is the public view: no friend list, no pending requests.
    const seen = await mallory.call<Record<string, unknown>>('lobby.profile.get', { id: 'ALICE1' });
    expect(seen).not.toHaveProperty('friends');
    expect(seen).not.toHaveProperty('pending');

    const back = await alice.call<{ hr: number; friends: Array<{ id: string }> }>('lobby.login', { capcomId: 'ALICE1', name: 'Alice', hr: 50 });
    expect(back.friends.map((f) => f.id)).toEqual(['BOBBY1']);
    const me = await alice.call<{ hr: number; status: string; profile: Uint8Array }>('lobby.profile.get');
    expect([me.hr, me.status, [...me.profile.slice(0, 3)]]).toEqual([50, '', [7, 7, 7]]);
  });
});
