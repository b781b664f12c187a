/**
 * A console page that opens the cluster stream while its node is stopping (the bus already closed) gets no stream,
 * and the node logs why. It used to leave the failed start as an unhandled rejection, which ends a Node process.
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../config/defaults.js';
import { MemoryBroker } from '../../bus/memory-bus.js';
import { ManualClock } from '../../common/clock.js';
import { createEmbedded } from '../../server/node.js';
import { ConsoleRoutes } from '../../server/console/routes.js';
import type { NodeContext } from '../../node-api/node.js';
import { captureLogger } from '../support/hosts.js';

describe('console cluster stream on a node whose bus is closed', () => {
  it('logs that the stream did not start; nothing is thrown', async () => {
    const control = new MemoryBroker().connect({ prefix: 'cs' });
    await control.close();
    const { log, lines } = captureLogger();
    const clock = new ManualClock();
    const ctx = { id: 'n1', config: DEFAULTS, control, store: createEmbedded(clock).kv.store('cs'), clock, log, host: { shardedKinds: () => [] } } as unknown as NodeContext;
    const routes = new ConsoleRoutes(ctx, 4);
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      routes.handle(req, res, url.pathname, url);
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    try {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const { port } = server.address() as { port: number };
      const req = http.get({ host: '127.0.0.1', port, path: '/console/events' });
      req.on('error', () => undefined);
      await expect.poll(() => lines.some((l) => l.msg === 'console: cluster stream not started'), { timeout: 15_000 }).toBe(true);
      req.destroy();
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
