/**
 * bench hostile, the well-behaved client: one connection, logged in, making requests (lobby.whoami: one ask of its
 * player record) one at a time at a steady rate under the rate limit, and reporting their round-trip histogram.
 *
 *   commands: rtt {ms, perSecond}
 */
import { Histogram } from '../harness/measure.js';
import { servePeer } from '../harness/peer-protocol.js';
import { openClient, paced, type WireClient } from './wire-client.js';

let c: WireClient | undefined;

await servePeer({
  async setup() {
    const url = process.argv[2]!;
    c = await openClient(url, process.argv[3] ?? '127.0.0.9');
    if (!c) throw new Error('the well-behaved client could not connect');
    const r = await c.request('lobby.login', { capcomId: 'GOOD01', name: 'Good', hr: 50 });
    if (!r.ok) throw new Error(`login refused: ${r.code}`);
    await c.request('lobby.enter', { layer: 's01-g01' });
    return {};
  },
  commands: {
    async rtt({ ms, perSecond }) {
      const hist = new Histogram();
      const failures: Record<string, number> = {};
      // Every sample (wall-clock start, µs): the bench pools them over windows and places the slowest among the
      // attackers' phases.
      const samples: Array<[number, number]> = [];
      const n = await paced(perSecond as number, ms as number, async () => {
        const at = Date.now();
        const t0 = performance.now();
        const r = await c!.request('lobby.whoami');
        const us = (performance.now() - t0) * 1000;
        if (r.ok) {
          hist.record(us);
          samples.push([at, Math.round(us)]);
        } else failures[r.code!] = (failures[r.code!] ?? 0) + 1;
      });
      return { n, hist: hist.toJSON(), failures, samples };
    },
  },
  close: () => c?.close(),
});
