/**
 * The Pomelo chat sample's flow against a real gateway (embedded bus, real sockets), with a client whose codec is
 * pinus-protocol, an independent implementation of the Pomelo protocol: handshake with the route dictionary,
 * queryEntry at the "gate", enter at the "connector", chat to everyone and to one user, onAdd/onChat/onLeave pushes,
 * a duplicate name refused the sample's way, and leaving the room when the socket drops. Over WebSocket and TCP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatApp } from '../../chat/index.js';
import { createEmbedded } from '../../server/node.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { connectPomelo, type PomeloTestClient } from '../support/pomelo-client.js';

describe('Pomelo chat sample against gatehouse', () => {
  let gw: GatewayNode;
  const open: PomeloTestClient[] = [];
  beforeAll(async () => {
    gw = await startGatewayNode({ apps: [chatApp], embedded: createEmbedded() });
  });
  afterAll(async () => {
    for (const c of open) c.destroy();
    await gw?.stop();
  });

  async function client(url: string) {
    const c = await connectPomelo(url);
    open.push(c);
    return c;
  }

  for (const transport of ['ws', 'tcp'] as const) {
    it(`runs the sample's whole flow over ${transport}`, async () => {
      const url = transport === 'ws' ? gw.pomeloWsUrl : gw.pomeloTcpUrl;
      const rid = `room-${transport}`;

      // The gate: where should "ann" connect? The sample client reconnects to that host and port.
      const gate = await client(url);
      expect(gate.handshake.code).toBe(200);
      const dict = gate.handshake.sys?.dict ?? {};
      for (const r of ['gate.gateHandler.queryEntry', 'connector.entryHandler.enter', 'chat.chatHandler.send', 'onChat', 'onAdd', 'onLeave']) {
        expect(dict[r], `${r} in the route dictionary`).toBeGreaterThan(0);
      }
      const entry = await gate.request<{ code: number; host: string; port: number }>('gate.gateHandler.queryEntry', { uid: 'ann' });
      expect(entry).toEqual({ code: 200, host: expect.any(String), port: gw.gateway!.ports.pomeloWs });
      expect(await gate.request('gate.gateHandler.queryEntry', {})).toEqual({ code: 500 });
      await gate.close();

      const ann = await client(url);
      const ben = await client(url);
      expect(await ann.request('connector.entryHandler.enter', { username: 'ann', rid })).toEqual({ users: ['ann'], count: 1 });
      expect(await ben.request('connector.entryHandler.enter', { username: 'ben', rid })).toEqual({ users: ['ann', 'ben'], count: 2 });
      expect(await ann.waitPush('onAdd')).toEqual({ user: 'ben' });

      // Same name in the same room: the sample's answer, which its client shows as "duplicate user name".
      const dup = await client(url);
      expect(await dup.request('connector.entryHandler.enter', { username: 'ann', rid })).toEqual({ code: 500, error: true });

      // To everyone: both get it, signed with the session's name whatever `from` claims.
      expect(await ben.request('chat.chatHandler.send', { rid, content: 'hello', from: 'mallory', target: '*' })).toEqual({
        route: 'chat.chatHandler.send',
      });
      const hello = { msg: 'hello', from: 'ben', target: '*' };
      expect(await ann.waitPush('onChat')).toEqual(hello);
      expect(await ben.waitPush('onChat')).toEqual(hello);

      // To one: only the addressee.
      await ann.request('chat.chatHandler.send', { rid, content: 'psst', from: 'ann', target: 'ben' });
      expect(await ben.waitPush('onChat', (b) => b.msg === 'psst')).toEqual({ msg: 'psst', from: 'ann', target: 'ben' });
      await ann.request('chat.chatHandler.send', { rid, content: 'after', from: 'ann', target: '*' });
      await ann.waitPush('onChat', (b) => b.msg === 'after');
      expect(ann.pushes.filter((p) => p.route === 'onChat').map((p) => p.body.msg)).toEqual(['hello', 'after']);

      // Bad input gets an error answer, never a dropped connection.
      expect(await ben.request('chat.chatHandler.send', { rid, target: '*' })).toMatchObject({ code: 500, error: 'BAD_REQUEST' });
      expect(await ben.request('chat.chatHandler.send', { rid, content: 'x', target: 'nobody' })).toMatchObject({ code: 500, error: 'NO_SUCH_USER' });

      // The sample leaves the room when the socket goes: dropping ann's connection tells ben, and frees the name.
      ann.destroy();
      expect(await ben.waitPush('onLeave')).toEqual({ user: 'ann' });
      expect(await dup.request('connector.entryHandler.enter', { username: 'ann', rid })).toEqual({ users: ['ben', 'ann'], count: 2 });
      expect(await ben.waitPush('onAdd', (b) => b.user === 'ann')).toEqual({ user: 'ann' });
    });
  }

  it('lets a Pomelo client and a native SDK client share a room', async () => {
    const { connect } = await import('../../client/node.js');
    const web = await connect({ url: gw.wsUrl });
    try {
      const pom = await client(gw.pomeloTcpUrl);
      await pom.request('connector.entryHandler.enter', { username: 'pom', rid: 'mixed' });
      const got = new Promise((r) => web.on('onChat', r));
      expect(await web.request('chat.enter', { name: 'web', room: 'mixed' })).toEqual({ users: ['pom', 'web'], count: 2 });
      expect(await pom.waitPush('onAdd')).toEqual({ user: 'web' });
      await pom.request('chat.chatHandler.send', { content: 'hi web', target: '*' });
      expect(await got).toEqual({ msg: 'hi web', from: 'pom', target: '*' });
      await web.request('chat.send', { content: 'hi pom', target: 'pom' });
      expect(await pom.waitPush('onChat', (b) => b.from === 'web')).toEqual({ msg: 'hi pom', from: 'web', target: 'pom' });
    } finally {
      await web.close();
    }
  });
});
