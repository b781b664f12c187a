/**
 * Relays fanned out at the gateways (`lobby.relayFanout`, lobby/relay-channels.ts, gateway/channels.ts), on two
 * in-process gateway nodes (A also the worker, B gateway only) over the in-memory bus and over a real nats-server,
 * with SDK clients on real sockets: a relay reaches the players standing in the sender's layer on both gateways and
 * nobody else, in order, as one `fan.<channel>` message and no message to the layer actor; relays follow a move; a
 * gateway subscribes to a layer's channel only while one of its connections stands there (a closed connection
 * leaves); a session resumed on the other gateway hears relays again before it sends anything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../bus/bus.js';
import { connect, type GatehouseClient } from '../../client/node.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { startNatsServer, type NatsServerHandle } from '../../dev/nats-server.js';
import { eventually } from '../../dev/wait.js';
import { createLobbyApp, LOBBY_DEFAULTS, LobbyPush } from '../../lobby/index.js';
import { createEmbedded, type Embedded } from '../../server/node.js';
import { createNatsBus } from '../../bus/nats/nats-bus.js';

const TREE = { ...LOBBY_DEFAULTS, relayFanout: true, refreshMs: 300_000 };
const GATEWAY = { requestsPerSecond: 10_000, requestBurst: 10_000 };

for (const mode of ['memory', 'nats'] as const) {
  describe(`lobby relays fanned out at the gateways (${mode})`, { timeout: 60_000 }, () => {
    let nats: NatsServerHandle | undefined;
    let embedded: Embedded | undefined;
    let a: GatewayNode;
    let b: GatewayNode;
    let tap: Bus;
    const clients: GatehouseClient[] = [];
    /** Messages seen on the bus by subject family, while `counting`. */
    const seen = { fan: 0, city: 0, gate: 0 };
    const prefix = `fan${mode}`;

    beforeAll(async () => {
      if (mode === 'nats') nats = await startNatsServer();
      else embedded = createEmbedded();
      const where = nats ? { natsUrl: nats.url } : { embedded };
      a = await startGatewayNode({ apps: [createLobbyApp(TREE)], ...where, prefix, id: `${prefix}-a`, gateway: GATEWAY });
      b = await startGatewayNode({ apps: [createLobbyApp(TREE)], ...where, prefix, id: `${prefix}-b`, roles: ['gateway'], gateway: GATEWAY });
      tap = nats ? await createNatsBus({ prefix, servers: [nats.url] }) : embedded!.broker.connect({ prefix });
      tap.subscribe('fan.>', () => seen.fan++);
      tap.subscribe('lobby-gate.>', () => seen.gate++);
      tap.subscribe('lobby-city.>', () => seen.city++);
      await tap.flush();
    });
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await tap?.close();
      await b?.stop();
      await a?.stop();
      await nats?.stop();
    });

    /** A logged-in player on gateway `gw` standing in `layer`, collecting the relays it hears. */
    async function player(gw: GatewayNode, n: number, layer: string, reconnect = true) {
      const c = await connect({ url: gw.wsUrl, reconnect });
      clients.push(c);
      const got: Array<{ f: string; d: unknown }> = [];
      c.on(LobbyPush.relay, (body) => got.push(body as { f: string; d: unknown }));
      await c.request('lobby.login', { capcomId: `FAN${mode === 'nats' ? 'N' : 'M'}${String(n).padStart(2, '0')}`, name: `Fan${n}`, hr: 10 });
      await c.request('lobby.enter', { layer });
      return { c, got, id: `FAN${mode === 'nats' ? 'N' : 'M'}${String(n).padStart(2, '0')}` };
    }
    const channelsOf = (gw: GatewayNode) => gw.gateway!.status!() as { channels: number; channelsPublished: number };

    it('reaches the players standing in the layer on both gateways, nobody else, in order, without the layer actor', async () => {
      const s1 = await player(a, 1, 's01-g01');
      const s2 = await player(a, 2, 's01-g01');
      const s3 = await player(b, 3, 's01-g01');
      const far = await player(b, 4, 's01-g02');
      await Promise.all([a, b].map((g) => g.node.bus.flush()));
      const before = { ...seen };
      for (let i = 0; i < 20; i++) expect(await s1.c.request('lobby.relay', { d: new Uint8Array([i, 9]) })).toBeNull();
      await eventually(() => s2.got.length === 20 && s3.got.length === 20, { timeoutMs: 10_000, what: 'both receivers hear every relay' });
      for (const r of [s2, s3]) {
        expect(r.got.map((x) => (x.d as Uint8Array)[0])).toEqual(Array.from({ length: 20 }, (_, i) => i));
        expect(r.got.every((x) => x.f === s1.id)).toBe(true);
      }
      // One marker from another sender after them: once it is in, nothing of the 20 is still on its way to the others.
      await s3.c.request('lobby.relay', { d: 'end' });
      await eventually(() => s1.got.length === 1 && s2.got.length === 21, { timeoutMs: 10_000, what: 'the marker' });
      expect(s1.got).toEqual([{ f: s3.id, d: 'end' }]); // never its own relays back
      expect(s3.got).toHaveLength(20);
      expect(far.got).toEqual([]);
      expect(seen.fan - before.fan).toBe(21); // one bus message per relay, whatever the audience
      expect(seen.gate - before.gate).toBe(0); // the layer actor never saw them
      expect(channelsOf(a).channelsPublished + channelsOf(b).channelsPublished).toBeGreaterThanOrEqual(21);
    });

    it('follows moves, and a gateway holds a layer channel only while one of its connections stands there', async () => {
      const m1 = await player(a, 11, 's01-g03', false);
      const m2 = await player(b, 12, 's01-g03');
      const base = { a: channelsOf(a).channels, b: channelsOf(b).channels };
      await m2.c.request('lobby.enter', { layer: 's01-g04' });
      // B's last member of s01-g03 left: B no longer subscribes to it; it joined s01-g04 instead.
      expect(channelsOf(b).channels).toBe(base.b);
      await m1.c.request('lobby.relay', { d: 'old layer' });
      const m3 = await player(a, 13, 's01-g04');
      await m3.c.request('lobby.relay', { d: 'new layer' });
      await eventually(() => m2.got.length === 1, { timeoutMs: 10_000, what: 'the mover hears its new layer' });
      expect(m2.got).toEqual([{ f: m3.id, d: 'new layer' }]);
      // A lost connection leaves its channel on its own: its session lives on (the grace period), and its end may
      // run on another gateway.
      const before = channelsOf(a).channels;
      m1.c.drop();
      await eventually(() => channelsOf(a).channels === before - 1, { timeoutMs: 10_000, what: 'gateway A leaves s01-g03' });
    });

    it('a session resumed on the other gateway hears relays again before it sends anything', async () => {
      const r1 = await player(a, 21, 's02-g01');
      const r2 = await player(a, 22, 's02-g01', false);
      const fan0 = seen.fan;
      await r1.c.request('lobby.relay', { d: 'before' });
      await eventually(() => r2.got.length === 1, { timeoutMs: 10_000, what: 'the first relay' });
      // A's channel publishes wait for its tick (gateway.channelTickMs): the first relay must have left A before B
      // joins, or B would hand the resumed connection a relay sent before the resume.
      await eventually(() => seen.fan > fan0, { timeoutMs: 10_000, what: 'the first relay on the bus' });
      // The same session through gateway B (its ticket): A's connection is replaced, B joins the layer's channel.
      const resumed = await connect({ url: b.wsUrl, ticket: r2.c.ticket!, reconnect: false });
      clients.push(resumed);
      const got: unknown[] = [];
      resumed.on(LobbyPush.relay, (body) => got.push((body as { d: unknown }).d));
      await eventually(async () => {
        await r1.c.request('lobby.relay', { d: 'after' });
        return got.includes('after');
      }, { timeoutMs: 15_000, intervalMs: 200, what: 'the resumed session hears relays on gateway B' });
      expect(got.every((d) => d === 'after')).toBe(true);
    });
  });
}

