/**
 * Attack: one host opens sockets until the gateway runs out of memory or file descriptors. Before the bounds nothing
 * limited connections per gateway or per remote address. Now a socket past `gateway.maxConnectionsPerAddress` (or
 * past `gateway.maxConnections`) is refused at accept with close 4202 and a reason, in each protocol's own way (a
 * WebSocket close, a native TCP `close` frame, a Pomelo kick), counted in the metrics; the address's other
 * connections go on working, and the counts return to where they started when the sockets close.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEchoApp } from '../../dev/echo-app.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { eventually } from '../../dev/wait.js';
import { createEmbedded } from '../../server/node.js';
import { rawConnect, type RawClient } from '../support/native-raw.js';
import { connectPomelo } from '../support/pomelo-client.js';

const PER_ADDRESS = 4;

describe('connection limits', () => {
  let gw: GatewayNode;
  let capped: GatewayNode;
  beforeAll(async () => {
    const embedded = createEmbedded();
    // Loopback is exempt by default (local proxies, load tests): this gateway counts it like any address.
    gw = await startGatewayNode({
      apps: [createEchoApp()],
      embedded,
      gateway: { maxConnectionsPerAddress: PER_ADDRESS, connectionLimitExempt: [] },
    });
    capped = await startGatewayNode({ apps: [createEchoApp()], embedded: createEmbedded(), gateway: { maxConnections: 2 } });
  });
  afterAll(async () => {
    await gw?.stop();
    await capped?.stop();
  });
  const status = (n: GatewayNode) => n.gateway!.status!() as { connections: number; addresses: number; refusedAddress: number; refusedGateway: number };

  it(`refuses connection ${PER_ADDRESS + 1} from one address with 4202, the others unaffected; counts return to the start`, async () => {
    const start = status(gw);
    const held: RawClient[] = [];
    for (let i = 0; i < PER_ADDRESS; i++) {
      const c = await rawConnect(i % 2 ? gw.tcpUrl : gw.wsUrl);
      await c.hello();
      held.push(c);
    }
    expect(status(gw).connections).toBe(start.connections + PER_ADDRESS);

    const ws = await rawConnect(gw.wsUrl);
    expect(await ws.closed).toBe(4202);
    const tcp = await rawConnect(gw.tcpUrl);
    expect(await tcp.closed).toBe(4202);
    expect(tcp.frames).toContainEqual({ type: 'close', code: 4202, reason: 'too many connections from this address' });
    const pomelo = await connectPomelo(gw.pomeloWsUrl).catch((e: unknown) => e);
    expect(pomelo).toBeInstanceOf(Error); // kicked before any handshake answer
    expect(status(gw).refusedAddress).toBe(start.refusedAddress + 3);

    // The address's admitted connections still work.
    for (const [i, c] of held.entries()) expect((await c.request(i + 1, 'echo', { i })).body).toEqual({ i });

    for (const c of held) c.destroy();
    await eventually(() => status(gw).connections === start.connections, { what: 'the connection gauge back at its start' });
    expect(status(gw).addresses).toBe(start.addresses);
    // And the address may connect again.
    const again = await rawConnect(gw.wsUrl);
    await again.hello();
    again.destroy();
  });

  it('refuses past gateway.maxConnections whatever the address (loopback exemption does not apply)', async () => {
    const a = await rawConnect(capped.wsUrl);
    const b = await rawConnect(capped.tcpUrl);
    await a.hello();
    await b.hello();
    const c = await rawConnect(capped.wsUrl);
    expect(await c.closed).toBe(4202);
    expect(status(capped).refusedGateway).toBe(1);
    a.destroy();
    b.destroy();
    await eventually(() => status(capped).connections === 0, { what: 'all closed' });
  });
});
