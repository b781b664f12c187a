/**
 * Attack: one host flooding within the per-connection limits to starve everyone else. 64 sockets from one address,
 * each at the per-connection rate, offered 8x the address's shared budget; the gateway read, decoded and answered
 * every request over it (RATE_LIMITED), and a well-behaved client's requests queued behind those refusals (bench
 * hostile: its p99 several times its quiet figure). Now requests over an address's budget wait in a bounded queue
 * with that address's sockets paused: the flood costs the gateway only the requests it serves, at the budget's rate,
 * and another address's request is answered at once while the flood waits.
 *
 * Time is the injected ManualClock: nothing of the flooding address's queue moves until the test advances it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { createEchoApp } from '../../dev/echo-app.js';
import { startGatewayNode, type GatewayNode } from '../../dev/gateway-nodes.js';
import { eventually } from '../../dev/wait.js';
import { createEmbedded } from '../../server/node.js';
import { fromOtherAddress, rawConnect, type RawClient } from '../support/native-raw.js';


const RATE = 20;
const BURST = 40;
const FLOODERS = 4;
const PER_FLOODER = 40; // 160 requests at once: 2 answered at once, the saved-up burst and one more waiting, the rest refused

interface Status {
  requestsWaiting: number;
  requestsDeferred: number;
  rateLimited: number;
  requests: number;
}

describe('one address flooding within its connections limits (security)', () => {
  let gw: GatewayNode;
  const clock = new ManualClock();
  const open: RawClient[] = [];
  const closers: Array<() => void> = [];
  const status = () => gw.gateway!.status!() as unknown as Status;
  const answered = (cs: RawClient[]) => cs.reduce((n, c) => n + c.frames.filter((f) => f.type === 'res').length, 0);
  beforeAll(async () => {
    gw = await startGatewayNode({
      apps: [createEchoApp()],
      embedded: createEmbedded(),
      clock,
      // 127.0.0.1 floods; the well-behaved client comes from 127.0.0.2, another address of its own.
      gateway: { connectionLimitExempt: [], requestsPerSecondPerAddress: RATE, requestBurstPerAddress: BURST, heartbeatMs: 600_000 },
    });
  });
  afterAll(async () => {
    for (const c of open) c.destroy();
    for (const close of closers) close();
    await gw?.stop();
  });

  it("another address is answered at once while the flood waits; the flood is served at the budget's rate", async () => {
    const flood = await Promise.all(Array.from({ length: FLOODERS }, () => rawConnect(gw.wsUrl)));
    open.push(...flood);
    for (const c of flood) await c.hello();
    const good = await fromOtherAddress(gw.wsUrl);
    closers.push(good.close);

    for (const c of flood) for (let i = 1; i <= PER_FLOODER; i++) c.send({ type: 'req', id: i, route: 'echo', body: i });
    // 50 ms of the peak rate (2) is served at once; the rest waits, paced (the saved-up burst and a burst beyond
    // it at most), its sockets unread; what is read past that is refused.
    await eventually(() => status().requestsWaiting > 0 && answered(flood) >= 2, { what: 'two answered and a queue' });
    const before = status();
    expect(before.requests).toBe(2);
    expect(before.requestsWaiting).toBeLessThanOrEqual(2 * BURST - 2);

    // The clock has not moved, so the flood's queue has not moved either; the other address is served now.
    const t0 = clock.now();
    expect(await good.request(1, 'hello')).toMatchObject({ body: 'hello' });
    expect(clock.now()).toBe(t0);
    expect(status().requestsWaiting).toBe(before.requestsWaiting);

    // One second later: what waited ran, 2 x RATE at most (the saved-up burst is spent at twice the rate), no more:
    // the budget, not the offered load. (The queue moves only with the clock: it ran within advance().)
    const servedBefore = status().requests;
    const waited = status().requestsWaiting;
    clock.advance(1000);
    expect(status().requests - servedBefore).toBe(Math.min(waited, 2 * RATE));
    // Everything the flood sent is eventually answered once, served or refused; nothing is lost.
    for (let s = 0; s < 10 && answered(flood) < FLOODERS * PER_FLOODER; s++) {
      clock.advance(1000);
      await new Promise((r) => setImmediate(r));
    }
    await eventually(() => answered(flood) === FLOODERS * PER_FLOODER, { what: 'every flood request answered' });
    expect(status().requestsWaiting).toBe(0);
  });
});
