/**
 * Attack: room fill. A crowded chat room made a newcomer's enter fail: the answer listing every member was larger than
 * a frame (FRAME_TOO_LARGE) while the newcomer had been seated anyway, and rooms had no size limit. Now a room holds at
 * most `chat.maxMembers` (an enter past it is ROOM_FULL and changes nothing: the session stays where it was), and
 * enter and members answers list at most `chat.memberListLimit` names with the room's `count` (`chat.members` pages
 * through the rest). The frame here is 3 KiB so that a room of 110 full-length names overflows it, as a room of
 * ~1 900 would overflow the default 64 KiB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type GatehouseClient } from '../../client/node.js';
import { CHAT_DEFAULTS, createChatApp } from '../../chat/index.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { createEmbedded } from '../../server/node.js';
import { connectPomelo } from '../support/pomelo-client.js';

const MAX_MEMBERS = 120;
const LIST = 40;
const ROOM = 'crowded';
const name = (i: number) => `member-${String(i).padStart(25, '0')}`; // 32 characters, the longest name

describe('room fill', () => {
  let gw: GatewayNode;
  const clients: GatehouseClient[] = [];
  beforeAll(async () => {
    gw = await startGatewayNode({
      apps: [createChatApp({ ...CHAT_DEFAULTS, maxMembers: MAX_MEMBERS, memberListLimit: LIST })],
      embedded: createEmbedded(),
      gateway: { maxFrameBytes: 3072 },
    });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await gw?.stop();
  });
  async function client() {
    const c = await connect({ url: gw.wsUrl });
    clients.push(c);
    return c;
  }
  const room = (id: string) => ({ kind: 'chat-room', id });
  /** Members seated straight through the room actor (sessions of nobody): the crowd, cheaply. */
  async function crowd(from: number, to: number) {
    for (let i = from; i < to; i++) {
      await gw.node.host.client.ask(room(ROOM), { type: 'enter', session: `crowd-${i}`, name: name(i), conn: { gw: 'nowhere', id: `c${i}` } });
    }
  }
  const count = async () => (await gw.node.host.client.ask<{ count: number }>(room(ROOM), { type: 'members' })).count;

  it('a newcomer to a crowded room gets a capped list, and pages through the rest', async () => {
    await crowd(0, 110);
    const c = await client();
    const r = await c.request<{ users: string[]; count: number }>('chat.enter', { name: 'newcomer', room: ROOM });
    expect(r.users).toHaveLength(LIST);
    expect(r.count).toBe(111);
    const page = await c.request<{ users: string[]; count: number }>('chat.members', { offset: 100, limit: 40 });
    expect(page.users).toEqual([...Array.from({ length: 10 }, (_, i) => name(100 + i)), 'newcomer']);
  });

  it('a full room refuses the next enter with ROOM_FULL and nothing half-done', async () => {
    await crowd(110, MAX_MEMBERS - 1); // the newcomer above is the 111th member
    expect(await count()).toBe(MAX_MEMBERS);
    const c = await client();
    await c.request('chat.enter', { name: 'elsewhere', room: 'quiet' });
    await expect(c.request('chat.enter', { name: 'late', room: ROOM })).rejects.toMatchObject({ code: 'ROOM_FULL' });
    expect(await count()).toBe(MAX_MEMBERS);
    // Still seated where it was.
    expect(await c.request('chat.members')).toMatchObject({ room: 'quiet', name: 'elsewhere', users: ['elsewhere'], count: 1 });
    // Pomelo's chat sample gets Pomelo's error shape.
    const p = await connectPomelo(gw.pomeloWsUrl);
    expect(await p.request('connector.entryHandler.enter', { username: 'pomelo', rid: ROOM })).toMatchObject({ code: 500, error: 'ROOM_FULL' });
    await p.close();
    expect(await count()).toBe(MAX_MEMBERS);
  });
});
