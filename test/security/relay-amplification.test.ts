/**
 * Attack: relay amplification. A relay is pushed to everyone standing in the sender's layer; the 512-byte cap applied
 * only to binary `d`, so a 60 000-character string was accepted (1.3 MB sent became 12.7 MB delivered to 10
 * receivers, and slow receivers were evicted). Now the cap (`lobby.relayMaxBytes`, 512) is on the payload's
 * MessagePack encoding whatever its type: a maximum-size relay of each type is delivered, one byte more is
 * BAD_REQUEST naming the limit, and no receiver ever gets an oversized payload. Refusals are counted by code in the
 * gateway's metrics (`gatehouse_gateway_request_errors_total{code="BAD_REQUEST"}`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type GatehouseClient } from '../../client/node.js';
import { encode } from '../../bus/codec.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { eventually } from '../../dev/wait.js';
import { createLobbyApp, LOBBY_DEFAULTS, LobbyPush } from '../../lobby/index.js';
import { createEmbedded } from '../../server/node.js';

const MAX = LOBBY_DEFAULTS.relayMaxBytes;
const RECEIVERS = 3;

describe('relay amplification', () => {
  let gw: GatewayNode;
  const clients: GatehouseClient[] = [];
  const received: unknown[][] = [];
  let sender: GatehouseClient;
  beforeAll(async () => {
    gw = await startGatewayNode({ apps: [createLobbyApp(LOBBY_DEFAULTS)], embedded: createEmbedded(), gateway: { requestsPerSecond: 10_000, requestBurst: 10_000 } });
    for (let i = 0; i <= RECEIVERS; i++) {
      const c = await connect({ url: gw.wsUrl });
      clients.push(c);
      await c.request('lobby.login', { capcomId: `RELAY${i}`, name: `Relay${i}`, hr: 10 });
      await c.request('lobby.enter', { layer: 's01' });
      if (i > 0) {
        const got: unknown[] = [];
        received.push(got);
        c.on(LobbyPush.relay, (b) => got.push((b as { d: unknown }).d));
      }
    }
    sender = clients[0]!;
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await gw?.stop();
  });

  it('delivers maximum-size relays of every type and refuses one byte more as BAD_REQUEST', async () => {
    // MessagePack headers: bin 16 and str 16 take 3 bytes, so 509 bytes of payload encode to exactly 512.
    const atMax = [new Uint8Array(MAX - 3).fill(7), 'x'.repeat(MAX - 3), { t: 'y'.repeat(MAX - 6) }];
    const over = [new Uint8Array(MAX - 2), 'x'.repeat(MAX - 2), { t: 'y'.repeat(MAX - 5) }, 'z'.repeat(60_000), ['é'.repeat(300)]];
    for (const d of atMax) expect(encode(d).length).toBe(MAX);
    for (const d of over) expect(encode(d).length).toBeGreaterThan(MAX);

    for (const d of atMax) expect(await sender.request('lobby.relay', { d })).toBeNull();
    for (const d of over) {
      await expect(sender.request('lobby.relay', { d })).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining(`${MAX} bytes`) });
    }
    // A marker after the refusals: once it has arrived everywhere, everything sent before it has too (one sender, in order).
    await sender.request('lobby.relay', { d: 'end' });
    await eventually(() => received.every((r) => r.at(-1) === 'end'), { what: 'every receiver has the marker' });
    for (const r of received) {
      expect(r).toHaveLength(atMax.length + 1);
      for (const d of r) expect(encode(d).length).toBeLessThanOrEqual(MAX);
    }
    const errors = (gw.gateway!.status!() as { errors: Record<string, number> }).errors;
    expect(errors.BAD_REQUEST).toBeGreaterThanOrEqual(over.length);
  });

  it('the layer actor refuses an oversized relay told on the bus too (a route is not the only way in)', async () => {
    const before = received.map((r) => r.length);
    const host = gw.node.host;
    await expect(host.client.ask({ kind: 'lobby-server', id: 's01' }, { type: 'relay', from: 'RELAY0', d: 'q'.repeat(5000) })).rejects.toMatchObject({ code: 'BAD_MESSAGE' });
    await sender.request('lobby.relay', { d: 'end2' });
    await eventually(() => received.every((r) => r.at(-1) === 'end2'), { what: 'the second marker' });
    expect(received.map((r) => r.length)).toEqual(before.map((n) => n + 1));
  });
});
