/**
 * Sessions across two gateways on a real nats-server (gateway A also the worker holding session and identity actors,
 * gateway B gateway-only): duplicate login refused or kicking the older session (config `gateway.duplicateLogin`),
 * and a resume that displaces a connection still attached to the session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type GatehouseClient } from '../../client/node.js';
import { createEchoApp, type SessionEndRecord } from '../../dev/echo-app.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { startNatsServer, type NatsServerHandle } from '../../dev/nats-server.js';
import { rawConnect } from '../support/native-raw.js';
import { eventually } from '../../dev/wait.js';

describe('sessions across two gateways (NATS)', () => {
  let nats: NatsServerHandle;
  const nodes: GatewayNode[] = [];
  const clients: GatehouseClient[] = [];
  const ended: SessionEndRecord[] = [];
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    for (const n of nodes.reverse()) await n.stop();
    await nats?.stop();
  });

  async function pair(prefix: string, duplicateLogin: 'refuse' | 'kick'): Promise<[GatewayNode, GatewayNode]> {
    const app = createEchoApp({ onEnd: (e) => ended.push(e) });
    const gateway = { duplicateLogin };
    const a = await startGatewayNode({ apps: [app], natsUrl: nats.url, prefix, id: `${prefix}-a`, gateway });
    nodes.push(a);
    const b = await startGatewayNode({ apps: [app], natsUrl: nats.url, prefix, id: `${prefix}-b`, roles: ['gateway'], gateway });
    nodes.push(b);
    return [a, b];
  }
  async function client(url: string, o: { reconnect?: boolean } = {}) {
    const c = await connect({ url, ...o });
    clients.push(c);
    return c;
  }

  it('refuses a second login of an identity through another gateway until the first logs out', async () => {
    const [a, b] = await pair('dupr', 'refuse');
    const first = await client(a.wsUrl);
    const second = await client(b.tcpUrl);
    await first.request('login', { name: 'dana' });
    await expect(second.request('login', { name: 'dana' })).rejects.toMatchObject({ code: 'ALREADY_LOGGED_IN' });
    expect(await first.request('whoami')).toMatchObject({ identity: 'dana' });
    await first.request('logout');
    expect(await second.request('login', { name: 'dana' })).toEqual({ identity: 'dana' });
    expect(await second.request('whoami')).toMatchObject({ identity: 'dana', node: 'dupr-b' });
  });

  it('kicks the older session instead when configured: closed with 4102, its session ended', async () => {
    const [a, b] = await pair('dupk', 'kick');
    const first = await client(a.wsUrl);
    await first.request('login', { name: 'kim' });
    const firstSession = first.session!;
    const closed = new Promise<{ code: number }>((r) => first.onEvent('close', r));
    const second = await client(b.wsUrl);
    expect(await second.request('login', { name: 'kim' })).toEqual({ identity: 'kim' });
    expect((await closed).code).toBe(4102);
    await eventually(() => ended.some((e) => e.session === firstSession && e.identity === 'kim'), { what: 'onSessionEnd of the kicked session' });
    expect(await second.request('whoami')).toMatchObject({ identity: 'kim', node: 'dupk-b' });
    // The kicked session is gone for good: its ticket starts a new session.
    const late = await rawConnect(a.wsUrl);
    expect((await late.hello(first.ticket)).resumed).toBe(false);
    late.destroy();
  });

  it('a resume through the other gateway replaces a connection still attached to the session (4102)', async () => {
    const [a, b] = await pair('dupres', 'refuse');
    const old = await rawConnect(a.wsUrl);
    const w = await old.hello();
    await old.request(1, 'login', { name: 'rita' });
    const fresh = await rawConnect(b.tcpUrl);
    const w2 = await fresh.hello(w.ticket);
    expect(w2).toMatchObject({ resumed: true, session: w.session });
    expect(w2.ticket).not.toBe(w.ticket);
    expect(await old.closed).toBe(4102);
    expect(await fresh.request(2, 'whoami')).toMatchObject({ body: { identity: 'rita', node: 'dupres-b' } });
    // A ticket works once: the one just used is spent.
    const again = await rawConnect(b.wsUrl);
    expect((await again.hello(w.ticket)).resumed).toBe(false);
    again.destroy();
    fresh.destroy();
  });
});
