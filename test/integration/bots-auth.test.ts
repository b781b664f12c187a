/**
 * The lobby bots against a gateway in token mode: each bot connects with its own token (as `gatehouse bots
 * --token-key` mints them: one account per bot, owning its Capcom ID), logs in and plays; a bot given another
 * bot's ID (so not its own) is refused NOT_YOUR_ID.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lobbyApp } from '../../lobby/index.js';
import { botCapcomId, LobbyBot } from '../../lobby/bot.js';
import { createEmbedded } from '../../server/node.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { connect, type GatehouseClient } from '../../client/node.js';
import { testKeys, type TestKeys } from '../support/auth.js';

describe('lobby bots with authentication on', () => {
  let keys: TestKeys;
  let gw: GatewayNode;
  const clients: GatehouseClient[] = [];
  const bots: LobbyBot[] = [];
  beforeAll(async () => {
    keys = await testKeys();
    gw = await startGatewayNode({ apps: [lobbyApp], embedded: createEmbedded(), gateway: { auth: keys.auth() } });
  });
  afterAll(async () => {
    for (const b of bots) await b.stop();
    for (const c of clients) await c.close();
    await gw?.stop();
    await keys?.dispose();
  });

  const botOn = async (index: number, ownId: string) => {
    const token = await keys.token({ sub: `bot-${ownId}`, capcomIds: [ownId] });
    const client = await connect({ url: gw.wsUrl, token });
    clients.push(client);
    const bot = new LobbyBot(client, { index, idPrefix: 'T', relayHz: 1, wanderMs: 60_000, chatMs: 60_000, gates: 4 });
    bots.push(bot);
    return bot;
  };

  it('bots with tokens for their own IDs log in; one whose token lists another ID is refused', async () => {
    for (let i = 1; i <= 3; i++) await (await botOn(i, botCapcomId('T', i))).start();
    expect(bots.every((b) => b.stats.loggedIn)).toBe(true);
    const impostor = await botOn(4, botCapcomId('T', 1));
    await expect(impostor.start()).rejects.toMatchObject({ code: 'NOT_YOUR_ID' });
  });
});
