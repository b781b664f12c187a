/**
 * The gateway end to end in one process (embedded bus): native protocol over WebSocket and TCP through the SDK,
 * routes and error codes, pushes from an actor, sessions (login, data, resume, logout), the connection actor, and
 * the Pomelo protocol with a pinus-protocol client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type GatehouseClient } from '../../client/node.js';
import { ManualClock } from '../../common/clock.js';
import { createEmbedded } from '../../server/node.js';
import { createEchoApp, type SessionEndRecord } from '../../dev/echo-app.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { rawConnect } from '../support/native-raw.js';
import { connectPomelo } from '../support/pomelo-client.js';
import { collector, eventually } from '../../dev/wait.js';

describe('gateway basics (embedded)', () => {
  let gw: GatewayNode;
  const ended: SessionEndRecord[] = [];
  const clients: GatehouseClient[] = [];
  beforeAll(async () => {
    gw = await startGatewayNode({
      apps: [createEchoApp({ onEnd: (e) => ended.push(e) })],
      embedded: createEmbedded(),
      actors: { askTimeoutMs: 500 },
      gateway: { sessionGraceMs: 60_000 },
    });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await gw?.stop();
  });
  async function client(url = gw.wsUrl, o: Parameters<typeof connect>[0] = {}) {
    const c = await connect({ url, ...o });
    clients.push(c);
    return c;
  }

  for (const transport of ['ws', 'tcp'] as const) {
    it(`answers requests over ${transport} and maps errors to stable codes`, async () => {
      const c = await client(transport === 'ws' ? gw.wsUrl : gw.tcpUrl);
      expect(await c.request('echo', { a: [1, 'two', null] })).toEqual({ a: [1, 'two', null] });
      await expect(c.request('nope')).rejects.toMatchObject({ code: 'UNKNOWN_ROUTE' });
      await expect(c.request('fail', { code: 'ROOM_FULL' })).rejects.toMatchObject({ code: 'ROOM_FULL', message: 'asked to fail' });
      const crash = (await c.request('crash').catch((e: unknown) => e)) as Error & { code: string };
      expect(crash).toMatchObject({ code: 'INTERNAL' });
      expect(crash.message).not.toContain('secret');
      await expect(c.request('hang')).rejects.toMatchObject({ code: 'TIMEOUT' });
      expect(await c.request('echo', 'still fine')).toBe('still fine');
    });
  }

  it('delivers pushes that an actor emits, in order', async () => {
    const c = await client();
    const got = collector<{ i: number }>(50);
    c.on('flood', (b) => got.push(b as { i: number }));
    expect(await c.request('flood', { n: 50, size: 16 })).toBe(50);
    expect((await got.done).map((b) => b.i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('gives each connection an addressable actor that tracks its session', async () => {
    const c = await client();
    const me = await c.request<{ conn: string; node: string; session: string }>('whoami');
    const actors = gw.node.host.client;
    const info = await eventually(async () => {
      const i = await actors.ask<{ session?: string }>({ kind: 'conn', id: me.conn, node: me.node }, { type: 'info' });
      return i.session ? i : undefined;
    });
    expect(info).toMatchObject({ gw: me.node, id: me.conn, proto: 'native', transport: 'ws', session: me.session });
    // Any actor can push to it by address.
    const pushed = collector<unknown>(1);
    c.on('hello.there', (b) => pushed.push(b));
    actors.tell({ kind: 'conn', id: me.conn, node: me.node }, { type: 'push', route: 'hello.there', body: { x: 1 } });
    expect(await pushed.done).toEqual([{ x: 1 }]);
  });

  it('logs in, keeps data, resumes after a drop with the same identity and data, then logs out', async () => {
    const c = await client();
    await c.request('login', { name: 'ann' });
    await c.request('remember', { note: 'n1' });
    const before = await c.request<{ session: string; conn: string }>('whoami');
    const reopened = new Promise<{ resumed: boolean }>((r) => c.onEvent('open', r));
    c.drop();
    expect((await reopened).resumed).toBe(true);
    const after = await c.request<{ session: string; identity: string; note: string; conn: string }>('whoami');
    expect(after).toMatchObject({ session: before.session, identity: 'ann', note: 'n1' });
    expect(after.conn).not.toBe(before.conn);
    // A second login of the same identity elsewhere is refused while this session holds it.
    const other = await client();
    await expect(other.request('login', { name: 'ann' })).rejects.toMatchObject({ code: 'ALREADY_LOGGED_IN' });
    await c.request('logout');
    expect(ended.some((e) => e.session === before.session && e.identity === 'ann' && e.data.note === 'n1')).toBe(true);
    await other.request('login', { name: 'ann' });
  });

  it('refuses a bad ticket with a fresh session, not an error', async () => {
    const raw = await rawConnect(gw.wsUrl);
    const w = await raw.hello('nosuchsession0000.nosecret00000000');
    expect(w.resumed).toBe(false);
    raw.destroy();
  });

  it('serves Pomelo clients over WebSocket and TCP with the route dictionary and JSON pushes', async () => {
    for (const url of [gw.pomeloWsUrl, gw.pomeloTcpUrl]) {
      const p = await connectPomelo(url);
      try {
        expect(p.handshake.sys?.dict).toMatchObject({ 'echo.echoHandler.echo': 1, onEcho: 2 });
        expect(await p.request('echo.echoHandler.echo', { hi: 'there' })).toEqual({ code: 200, echo: { hi: 'there' } });
        // Native routes are reachable by name too; errors come back the way Pomelo's connector sends them.
        expect(await p.request('echo', { a: 1 })).toEqual({ a: 1 });
        expect(await p.request('nope', {})).toMatchObject({ code: 500, error: 'UNKNOWN_ROUTE' });
        await p.request('echo.echoHandler.push', { msg: 'pushed' });
        expect(await p.waitPush('onEcho')).toEqual({ msg: 'pushed' });
        const entry = await p.request<{ code: number; port: number }>('gate.gateHandler.queryEntry', { uid: 'u1' });
        expect(entry).toMatchObject({ code: 200, port: gw.gateway!.ports.pomeloWs });
      } finally {
        await p.close();
      }
    }
  });
});

describe('gateway request rate limit (ManualClock: the bucket refills only when told)', () => {
  const clock = new ManualClock();
  let gw: GatewayNode;
  beforeAll(async () => {
    gw = await startGatewayNode({
      apps: [createEchoApp()],
      embedded: createEmbedded(clock),
      clock,
      gateway: { requestsPerSecond: 2, requestBurst: 5, floodRefusalsPerSecond: 2, floodRefusalBurst: 10 },
    });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('answers RATE_LIMITED past the burst, refills at the configured rate, and cuts off a client that keeps going', async () => {
    const raw = await rawConnect(gw.tcpUrl);
    await raw.hello();
    const codes = [];
    for (let id = 1; id <= 8; id++) {
      const res = await raw.request(id, 'echo', id);
      codes.push(res.error?.code ?? 'ok');
    }
    expect(codes).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED']);
    clock.advance(1000); // two tokens back
    expect((await raw.request(9, 'echo', 9)).error).toBeUndefined();
    expect((await raw.request(10, 'echo', 10)).error).toBeUndefined();
    expect((await raw.request(11, 'echo', 11)).error?.code).toBe('RATE_LIMITED');
    // A sustained flood: more than floodRefusalBurst refusals (draining at 2/s, and the clock stands still): 4200.
    for (let id = 12; id < 12 + 12; id++) raw.send({ type: 'req', id, route: 'echo', body: id });
    expect(await raw.closed).toBe(4200);
    expect(gw.gateway!.metrics.rateLimited).toBeGreaterThanOrEqual(11);
  });
});
