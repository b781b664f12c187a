/**
 * Attack: creating actors and records by reading. Reading 1 900 never-seen player ids created 1 900 player actors
 * (+20 MB heap) and, for writes through them, durable records. Now a read of an unknown id answers NOT_FOUND and
 * leaves nothing behind: the player kind's `ifMissing` answers before the actor starts (no activation, no cell kept,
 * no record written). Records are created only by their owner's login.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAccountsRig, type AccountsRig } from '../support/lobby-accounts.js';
import { K } from '../../lobby/tree.js';

const READS = 1900;
const unknownId = (i: number) => `Z${String(i).padStart(5, '0')}`;

describe('actor and record creation by reads (security)', () => {
  let a: AccountsRig;
  beforeAll(async () => {
    a = await startAccountsRig('reads');
  });
  afterAll(async () => {
    await a?.stop();
  });

  it(`${READS} reads of never-seen ids answer NOT_FOUND and create 0 actors and 0 records`, async () => {
    const reader = a.as('reader', 1);
    await reader.call('lobby.login', { capcomId: 'READER', name: 'Reader', hr: 10 });
    const host = a.rig.host;
    const actorsBefore = host.cells.activeCount(K.player);
    const activationsBefore = host.metrics.activations;
    const routes: Array<[string, (id: string) => Record<string, unknown>]> = [
      ['lobby.profile.get', (id) => ({ id })],
      ['lobby.friends.request', (id) => ({ to: id })],
      ['lobby.tell', (id) => ({ to: id, text: 'hi' })],
    ];
    const codes = new Map<string, number>();
    for (let i = 0; i < READS; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, j) => {
          const [route, body] = routes[(i + j) % routes.length]!;
          const code = await reader.call(route, body(unknownId(i + j))).then(
            () => 'OK',
            (e: { code?: string }) => e.code ?? '?',
          );
          codes.set(code, (codes.get(code) ?? 0) + 1);
        }),
      );
    }
    expect(Object.fromEntries(codes)).toEqual({ NOT_FOUND: READS });
    expect(host.cells.activeCount(K.player) - actorsBefore).toBe(0);
    expect(host.metrics.activations - activationsBefore).toBe(0);
    let records = 0;
    for (let i = 0; i < READS; i++) if (await host.snapshots!.load(K.player, unknownId(i))) records++;
    expect(records).toBe(0);
    // The reader's own record kept nothing either: no friend request went out to nobody.
    expect(await reader.call('lobby.friends')).toMatchObject({ sent: [] });
  });
});
