/**
 * Back-pressure: a client that stops reading (its socket paused) while pushes keep coming is disconnected once its
 * outbound buffer passes the limit (SLOW_CONSUMER), and meanwhile every other client completes all its requests and
 * receives all its pushes. Bounded counts, no timing asserts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type GatehouseClient } from '../../client/node.js';
import { createEmbedded } from '../../server/node.js';
import { createEchoApp } from '../../dev/echo-app.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { captureLogger } from '../support/hosts.js';
import { rawConnect } from '../support/native-raw.js';
import { collector, eventually } from '../../dev/wait.js';

const OTHERS = 20;
const REQUESTS_EACH = 100;
const PUSHES_EACH = 20;

describe('slow readers', () => {
  let gw: GatewayNode;
  const { log, lines } = captureLogger();
  const clients: GatehouseClient[] = [];
  beforeAll(async () => {
    gw = await startGatewayNode({
      apps: [createEchoApp()],
      embedded: createEmbedded(),
      log,
      gateway: { outboundLimitBytes: 256 * 1024, requestsPerSecond: 10_000, requestBurst: 10_000 },
    });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await gw?.stop();
  });

  for (const transport of ['ws', 'tcp'] as const) {
    it(`disconnects a paused ${transport} reader with SLOW_CONSUMER while others keep going`, async () => {
      const slowBefore = gw.gateway!.metrics.slowConsumers;
      const slow = await rawConnect(transport === 'ws' ? gw.wsUrl : gw.tcpUrl);
      await slow.hello();
      const me = (await slow.request(1, 'whoami')) as { body: { conn: string; node: string } };
      const conn = { gw: me.body.node, id: me.body.conn };
      slow.socket.pause();

      const others = await Promise.all(Array.from({ length: OTHERS }, () => connect({ url: gw.wsUrl, reconnect: false })));
      clients.push(...others);
      const work = others.map(async (c, i) => {
        const pushes = collector<unknown>(PUSHES_EACH, 30_000);
        c.on('flood', (b) => pushes.push(b));
        let ok = 0;
        for (let n = 0; n < REQUESTS_EACH; n++) {
          if ((await c.request('echo', { i, n })) !== null) ok++;
          if (n === REQUESTS_EACH / 2) await c.request('flood', { n: PUSHES_EACH, size: 100 });
        }
        return { ok, pushes: (await pushes.done).length };
      });

      // Flood the paused reader, in rounds, until the gateway gives up on it (kernel buffers absorb the first MBs).
      const actors = gw.node.host.client;
      let rounds = 0;
      await eventually(
        () => {
          if (gw.gateway!.metrics.slowConsumers > slowBefore) return true;
          if (rounds++ < 60) actors.tell({ kind: 'pusher', id: 'slow' }, { type: 'flood', to: conn, n: 20, size: 60_000, route: 'flood' });
          return false;
        },
        { timeoutMs: 20_000, intervalMs: 50, what: 'the slow consumer to be detected' },
      );

      const results = await Promise.all(work);
      expect(results).toEqual(Array.from({ length: OTHERS }, () => ({ ok: REQUESTS_EACH, pushes: PUSHES_EACH })));
      expect(gw.gateway!.metrics.slowConsumers).toBe(slowBefore + 1);
      expect(lines.some((l) => l.msg === 'slow consumer: closing' && l.conn === conn.id)).toBe(true);

      // Its connection is gone on the server; reading again, the client finds the end of the stream.
      slow.socket.resume();
      await slow.closed;
      await eventually(async () => {
        try {
          await actors.ask({ kind: 'conn', id: conn.id, node: conn.gw }, { type: 'ping' });
          return false;
        } catch (err) {
          return (err as { code?: string }).code === 'ACTOR_STOPPED';
        }
      }, { what: 'the connection actor to leave' });
      await Promise.all(others.map((c) => c.close()));
    });
  }
});
