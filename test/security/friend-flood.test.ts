/**
 * Attack: friend-request lock-out. 120 friend requests from throw-away ids made the victim's login answer (its
 * record, friends and pending requests) larger than a frame: the client got FRAME_TOO_LARGE although the login had
 * succeeded on the server. Now a record keeps at most `lobby.maxPendingFriendRequests` (50) incoming requests; later
 * ones are declined (their senders hear `friendDeclined`, so their own lists do not fill either), and every list in the
 * login answer is capped below the frame. The frame here is 3 KiB so that 120 requests overflow it as 64 KiB would
 * with longer lists; the victim logs in, sees the first 50 requests and can answer them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type GatehouseClient } from '../../client/node.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { eventually } from '../../dev/wait.js';
import { createLobbyApp, LOBBY_DEFAULTS } from '../../lobby/index.js';
import { createEmbedded } from '../../server/node.js';

const ATTACKERS = 120;
const VICTIM = 'VICTIM';
const attacker = (i: number) => `A${String(i).padStart(5, '0')}`;

describe('friend-request flood', () => {
  let gw: GatewayNode;
  beforeAll(async () => {
    gw = await startGatewayNode({
      apps: [createLobbyApp(LOBBY_DEFAULTS)],
      embedded: createEmbedded(),
      gateway: { maxFrameBytes: 3072, requestsPerSecond: 10_000, requestBurst: 10_000 },
    });
  });
  afterAll(async () => {
    await gw?.stop();
  });
  const lists = (id: string) =>
    gw.node.host.client.ask<{ friends: unknown[]; pending: unknown[]; sent: string[] }>({ kind: 'lobby-player', id }, { type: 'friends' });

  it(`${ATTACKERS} requests from throw-away ids leave the victim able to log in`, async () => {
    const victim = await connect({ url: gw.wsUrl });
    await victim.request('lobby.login', { capcomId: VICTIM, name: 'Victim', hr: 10 });
    await victim.close();

    for (let i = 0; i < ATTACKERS; i++) {
      const c: GatehouseClient = await connect({ url: gw.wsUrl });
      // Names of the full 16 characters: the most each pending entry can weigh.
      await c.request('lobby.login', { capcomId: attacker(i), name: `Throwaway${String(i).padStart(7, '0')}`, hr: 1 });
      await c.request('lobby.friends.request', { to: VICTIM });
      await c.close();
    }
    const cap = LOBBY_DEFAULTS.maxPendingFriendRequests;
    await eventually(async () => (await lists(VICTIM)).pending.length === cap, { what: `${cap} pending requests` });
    // The requests past the cap were declined: their senders' lists are clean again.
    await eventually(async () => (await lists(attacker(ATTACKERS - 1))).sent.length === 0, { what: 'the last attacker declined' });
    expect((await lists(VICTIM)).pending).toHaveLength(cap);

    const again = await connect({ url: gw.wsUrl });
    const login = await again.request<{ pending: Array<{ id: string }> }>('lobby.login', { capcomId: VICTIM, name: 'Victim', hr: 10 });
    expect(login.pending).toHaveLength(cap);
    // And can answer them.
    await again.request('lobby.friends.decline', { from: login.pending[0]!.id });
    expect((await again.request<{ pending: unknown[] }>('lobby.friends')).pending).toHaveLength(cap - 1);
    await again.close();
  });

  it('a player cannot hold more than the cap of unanswered requests of its own', async () => {
    const c = await connect({ url: gw.wsUrl });
    await c.request('lobby.login', { capcomId: 'SPAMMR', name: 'Spammer', hr: 1 });
    const cap = LOBBY_DEFAULTS.maxPendingFriendRequests;
    // Requests to ids nobody logged in as are declined by those records, so aim at the attackers' real records.
    for (let i = 0; i < cap; i++) await c.request('lobby.friends.request', { to: attacker(i) });
    await expect(c.request('lobby.friends.request', { to: attacker(cap) })).rejects.toMatchObject({ code: 'FRIEND_REQUESTS_FULL' });
    await c.close();
  });
});
