/**
 * Push batches at a real gateway (embedded, native clients over WebSocket): a batch on `gw.<node>.push` reaches every
 * connection in order, a `$close` in a batch kicks after the pushes before it, malformed batches and items are counted
 * (`pushesMalformed`) and dropped without touching the valid ones; and a worker's sink with a tick batches a flood of
 * pushes into a few bus messages that arrive complete and in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type GatehouseClient } from '../../client/node.js';
import { encode } from '../../bus/codec.js';
import { subjects } from '../../bus/subjects.js';
import { CloseCode } from '../../protocol/error-codes.js';
import { createEmbedded } from '../../server/node.js';
import { createEchoApp } from '../../dev/echo-app.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { collector, eventually } from '../../dev/wait.js';
import { MAX_BATCH_PUSHES } from '../../actors/runtime/effect-sink.js';

describe('push batches at the gateway', () => {
  let gw: GatewayNode;
  const clients: GatehouseClient[] = [];
  beforeAll(async () => {
    // A 5 ms tick: pushes of one turn and of turns within a tick share bus messages.
    gw = await startGatewayNode({ apps: [createEchoApp()], embedded: createEmbedded(), actors: { pushTickMs: 5 } });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await gw?.stop();
  });

  async function client() {
    const c = await connect({ url: gw.wsUrl });
    clients.push(c);
    const me = await c.request<{ conn: string; node: string }>('whoami');
    const got: unknown[] = [];
    c.on('t', (b) => got.push(b));
    return { c, conn: me.conn, node: me.node, got };
  }
  const publish = (node: string, payload: unknown) => gw.node.bus.publish(subjects.gateway(node, 'push'), encode(payload));

  it('delivers a batch to every connection in order, dropping and counting malformed items only', async () => {
    const a = await client();
    const b = await client();
    const metrics = gw.gateway!.metrics;
    const before = metrics.pushesMalformed;
    publish(a.node, [
      { c: [a.conn, b.conn], r: 't', b: 1 },
      { c: 'not a list', r: 't', b: 'bad' },
      42,
      { c: [b.conn], r: 't', b: 2 },
      { c: [a.conn], b: 'no route' },
      { c: [a.conn, 'gone', b.conn], r: 't', b: 3 },
    ]);
    await eventually(() => a.got.length === 2 && b.got.length === 3);
    expect(a.got).toEqual([1, 3]);
    expect(b.got).toEqual([1, 2, 3]);
    expect(metrics.pushesMalformed - before).toBe(3);

    // A whole message that is not MessagePack, or an empty batch: counted, dropped; the next push still arrives.
    gw.node.bus.publish(subjects.gateway(a.node, 'push'), new Uint8Array([0xc1]));
    publish(a.node, []);
    publish(a.node, { c: [a.conn], r: 't', b: 4 });
    await eventually(() => a.got.length === 3);
    expect(a.got).toEqual([1, 3, 4]);
    expect(metrics.pushesMalformed - before).toBe(5);
  });

  it('kicks with a $close in a batch after delivering the pushes before it', async () => {
    const a = await client();
    const closed = collector<number>(1);
    a.c.onEvent('disconnect', (e) => closed.push(e.code));
    publish(a.node, [
      { c: [a.conn], r: 't', b: 'last words' },
      { c: [a.conn], r: '$close', b: { code: CloseCode.Kicked, reason: 'bye' } },
    ]);
    expect(await closed.done).toEqual([CloseCode.Kicked]);
    expect(a.got).toEqual(['last words']);
  });

  it('batches a flood from an actor into a few bus messages, every push there and in order', async () => {
    const c = await connect({ url: gw.wsUrl });
    clients.push(c);
    const me = await c.request<{ conn: string; node: string }>('whoami');
    let messages = 0;
    const tap = gw.node.bus.subscribe(subjects.gateway(me.node, 'push'), () => void messages++);
    await gw.node.bus.flush();
    const n = 2 * MAX_BATCH_PUSHES + 88;
    const got = collector<{ i: number }>(n);
    c.on('flood', (b) => got.push(b as { i: number }));
    expect(await c.request('flood', { n, size: 16 })).toBe(n);
    expect((await got.done).map((b) => b.i)).toEqual(Array.from({ length: n }, (_, i) => i));
    tap.unsubscribe();
    // Two full batches, then the rest flushed ahead of the reply.
    expect(messages).toBe(3);
  });
});
