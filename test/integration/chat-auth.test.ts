/**
 * Chat with authentication on (gateway.auth.mode token, no anonymous apps): the Pomelo sample flow with the token in
 * the handshake's `user`, a native SDK client passing `token` to connect, both in one room; the same SDK client
 * with an expired token is refused (4100, no reconnect loop). The runs without auth stay in chat-pomelo.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatApp } from '../../chat/index.js';
import { lobbyApp } from '../../lobby/index.js';
import { createEmbedded } from '../../server/node.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { connect } from '../../client/node.js';
import { connectPomelo, type PomeloTestClient } from '../support/pomelo-client.js';
import { testKeys, type TestKeys } from '../support/auth.js';

describe('chat with authentication on (token mode)', () => {
  let keys: TestKeys;
  let gw: GatewayNode;
  const open: PomeloTestClient[] = [];
  beforeAll(async () => {
    keys = await testKeys();
    gw = await startGatewayNode({ apps: [chatApp, lobbyApp], embedded: createEmbedded(), gateway: { auth: keys.auth() } });
  });
  afterAll(async () => {
    for (const c of open) c.destroy();
    await gw?.stop();
    await keys?.dispose();
  });

  it('runs the Pomelo sample flow with user.token and shares the room with an SDK client using token', async () => {
    const pomelo = async (sub: string) => {
      const c = await connectPomelo(gw.pomeloWsUrl, { user: { token: await keys.token({ sub }) } });
      open.push(c);
      return c;
    };
    const ann = await pomelo('ann');
    const ben = await pomelo('ben');
    expect(await ann.request('connector.entryHandler.enter', { username: 'ann', rid: 'auth' })).toMatchObject({ users: ['ann'] });
    expect(await ben.request('connector.entryHandler.enter', { username: 'ben', rid: 'auth' })).toMatchObject({ users: ['ann', 'ben'] });
    await ben.request('chat.chatHandler.send', { rid: 'auth', content: 'hello', from: 'ben', target: '*' });
    expect(await ann.waitPush('onChat')).toEqual({ msg: 'hello', from: 'ben', target: '*' });

    const web = await connect({ url: gw.wsUrl, token: await keys.token({ sub: 'web', capcomIds: ['WEB001'] }) });
    try {
      const got = new Promise((r) => web.on('onChat', r));
      expect(await web.request('chat.enter', { name: 'web', room: 'auth' })).toMatchObject({ users: ['ann', 'ben', 'web'] });
      await ann.request('chat.chatHandler.send', { content: 'hi web', target: '*' });
      expect(await got).toEqual({ msg: 'hi web', from: 'ann', target: '*' });
      // The same connection logs in to the lobby as the Capcom ID its token lists.
      expect(await web.request('lobby.login', { capcomId: 'WEB001', name: 'Web', hr: 5 })).toMatchObject({ id: 'WEB001' });
    } finally {
      await web.close();
    }
  });

  it('an SDK client with an expired token is refused with 4100 and does not retry', async () => {
    const token = await keys.token({ sub: 'late', ttlSec: 60 }, Date.now() - 3_600_000);
    await expect(connect({ url: gw.wsUrl, token, connectTimeoutMs: 5000 })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });
});
