/**
 * Heartbeats on an injected ManualClock: a silent client is closed with HEARTBEAT_TIMEOUT at 2× the interval while
 * a pinging one stays; its session is detached, kept for the grace period, then ended (onSessionEnd runs, the
 * identity is free again, the ticket resumes nothing): no ghost players. Time only moves when the test says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { createEmbedded } from '../../server/node.js';
import { createEchoApp, type SessionEndRecord } from '../../dev/echo-app.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { rawConnect } from '../support/native-raw.js';
import { connectPomelo } from '../support/pomelo-client.js';
import { eventually } from '../../dev/wait.js';

const H = 1000;
const GRACE = 5000;

describe('heartbeat and session grace on a ManualClock', () => {
  const clock = new ManualClock();
  let gw: GatewayNode;
  const ended: SessionEndRecord[] = [];
  beforeAll(async () => {
    gw = await startGatewayNode({
      apps: [createEchoApp({ onEnd: (e) => ended.push(e) })],
      embedded: createEmbedded(clock),
      clock,
      gateway: { heartbeatMs: H, sessionGraceMs: GRACE },
    });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  async function sessionInfo(id: string) {
    return gw.node.host.client.ask<{ attached: boolean; identity?: string }>({ kind: 'session', id }, { type: 'info' });
  }

  it('closes the silent client, keeps the pinging one, and ends the silent one’s session after the grace period', async () => {
    const silent = await rawConnect(gw.wsUrl);
    const welcome = await silent.hello();
    expect(welcome.heartbeatMs).toBe(H);
    await silent.request(1, 'login', { name: 'hb-user' });
    await silent.request(2, 'remember', { note: 'left behind' });

    const alive = await rawConnect(gw.tcpUrl);
    await alive.hello();
    const ping = async () => {
      const before = alive.frames.filter((f) => f.type === 'pong').length;
      alive.send({ type: 'ping' });
      await alive.next((f) => f.type === 'pong' && alive.frames.filter((x) => x.type === 'pong').length > before);
    };
    await ping();

    clock.advance(1500);
    expect(silent.isClosed).toBe(false);
    await ping(); // the live client's deadline moves on; the silent one's stays at 2H after its last frame
    clock.advance(600);

    expect(await silent.next((f) => f.type === 'error')).toMatchObject({ code: 'HEARTBEAT_TIMEOUT' });
    expect(await silent.closed).toBe(4005);
    expect(alive.isClosed).toBe(false);
    expect(await alive.request(3, 'echo', 'still here')).toMatchObject({ body: 'still here' });

    // Detached, not ended: the grace period runs on the same clock.
    await eventually(async () => (await sessionInfo(welcome.session)).attached === false, { what: 'session detached' });
    expect(ended.find((e) => e.session === welcome.session)).toBeUndefined();

    // The live client keeps pinging while the grace period passes.
    for (let t = 0; t < GRACE; t += H) {
      await ping();
      clock.advance(H);
    }
    const end = await eventually(() => ended.find((e) => e.session === welcome.session), { what: 'onSessionEnd' });
    expect(end).toMatchObject({ identity: 'hb-user', data: { note: 'left behind' } });

    // The identity is free, and the old ticket resumes nothing.
    expect(await alive.request(4, 'login', { name: 'hb-user' })).toMatchObject({ body: { identity: 'hb-user' } });
    const late = await rawConnect(gw.wsUrl);
    expect((await late.hello(welcome.ticket)).resumed).toBe(false);
    late.destroy();
    alive.destroy();
  });

  it('closes a silent Pomelo client after 2× its heartbeat', async () => {
    const p = await connectPomelo(gw.pomeloWsUrl);
    expect(p.handshake.sys?.heartbeat).toBe(1);
    expect(await p.request('echo', { up: true })).toEqual({ up: true }); // the handshake-ack has been processed
    clock.advance(2100);
    await p.closed;
    expect(p.kicked).toBeDefined();
  });
});
