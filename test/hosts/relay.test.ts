/**
 * The delaying relay (dev/hosts/relay.ts) on loopback (no root needed): bytes arrive intact and in order both ways
 * across several connections under a delay (with a buffer bound far below what is in flight, so the pausing path
 * runs), and a close crosses the relay.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { startRelay, type Relay } from '../../dev/hosts/relay.js';
import { Changes, eventually } from '../../dev/wait.js';

describe('delaying TCP relay', () => {
  let echo: Server | undefined;
  let relay: Relay | undefined;
  afterAll(async () => {
    await relay?.close();
    await new Promise<void>((r) => (echo ? echo.close(() => r()) : r()));
  });

  it('carries 3 × 2 MB both ways intact and in order with 5 ms each way; a close crosses it', { timeout: 30_000 }, async () => {
    echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo!.listen(0, '127.0.0.1', () => r()));
    const port = (echo.address() as { port: number }).port;
    relay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port }, delayMs: 5, maxBufferedBytes: 64 * 1024 });
    const rport = (relay.address as { port: number }).port;
    const one = async (seed: number) => {
      const data = Buffer.alloc(2 * 1024 * 1024);
      for (let i = 0; i < data.length; i++) data[i] = (i * 31 + seed) & 0xff;
      const s: Socket = createConnection(rport, '127.0.0.1');
      const got: Buffer[] = [];
      let n = 0;
      const changes = new Changes();
      s.on('data', (b: Buffer) => {
        got.push(b);
        n += b.length;
        changes.changed();
      });
      const closed = new Promise<void>((r) => s.once('close', () => r()));
      s.write(data);
      await changes.until(() => (n >= data.length ? true : undefined), 20_000, () => new Error(`echo: ${n} of ${data.length} bytes`));
      s.end();
      await closed;
      return Buffer.concat(got).equals(data);
    };
    expect(await Promise.all([1, 2, 3].map(one))).toEqual([true, true, true]);
    // Both sockets of each connection are closed once the close has crossed: nothing left held.
    await eventually(() => relay!.connections() === 0, { timeoutMs: 5000, what: 'the relay to close its sockets' });
  });
});