describe('lobby relays with relayFanout off', { timeout: 60_000 }, () => {
  it('go through the layer actor, and no gateway channel is used', async () => {
    const embedded = createEmbedded();
    const g = await startGatewayNode({ apps: [createLobbyApp({ ...LOBBY_DEFAULTS, relayFanout: false, refreshMs: 300_000 })], embedded, prefix: 'nofan', gateway: GATEWAY });
    const tap = embedded.broker.connect({ prefix: 'nofan' });
    let fan = 0;
    let gate = 0;
    tap.subscribe('fan.>', () => fan++);
    tap.subscribe('lobby-gate.>', () => gate++);
    const cs: GatehouseClient[] = [];
    try {
      const got: unknown[] = [];
      for (const n of [1, 2]) {
        const c = await connect({ url: g.wsUrl });
        cs.push(c);
        await c.request('lobby.login', { capcomId: `NOFAN${n}`, name: `N${n}`, hr: 10 });
        await c.request('lobby.enter', { layer: 's01-g01' });
      }
      cs[1]!.on(LobbyPush.relay, (body) => got.push((body as { d: unknown }).d));
      const gateBefore = gate;
      await cs[0]!.request('lobby.relay', { d: 'x' });
      await eventually(() => got.length === 1, { timeoutMs: 10_000, what: 'the relay' });
      expect(fan).toBe(0);
      expect(gate - gateBefore).toBe(1);
      expect((g.gateway!.status!() as { channels: number }).channels).toBe(0);
    } finally {
      await Promise.all(cs.map((c) => c.close().catch(() => undefined)));
      await tap.close();
      await g.stop();
    }
  });
});
