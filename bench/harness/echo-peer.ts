/**
 * The far side of the host calibration (hop-cost.ts): a TCP echo server on loopback. Each chunk read is written back
 * as it is, so one small message costs this process one read and one write, as a message relayed by a node does.
 */
import { createServer, type Socket } from 'node:net';
import { servePeer } from './peer-protocol.js';

const sockets = new Set<Socket>();
const server = createServer((s) => {
  sockets.add(s);
  s.setNoDelay(true);
  s.on('data', (d) => s.write(d));
  s.on('error', () => undefined);
  s.on('close', () => sockets.delete(s));
});

await servePeer({
  setup: () =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as { port: number }).port }));
    }),
  commands: {},
  close: () => {
    for (const s of sockets) s.destroy();
    server.close();
  },
});
