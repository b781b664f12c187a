/**
 * Connection trouble is a status stream, not an exception: the NATS bus surfaces disconnect and reconnect to the
 * caller when its server goes away and comes back, and keeps working afterwards.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createNatsBus } from '../../bus/nats/nats-bus.js';
import type { Bus, BusStatus } from '../../bus/bus.js';
import { startNatsServer, type NatsServerHandle } from '../../dev/nats-server.js';
import { deferred } from '../../dev/wait.js';

describe('NATS bus status events', () => {
  let server: NatsServerHandle | undefined;
  let bus: Bus | undefined;
  afterEach(async () => {
    await bus?.close();
    await server?.stop();
  });

  it('reports disconnect and reconnect when the server restarts on the same port', async () => {
    server = await startNatsServer();
    const port = server.port;
    bus = await createNatsBus({ prefix: 'st', servers: [server.url], reconnectTimeWaitMs: 50 });
    const seen: BusStatus['type'][] = [];
    const disconnected = deferred();
    const reconnected = deferred();
    bus.onStatus((s) => {
      seen.push(s.type);
      if (s.type === 'disconnect') disconnected.resolve();
      if (s.type === 'reconnect') reconnected.resolve();
    });
    await server.kill();
    await disconnected.promise;
    server = await startNatsServer({ port });
    await reconnected.promise;
    expect(seen).toContain('disconnect');
    expect(seen.indexOf('reconnect')).toBeGreaterThan(seen.indexOf('disconnect'));
    // Still works: request/reply across the reconnected connection.
    const b = bus;
    b.subscribe('echo', (m) => b.respond(m, m.data));
    await b.flush();
    const r = await b.request('echo', new Uint8Array([7]));
    expect([...r.data]).toEqual([7]);
  });

  it('fails to connect with an error naming the servers', async () => {
    await expect(
      createNatsBus({ prefix: 'st', servers: ['nats://127.0.0.1:1'], connectTimeoutMs: 500 }),
    ).rejects.toThrow(/nats:\/\/127\.0\.0\.1:1/);
  });
});
