/**
 * 2 000 WebSocket clients held at once by one gateway, every one of them exchanging requests, plus one push fanned
 * out to all of them (one bus message for the gateway, one frame per connection). Counts only, no timing asserts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type GatehouseClient } from '../../client/node.js';
import { createEmbedded } from '../../server/node.js';
import { createEchoApp } from '../../dev/echo-app.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { eventually } from '../../dev/wait.js';

const CLIENTS = 2000;
const REQUESTS_EACH = 5;
// Generous timeouts and modest batches: the suite shares two cores with other work, and the test counts, not times.
const BATCH = 100;

describe(`${CLIENTS} concurrent WebSocket clients`, () => {
  let gw: GatewayNode;
  const clients: GatehouseClient[] = [];
  beforeAll(async () => {
    gw = await startGatewayNode({ apps: [createEchoApp()], embedded: createEmbedded() });
  });
  afterAll(async () => {
    for (let i = 0; i < clients.length; i += BATCH) await Promise.all(clients.slice(i, i + BATCH).map((c) => c.close()));
    await gw?.stop();
  }, 60_000);

  it('holds them all, answers every request of every client, and reaches all with one push', async () => {
    for (let i = 0; i < CLIENTS; i += BATCH) {
      clients.push(...(await Promise.all(Array.from({ length: Math.min(BATCH, CLIENTS - i) }, () => connect({ url: gw.wsUrl, reconnect: false, connectTimeoutMs: 60_000, requestTimeoutMs: 60_000 })))));
    }
    expect(gw.gateway!.connections).toBe(CLIENTS);

    const answers = await Promise.all(
      clients.map(async (c, i) => {
        const got = await Promise.all(Array.from({ length: REQUESTS_EACH }, (_, n) => c.request('echo', { i, n })));
        return got.every((g, n) => (g as { i: number; n: number }).i === i && (g as { n: number }).n === n);
      }),
    );
    expect(answers.filter(Boolean)).toHaveLength(CLIENTS);

    const conns = await Promise.all(clients.map((c) => c.request<{ node: string; conn: string }>('whoami')));
    let received = 0;
    for (const c of clients) c.on('everyone', () => received++);
    gw.node.host.client.tell(
      { kind: 'pusher', id: 'broadcast' },
      { type: 'push', to: conns.map((w) => ({ gw: w.node, id: w.conn })), route: 'everyone', body: { hi: 'all' } },
    );
    await eventually(() => received === CLIENTS, { timeoutMs: 60_000, what: `the push to reach all ${CLIENTS} clients` });
    expect(gw.gateway!.metrics.requests).toBeGreaterThanOrEqual(CLIENTS * (REQUESTS_EACH + 1));
  }, 240_000);
});
